// ServiceAccountToken: a Kubernetes service-account token read from its projected file, for the
// K8S-SAT authentication method (io/mqtt/k8s_sat_auth.h).
//
// The kubelet writes a projected token into the pod's volume and replaces it before it expires
// (once the token is 80% through its lifetime, or 24 h old) by pointing a symlink at a new
// directory in one rename. So the file is read whole at every connect, and between connects
// check() looks, at most once per check interval, at the identity of the file the path resolves
// to (device, inode, size, modification time): a new identity means the file is read again and
// its text compared. No inotify: one stat() a second is cheap, and works the same on every
// volume type.
//
// The token is a JWT. Its payload's `exp` (and `iat`) claims say when it expires; renew_at()
// turns them into the time a connection should re-authenticate even if no new file appeared. A
// token that is not a JWT, or has no `exp`, is accepted: only a new file then causes a
// re-authentication. The signature is not checked: that is the broker's job.
//
// Bounded: a file larger than 64 KiB is refused (real tokens are about 1 KiB; MQTT
// authentication data holds at most 65535 bytes). One thread only (the connection's).
// Reading allocates; nothing here is on a per-message path.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace edgeflow {

class ServiceAccountToken {
public:
    /// Files above this size are refused.
    static constexpr std::size_t max_file_bytes = 64 * 1024;
    /// The longest token MQTT authentication data (Binary Data) can carry.
    static constexpr std::size_t max_token_bytes = 65535;

    explicit ServiceAccountToken(
        std::string path, std::chrono::milliseconds check_interval = std::chrono::seconds(1));

    const std::string& path() const noexcept { return path_; }
    /// The token text (trailing whitespace removed); empty before the first successful read().
    std::string_view value() const noexcept { return value_; }
    /// Incremented each time value() changes.
    std::uint64_t generation() const noexcept { return generation_; }

    /// Reads the file now. Fails, naming the path, when it is missing, unreadable, not a
    /// regular file, empty (after trimming) or too large; the current token is then kept.
    Status read();
    /// At most once per check interval (else false at once): whether the file the path
    /// resolves to is a different one, or was rewritten, and holds a different token, which
    /// then is value(). Fails when the file cannot be looked at or read (the current token is
    /// kept).
    Result<bool> check(std::chrono::steady_clock::time_point now);

    /// The token's `exp` claim, when it is a JWT that has one.
    std::optional<std::chrono::system_clock::time_point> expires_at() const noexcept {
        return expires_;
    }
    /// When a connection authenticated with this token should re-authenticate even without a
    /// new file: 90% of the way from `iat` to `exp`, and at the latest 60 s before `exp`
    /// (only the latter without `iat`). None without `exp`.
    std::optional<std::chrono::system_clock::time_point> renew_at() const noexcept;

private:
    struct Identity {
        std::uint64_t device = 0;
        std::uint64_t inode = 0;
        std::int64_t size = -1;
        std::int64_t mtime_ns = 0;
        bool operator==(const Identity&) const = default;
    };
    /// Reads the file into `text` and its identity into `identity`.
    Status load(std::string& text, Identity& identity) const;
    void adopt(std::string text, Identity identity);

    std::string path_;
    std::chrono::milliseconds check_interval_;
    std::string value_;
    std::uint64_t generation_ = 0;
    Identity identity_;
    std::chrono::steady_clock::time_point last_check_{};
    std::optional<std::chrono::system_clock::time_point> expires_;
    std::optional<std::chrono::system_clock::time_point> issued_;
};

/// The numeric claim `name` at the top level of a JWT's payload (the base64url JSON between
/// its first and second dot, RFC 7519), in whole seconds; nullopt when `token` is not a JWT,
/// the payload is not a JSON object, or the claim is missing or not a number.
std::optional<std::int64_t> jwt_numeric_claim(std::string_view token, std::string_view name);

}  // namespace edgeflow
