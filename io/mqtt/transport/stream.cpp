#include "io/mqtt/transport/stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace edgeflow::mqtt {
namespace {

std::string openssl_error(const char* what) {
    std::string text = what;
    const unsigned long code = ERR_get_error();
    if (code != 0) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += ": ";
        text += buffer;
    }
    ERR_clear_error();
    return text;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
}

/// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    while (true) {
        const int ms = remaining_ms(deadline);
        if (ms == 0) {
            return false;
        }
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, ms);
        if (rc > 0) {
            return true;
        }
        if (rc < 0 && errno != EINTR) {
            return false;
        }
    }
}

// One recv or send on a non-blocking socket, retried on EINTR. A recv of 0 bytes is the peer
// closing; a send of 0 bytes is only nothing moved.
template <typename Call>
IoResult plain_io(Call call, bool zero_closes, std::size_t& moved, std::string& error) noexcept {
    while (true) {
        const ssize_t n = call();
        if (n > 0 || (n == 0 && !zero_closes)) {
            moved = static_cast<std::size_t>(n);
            return IoResult::done;
        }
        if (n == 0) {
            return IoResult::closed;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return IoResult::would_block;
        }
        error = std::strerror(errno);
        return IoResult::failed;
    }
}

bool is_ip_address(const std::string& host) {
    in6_addr v6{};
    in_addr v4{};
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::create(const TlsConfig& config, Status& status) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) {
        status = Status::error(openssl_error("cannot create a TLS context"));
        return nullptr;
    }
    std::unique_ptr<TlsContext> result(new TlsContext(context, config.verify));
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    // A write may go out in part and be continued from a buffer that has moved since.
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!config.ca_file.empty() || !config.ca_dir.empty()) {
        if (SSL_CTX_load_verify_locations(
                context, config.ca_file.empty() ? nullptr : config.ca_file.c_str(),
                config.ca_dir.empty() ? nullptr : config.ca_dir.c_str()) != 1) {
            status = Status::error(
                openssl_error(("cannot load the CA certificates from " +
                               (config.ca_file.empty() ? config.ca_dir : config.ca_file))
                                  .c_str()));
            return nullptr;
        }
    } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
        status = Status::error(openssl_error("cannot load the system's CA certificates"));
        return nullptr;
    }
    if (!config.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(context, config.cert_file.c_str()) != 1) {
            status = Status::error(
                openssl_error(("cannot load the client certificate " + config.cert_file).c_str()));
            return nullptr;
        }
        const std::string& key = config.key_file.empty() ? config.cert_file : config.key_file;
        if (SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) != 1) {
            status = Status::error(openssl_error(("cannot load the client key " + key).c_str()));
            return nullptr;
        }
        if (SSL_CTX_check_private_key(context) != 1) {
            status = Status::error(openssl_error(
                ("the client key " + key + " does not match " + config.cert_file).c_str()));
            return nullptr;
        }
    }
    SSL_CTX_set_verify(context, config.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    status = Status::ok();
    return result;
}

TlsContext::~TlsContext() {
    SSL_CTX_free(context_);
}

Status Stream::open(const std::string& host, int port, const TlsContext* tls,
                    std::chrono::steady_clock::time_point deadline) {
    close();
    if (Status s = connect_tcp(host, port, deadline); !s) {
        close();
        return s;
    }
    if (tls != nullptr) {
        if (Status s = handshake(host, *tls, deadline); !s) {
            close();
            return s;
        }
    }
    return Status::ok();
}

Status Stream::connect_tcp(const std::string& host, int port,
                           std::chrono::steady_clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        return Status::error("cannot resolve " + host + ": " + gai_strerror(rc));
    }
    std::string last = "no address";
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
        const int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = std::strerror(errno);
            continue;
        }
        // Every packet is written whole by one send; waiting to coalesce only adds latency.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            if (!wait_for(fd, POLLOUT, deadline)) {
                ::close(fd);
                last = "connection timed out";
                continue;
            }
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
            rc = error == 0 ? 0 : -1;
            errno = error;
        }
        if (rc == 0) {
            fd_ = fd;
            ::freeaddrinfo(found);
            return Status::ok();
        }
        last = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(found);
    return Status::error(last);
}

Status Stream::handshake(const std::string& host, const TlsContext& tls,
                         std::chrono::steady_clock::time_point deadline) {
    ssl_ = SSL_new(tls.get());
    if (ssl_ == nullptr) {
        return Status::error(openssl_error("cannot create a TLS session"));
    }
    SSL_set_fd(ssl_, fd_);
    if (!is_ip_address(host)) {
        // SNI; the library's macro for this casts in C style.
        SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str()));
    }
    if (tls.verify()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
        const int set = is_ip_address(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                            : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
        if (set != 1) {
            return Status::error(openssl_error(("cannot verify the host name " + host).c_str()));
        }
    }
    while (true) {
        ERR_clear_error();
        const int rc = SSL_connect(ssl_);
        if (rc == 1) {
            return Status::ok();
        }
        const int why = SSL_get_error(ssl_, rc);
        if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(fd_, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                return Status::error("TLS handshake timed out");
            }
            continue;
        }
        const long verified = SSL_get_verify_result(ssl_);
        if (verified != X509_V_OK) {
            ERR_clear_error();
            return Status::error(std::string("TLS certificate verify failed: ") +
                                 X509_verify_cert_error_string(verified));
        }
        if (why == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            return Status::error("TLS handshake failed: the broker closed the connection");
        }
        return Status::error(openssl_error("TLS handshake failed"));
    }
}

void Stream::close() noexcept {
    if (ssl_ != nullptr) {
        SSL_free(ssl_);  // no close_notify: the MQTT DISCONNECT already said goodbye
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

IoResult Stream::tls_result(int rc, const char* what) noexcept {
    const int why = SSL_get_error(ssl_, rc);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
        return IoResult::would_block;
    }
    if (why == SSL_ERROR_ZERO_RETURN) {
        return IoResult::closed;
    }
    if (why == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (errno == 0) {
            return IoResult::closed;
        }
        error_ = std::strerror(errno);
        return IoResult::failed;
    }
    error_ = openssl_error(what);
    return IoResult::failed;
}

IoResult Stream::read(char* into, std::size_t capacity, std::size_t& got) noexcept {
    got = 0;
    if (ssl_ != nullptr) {
        ERR_clear_error();
        errno = 0;
        const int rc = SSL_read_ex(ssl_, into, capacity, &got);
        return rc == 1 ? IoResult::done : tls_result(rc, "TLS read failed");
    }
    return plain_io([&] { return ::recv(fd_, into, capacity, 0); }, true, got, error_);
}

IoResult Stream::write(std::string_view bytes, std::size_t& put) noexcept {
    put = 0;
    if (ssl_ != nullptr) {
        ERR_clear_error();
        errno = 0;
        const int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &put);
        return rc == 1 ? IoResult::done : tls_result(rc, "TLS write failed");
    }
    return plain_io([&] { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }, false,
                    put, error_);
}

void Stream::quick_ack() noexcept {
    if (fd_ >= 0) {
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
}

bool Stream::buffered() const noexcept {
    return ssl_ != nullptr && SSL_pending(ssl_) > 0;
}

bool split_broker(const std::string& uri, bool tls, std::string& host, int& port) {
    const auto scheme_end = uri.find("://");
    std::string rest = scheme_end == std::string::npos ? uri : uri.substr(scheme_end + 3);
    while (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    port = tls ? 8883 : 1883;
    std::string port_text;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string::npos) {
            return false;
        }
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') {
                return false;
            }
            port_text = rest.substr(close + 2);
        }
    } else {
        const auto colon = rest.rfind(':');
        host = rest.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = rest.substr(colon + 1);
        }
    }
    if (!port_text.empty()) {
        port = 0;
        for (const char c : port_text) {
            if (c < '0' || c > '9' || port > 65535) {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        if (port <= 0 || port > 65535) {
            return false;
        }
    }
    return !host.empty();
}

}  // namespace edgeflow::mqtt
