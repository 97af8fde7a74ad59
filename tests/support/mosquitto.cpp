#include "tests/support/mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace edgeflow::test {
namespace {

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// Started as root, mosquitto drops to its own user before it reads the password file and the
// TLS files: they must be readable by that user.
void make_world_readable(const std::string& path) {
    namespace fs = std::filesystem;
    fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::add);
}

}  // namespace

int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t length = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
    ::close(fd);
    return ntohs(addr.sin_port);
}

Mosquitto::Mosquitto(std::string dir, bool persistent) : dir_(std::move(dir)) {
    options_.persistent = persistent;
}

Mosquitto::Mosquitto(std::string dir, MosquittoOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

Mosquitto::~Mosquitto() {
    stop();
}

std::string Mosquitto::uri() const {
    if (options_.tls) {
        // The host name the broker's test certificate is issued for.
        return "ssl://localhost:" + std::to_string(port_);
    }
    return "tcp://127.0.0.1:" + std::to_string(port_);
}

std::string Mosquitto::client_uri() const {
    return "tcp://127.0.0.1:" + std::to_string(has_probe_listener() ? probe_port_ : port_);
}

bool Mosquitto::write_config(std::string& error) {
    const std::string passwords = dir_ + "/mosquitto.passwd";
    if (!options_.users.empty()) {
        std::filesystem::remove(passwords);
        for (std::size_t i = 0; i < options_.users.size(); ++i) {
            std::vector<std::string> argv{EDGEFLOW_MOSQUITTO_PASSWD, "-b"};
            if (i == 0) {
                argv.emplace_back("-c");  // creates the file; later users are added to it
            }
            argv.insert(argv.end(), {passwords, options_.users[i].first, options_.users[i].second});
            Process passwd(argv, dir_ + "/mosquitto_passwd");
            const auto code = passwd.wait(std::chrono::seconds(10));
            if (code.value_or(-1) != 0) {
                error = "mosquitto_passwd failed: " + passwd.err();
                return false;
            }
        }
        make_world_readable(passwords);
    }
    std::ofstream config(dir_ + "/mosquitto.conf");
    if (has_probe_listener()) {
        // Authentication and TLS apply to uri()'s listener only; client_uri()'s stays open.
        config << "per_listener_settings true\n";
    }
    config << "max_queued_messages 100000\n"
           << "log_dest stderr\n"
           << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
    if (options_.log_all) {
        config << "log_type all\n";
    }
    if (options_.max_inflight_messages > 0) {
        config << "max_inflight_messages " << options_.max_inflight_messages << "\n";
    }
    if (options_.max_packet_size > 0) {
        config << "max_packet_size " << options_.max_packet_size << "\n";
    }
    if (options_.persistent) {
        // Started as root, mosquitto drops to its own user before writing: the
        // directory must be writable by that user.
        const auto data = dir_ + "/data";
        std::filesystem::create_directories(data);
        std::filesystem::permissions(data, std::filesystem::perms::all);
        config << "persistence true\npersistence_location " << data << "/\n"
               << "autosave_interval 1\n";
    }
    const auto listener_limits = [&] {
        if (options_.max_topic_alias >= 0) {
            config << "max_topic_alias " << options_.max_topic_alias << "\n";
        }
    };
    config << "listener " << port_ << " 127.0.0.1\n";
    listener_limits();
    if (options_.users.empty()) {
        config << "allow_anonymous true\n";
    } else {
        config << "allow_anonymous false\npassword_file " << passwords << "\n";
    }
    if (options_.tls) {
        for (const auto* file :
             {&options_.tls->ca_file, &options_.tls->cert_file, &options_.tls->key_file}) {
            if (!file->empty()) {
                make_world_readable(*file);
            }
        }
        config << "cafile " << options_.tls->ca_file << "\n"
               << "certfile " << options_.tls->cert_file << "\n"
               << "keyfile " << options_.tls->key_file << "\n"
               << "require_certificate " << (options_.tls->require_certificate ? "true" : "false")
               << "\n";
    }
    if (has_probe_listener()) {
        config << "listener " << probe_port_ << " 127.0.0.1\nallow_anonymous true\n";
        listener_limits();
    }
    return true;
}

bool Mosquitto::start(std::string& error) {
    const bool restart = port_ != 0;  // a restart keeps its port, so clients can reconnect
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (port_ == 0 || (!restart && attempt > 0)) {
            port_ = free_loopback_port();
        }
        if (has_probe_listener() && (probe_port_ == 0 || (!restart && attempt > 0))) {
            do {
                probe_port_ = free_loopback_port();
            } while (probe_port_ == port_);
        }
        if (!write_config(error)) {
            return false;
        }
        process_ = std::make_unique<Process>(
            std::vector<std::string>{EDGEFLOW_MOSQUITTO, "-c", dir_ + "/mosquitto.conf"},
            dir_ + "/mosquitto");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!process_->running()) {
                break;  // exited: the port was taken? try again
            }
            if (accepts_connections(port_) &&
                (!has_probe_listener() || accepts_connections(probe_port_))) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        error = log();
        process_.reset();
    }
    return false;
}

void Mosquitto::stop() {
    if (process_ == nullptr) {
        return;
    }
    process_->signal(SIGTERM);
    process_->signal(SIGCONT);  // a broker a test left stopped handles the SIGTERM too
    if (!process_->wait(std::chrono::seconds(5))) {
        process_->signal(SIGKILL);
        static_cast<void>(process_->wait(std::chrono::seconds(5)));
    }
    process_.reset();
}

void Mosquitto::signal(int sig) const {
    if (process_ != nullptr) {
        process_->signal(sig);
    }
}

pid_t Mosquitto::pid() const noexcept {
    return process_ != nullptr ? process_->pid() : -1;
}

std::string Mosquitto::log() const {
    return read_file(dir_ + "/mosquitto.err");
}

}  // namespace edgeflow::test
