// Stream: one non-blocking byte stream to a broker, plain TCP or TLS (OpenSSL).
//
// The connection (io/mqtt/mqtt_connection.h) owns one and drives it from its event loop: open()
// resolves, connects and, for TLS, shakes hands, all bounded by one deadline; read() and write()
// never block and say when the socket would. TLS verifies the broker's certificate chain and
// host name unless the configuration turned verification off.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "io/mqtt/mqtt_config.h"

namespace edgeflow::mqtt {

/// The TLS settings loaded once (CA, client certificate and key), shared by every stream of one
/// connection. Creating it reads the files, so an unusable file is a start-up error.
class TlsContext {
public:
    static std::unique_ptr<TlsContext> create(const TlsConfig& config, Status& status);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    SSL_CTX* get() const noexcept { return context_; }
    bool verify() const noexcept { return verify_; }

private:
    TlsContext(SSL_CTX* context, bool verify) : context_(context), verify_(verify) {}
    SSL_CTX* context_;
    bool verify_;
};

/// What a read or write did.
enum class IoResult : unsigned char {
    done,         ///< moved at least one byte
    would_block,  ///< nothing to move now; wait for the socket
    closed,       ///< the peer closed the stream
    failed,       ///< an error; error() says which
};

class Stream {
public:
    Stream() = default;
    ~Stream() { close(); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    /// Connects to host:port (TLS when `tls` is not null) by `deadline`. On failure the text
    /// says what failed: "connection refused", "certificate verify failed: ...".
    Status open(const std::string& host, int port, const TlsContext* tls,
                std::chrono::steady_clock::time_point deadline);
    void close() noexcept;
    bool is_open() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    /// Asks the kernel to acknowledge what was read at once instead of delaying the TCP ACK
    /// (Linux resets this after a while, so it is asked again per read that needs it).
    void quick_ack() noexcept;

    /// Reads up to `capacity` bytes into `into`; `got` says how many.
    IoResult read(char* into, std::size_t capacity, std::size_t& got) noexcept;
    /// Writes from `bytes`; `put` says how many went out.
    IoResult write(std::string_view bytes, std::size_t& put) noexcept;
    /// Whether a TLS read would return bytes already decrypted (epoll cannot see those).
    bool buffered() const noexcept;
    /// Why the last failed read, write or open failed.
    const std::string& error() const noexcept { return error_; }

private:
    Status connect_tcp(const std::string& host, int port,
                       std::chrono::steady_clock::time_point deadline);
    Status handshake(const std::string& host, const TlsContext& tls,
                     std::chrono::steady_clock::time_point deadline);
    IoResult tls_result(int rc, const char* what) noexcept;

    int fd_ = -1;
    SSL* ssl_ = nullptr;
    std::string error_;
};

/// Splits tcp://host:port (or ssl://, mqtt://, mqtts://; [v6]:port) into host and port; the
/// default port is 1883, or 8883 with TLS.
bool split_broker(const std::string& uri, bool tls, std::string& host, int& port);

}  // namespace edgeflow::mqtt
