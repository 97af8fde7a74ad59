// Test helpers for Kubernetes service-account tokens: fake JWTs and a token file laid out and
// rotated the way the kubelet does it for a projected volume.
//
// The JWTs are unsigned on purpose: a header and a payload, base64url-encoded, and a dummy
// signature. edgeflow reads only the payload's claims (exp, iat) and leaves the signature to the
// broker, so nothing here needs a key.
//
// ProjectedToken builds, in a fresh temporary directory:
//   ..<n>/<name>          the token itself
//   ..data -> ..<n>       the symlink the kubelet swaps in one rename
//   <name> -> ..data/<name>   the path a pod reads (path())
// rotate() writes a new ..<n+1> directory and renames a new ..data symlink over the old one, so
// path() switches to the new token atomically, as it does in a pod.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace edgeflow::test {

/// base64url without padding (RFC 4648 section 5), as JWTs use it.
inline std::string base64url(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : bytes) {
        bits = (bits << 8) | static_cast<std::uint8_t>(c);
        count += 8;
        while (count >= 6) {
            count -= 6;
            out.push_back(alphabet[(bits >> count) & 0x3F]);
        }
    }
    if (count > 0) {
        out.push_back(alphabet[(bits << (6 - count)) & 0x3F]);
    }
    return out;
}

/// An unsigned JWT whose payload is `payload_json`.
inline std::string fake_jwt(std::string_view payload_json) {
    return base64url(R"({"alg":"RS256","kid":"test"})") + "." + base64url(payload_json) + "." +
           base64url("not a signature");
}

/// Seconds since the Unix epoch, `offset` from now.
inline std::int64_t unix_seconds(std::chrono::seconds offset = {}) {
    return std::chrono::duration_cast<std::chrono::seconds>(
               (std::chrono::system_clock::now() + offset).time_since_epoch())
        .count();
}

/// A JWT as the API server issues for a projected volume, with `exp` (and `iat`) set.
inline std::string fake_service_account_jwt(std::int64_t exp, std::int64_t iat = 0) {
    std::string payload = R"({"aud":["aio-internal"],)";
    if (iat != 0) {
        payload += R"("iat":)" + std::to_string(iat) + ",";
    }
    payload += R"("exp":)" + std::to_string(exp) +
               R"(,"sub":"system:serviceaccount:azure-iot-operations:edgeflow"})";
    return fake_jwt(payload);
}

class ProjectedToken {
public:
    explicit ProjectedToken(const std::string& token, std::string name = "mqtt-client-token")
        : name_(std::move(name)) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "edgeflow-token-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
        write_generation(token);
        std::filesystem::create_directory_symlink(generation_dir(), dir_ / "..data");
        std::filesystem::create_symlink(std::filesystem::path("..data") / name_, path());
    }
    ~ProjectedToken() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    ProjectedToken(const ProjectedToken&) = delete;
    ProjectedToken& operator=(const ProjectedToken&) = delete;

    /// The path a pod reads.
    std::filesystem::path path() const { return dir_ / name_; }
    const std::filesystem::path& dir() const { return dir_; }

    /// Replaces the token the way the kubelet does: a new directory, then one rename of the
    /// ..data symlink.
    void rotate(const std::string& token) {
        ++generation_;
        write_generation(token);
        const auto next = dir_ / "..data_tmp";
        std::filesystem::create_directory_symlink(generation_dir(), next);
        std::filesystem::rename(next, dir_ / "..data");
    }

private:
    std::filesystem::path generation_dir() const {
        return std::filesystem::path(".." + std::to_string(generation_));
    }
    void write_generation(const std::string& token) {
        std::filesystem::create_directory(dir_ / generation_dir());
        std::ofstream(dir_ / generation_dir() / name_, std::ios::binary) << token;
    }

    std::string name_;
    std::filesystem::path dir_;
    int generation_ = 1;
};

}  // namespace edgeflow::test
