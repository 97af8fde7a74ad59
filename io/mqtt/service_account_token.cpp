#include "io/mqtt/service_account_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <simdjson.h>

namespace edgeflow {
namespace {

// base64url (RFC 4648 section 5) value of one character, or -1.
int base64url_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

// JWTs leave the padding out (RFC 7515 section 2); a padded part is accepted all the same.
std::optional<std::string> base64url_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;  // one character left over carries fewer than 8 bits
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        const int v = base64url_value(c);
        if (v < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xFF));
        }
    }
    return out;
}

std::string in_quotes(const std::string& path) {
    return "'" + path + "'";
}

std::chrono::system_clock::time_point from_unix(std::int64_t seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

std::optional<std::int64_t> jwt_numeric_claim(std::string_view token, std::string_view name) {
    // A JWS in compact form: header.payload.signature, three parts, no more.
    const auto first = token.find('.');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) {
        return std::nullopt;
    }
    simdjson::ondemand::parser parser;
    const simdjson::padded_string json(*payload);
    simdjson::ondemand::document doc;
    if (parser.iterate(json).get(doc) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    simdjson::ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    // NumericDate may have a fraction (RFC 7519 section 2); whole seconds are enough here.
    double value = 0;
    if (object.find_field_unordered(name).get_double().get(value) != simdjson::SUCCESS ||
        !std::isfinite(value) || std::fabs(value) > 1e15) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(value);
}

ServiceAccountToken::ServiceAccountToken(std::string path, std::chrono::milliseconds check_interval)
    : path_(std::move(path)), check_interval_(check_interval) {}

Status ServiceAccountToken::load(std::string& text, Identity& identity) const {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT) {
            return Status::error("the service account token file " + in_quotes(path_) +
                                 " does not exist");
        }
        return Status::error("cannot open the service account token file " + in_quotes(path_) +
                             ": " + std::strerror(error));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    // fstat of the open file, so the identity is that of the bytes read, even when the kubelet
    // swaps the file in between.
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return Status::error("cannot look at the service account token file " + in_quotes(path_) +
                             ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::error("the service account token file " + in_quotes(path_) +
                             " is not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_file_bytes) {
        return Status::error("the service account token file " + in_quotes(path_) + " holds " +
                             std::to_string(st.st_size) + " bytes, more than the " +
                             std::to_string(max_file_bytes) + " a token file may have");
    }
    // One byte more than allowed is read, so a file that grew after fstat is caught too.
    text.resize(max_file_bytes + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return Status::error("cannot read the service account token file " + in_quotes(path_) +
                                 ": " + std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    if (got > max_file_bytes) {
        return Status::error("the service account token file " + in_quotes(path_) +
                             " is larger than the " + std::to_string(max_file_bytes) +
                             " bytes a token file may have");
    }
    text.resize(got);
    // The kubelet writes the bare token; a file written by hand often ends in a newline.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                             text.back() == '\t')) {
        text.pop_back();
    }
    if (text.empty()) {
        return Status::error("the service account token file " + in_quotes(path_) + " is empty");
    }
    if (text.size() > max_token_bytes) {
        return Status::error("the service account token in " + in_quotes(path_) + " is " +
                             std::to_string(text.size()) + " bytes, more than the " +
                             std::to_string(max_token_bytes) +
                             " MQTT authentication data can carry");
    }
    identity.device = static_cast<std::uint64_t>(st.st_dev);
    identity.inode = static_cast<std::uint64_t>(st.st_ino);
    identity.size = static_cast<std::int64_t>(st.st_size);
    identity.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                        static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    return Status::ok();
}

void ServiceAccountToken::adopt(std::string text, Identity identity) {
    identity_ = identity;
    if (text == value_) {
        return;
    }
    value_ = std::move(text);
    ++generation_;
    const auto exp = jwt_numeric_claim(value_, "exp");
    const auto iat = jwt_numeric_claim(value_, "iat");
    expires_ = exp ? std::optional(from_unix(*exp)) : std::nullopt;
    issued_ = iat ? std::optional(from_unix(*iat)) : std::nullopt;
}

Status ServiceAccountToken::read() {
    std::string text;
    Identity identity;
    if (Status status = load(text, identity); !status) {
        return status;
    }
    adopt(std::move(text), identity);
    return Status::ok();
}

Result<bool> ServiceAccountToken::check(std::chrono::steady_clock::time_point now) {
    if (last_check_ != std::chrono::steady_clock::time_point{} &&
        now - last_check_ < check_interval_) {
        return false;
    }
    last_check_ = now;
    // stat() follows the symlinks, so after the kubelet's swap this is the new file.
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        return Status::error("cannot look at the service account token file " + in_quotes(path_) +
                             ": " + std::strerror(errno));
    }
    const Identity seen{static_cast<std::uint64_t>(st.st_dev),
                        static_cast<std::uint64_t>(st.st_ino),
                        static_cast<std::int64_t>(st.st_size),
                        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                            static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
    if (seen == identity_) {
        return false;
    }
    const std::uint64_t before = generation_;
    if (Status status = read(); !status) {
        return status;
    }
    return generation_ != before;
}

std::optional<std::chrono::system_clock::time_point> ServiceAccountToken::renew_at()
    const noexcept {
    if (!expires_) {
        return std::nullopt;
    }
    auto at = *expires_ - std::chrono::seconds(60);
    if (issued_ && *issued_ < *expires_) {
        at = std::min(at, *issued_ + (*expires_ - *issued_) * 9 / 10);
    }
    return at;
}

}  // namespace edgeflow
