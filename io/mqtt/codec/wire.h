// Reading MQTT's wire types (MQTT 5.0 section 1.5) from the front of a byte view. Internal to
// the codec: each reader consumes what it read and returns false, consuming nothing it can be
// trusted with, when the bytes are too few or the value is malformed.
#pragma once

#include <cstdint>
#include <string_view>

namespace edgeflow::mqtt::wire {

inline bool read_u8(std::string_view& in, std::uint8_t& out) noexcept {
    if (in.empty()) {
        return false;
    }
    out = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return true;
}

inline bool read_u16(std::string_view& in, std::uint16_t& out) noexcept {
    if (in.size() < 2) {
        return false;
    }
    out = static_cast<std::uint16_t>((static_cast<std::uint8_t>(in[0]) << 8) |
                                     static_cast<std::uint8_t>(in[1]));
    in.remove_prefix(2);
    return true;
}

inline bool read_u32(std::string_view& in, std::uint32_t& out) noexcept {
    if (in.size() < 4) {
        return false;
    }
    out = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[0])) << 24) |
          (static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[1])) << 16) |
          (static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[2])) << 8) |
          static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[3]));
    in.remove_prefix(4);
    return true;
}

enum class VarintResult : std::uint8_t { ok, short_input, malformed };

/// A Variable Byte Integer: at most four bytes, seven bits each, least significant first.
inline VarintResult read_varint(std::string_view& in, std::uint32_t& out) noexcept {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= in.size()) {
            return VarintResult::short_input;
        }
        const auto byte = static_cast<std::uint8_t>(in[i]);
        value |= static_cast<std::uint32_t>(byte & 0x7F) << (7 * i);
        if ((byte & 0x80) == 0) {
            out = value;
            in.remove_prefix(i + 1);
            return VarintResult::ok;
        }
    }
    return VarintResult::malformed;  // a fifth byte would be needed
}

/// Binary Data: a two-byte length, then that many bytes.
inline bool read_binary(std::string_view& in, std::string_view& out) noexcept {
    std::uint16_t length = 0;
    std::string_view rest = in;
    if (!read_u16(rest, length) || rest.size() < length) {
        return false;
    }
    out = rest.substr(0, length);
    rest.remove_prefix(length);
    in = rest;
    return true;
}

/// Whether `s` is well-formed UTF-8 as MQTT requires of its strings (MQTT 5.0 1.5.4): no
/// overlong forms, no surrogates, nothing past U+10FFFF, and no U+0000.
inline bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<std::uint8_t>(s[i]);
        if (c < 0x80) {
            if (c == 0) {
                return false;
            }
            ++i;
            continue;
        }
        std::size_t extra = 0;
        std::uint32_t code = 0;
        std::uint32_t minimum = 0;
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            code = c & 0x1F;
            minimum = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            code = c & 0x0F;
            minimum = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            code = c & 0x07;
            minimum = 0x10000;
        } else {
            return false;
        }
        if (i + extra >= s.size()) {
            return false;  // the sequence runs past the end
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<std::uint8_t>(s[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3F);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

/// A UTF-8 String: Binary Data that must be valid_utf8.
enum class StringResult : std::uint8_t { ok, short_input, invalid };
inline StringResult read_string(std::string_view& in, std::string_view& out) noexcept {
    if (!read_binary(in, out)) {
        return StringResult::short_input;
    }
    return valid_utf8(out) ? StringResult::ok : StringResult::invalid;
}

}  // namespace edgeflow::mqtt::wire
