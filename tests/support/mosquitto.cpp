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

Mosquitto::Mosquitto(std::string dir, bool persistent)
    : dir_(std::move(dir)), persistent_(persistent) {}

Mosquitto::~Mosquitto() {
    stop();
}

bool Mosquitto::start(std::string& error) {
    const bool restart = port_ != 0;  // a restart keeps its port, so clients can reconnect
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (port_ == 0 || (!restart && attempt > 0)) {
            port_ = free_loopback_port();
        }
        {
            std::ofstream config(dir_ + "/mosquitto.conf");
            config << "listener " << port_ << " 127.0.0.1\n"
                   << "allow_anonymous true\n"
                   << "max_queued_messages 100000\n"
                   << "log_dest stderr\n"
                   << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
            if (persistent_) {
                // Started as root, mosquitto drops to its own user before writing: the
                // directory must be writable by that user.
                const auto data = dir_ + "/data";
                std::filesystem::create_directories(data);
                std::filesystem::permissions(data, std::filesystem::perms::all);
                config << "persistence true\npersistence_location " << data << "/\n"
                       << "autosave_interval 1\n";
            }
        }
        process_ = std::make_unique<Process>(
            std::vector<std::string>{EDGEFLOW_MOSQUITTO, "-c", dir_ + "/mosquitto.conf"},
            dir_ + "/mosquitto");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!process_->running()) {
                break;  // exited: the port was taken? try again
            }
            if (accepts_connections(port_)) {
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
    if (!process_->wait(std::chrono::seconds(5))) {
        process_->signal(SIGKILL);
        static_cast<void>(process_->wait(std::chrono::seconds(5)));
    }
    process_.reset();
}

std::string Mosquitto::log() const {
    return read_file(dir_ + "/mosquitto.err");
}

}  // namespace edgeflow::test
