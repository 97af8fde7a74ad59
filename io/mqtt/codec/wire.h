// Internal to the codec: bounds-checked readers of MQTT's wire types (big-endian integers,
// variable byte integers, length-prefixed strings) over a string_view, the UTF-8 check MQTT
// requires of its strings, and the property table (identifier -> value type). Nothing here
// allocates; every reader returns false instead of reading past its input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace edgeflow::mqtt::wire {

enum class VarintStatus : std::uint8_t { ok, incomplete, malformed };

/// Decodes a Variable Byte Integer from the front of `in`. `malformed` when it runs past four
/// bytes or is not in its shortest form (MQTT 5 1.5.5: the minimum number of bytes).
inline VarintStatus decode_varint(std::string_view in, std::uint32_t& value,
                                  std::size_t& length) noexcept {
    std::uint32_t result = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= in.size()) {
            return VarintStatus::incomplete;
        }
        const auto byte = static_cast<std::uint8_t>(in[i]);
        result |= static_cast<std::uint32_t>(byte & 0x7Fu) << (7 * i);
        if ((byte & 0x80u) == 0) {
            // A last byte of 0 after a continuation means a shorter form existed.
            if (i > 0 && byte == 0) {
                return VarintStatus::malformed;
            }
            value = result;
            length = i + 1;
            return VarintStatus::ok;
        }
    }
    return VarintStatus::malformed;
}

constexpr std::size_t varint_size(std::uint32_t v) noexcept {
    return v < 128u ? 1 : v < 16'384u ? 2 : v < 2'097'152u ? 3 : 4;
}

constexpr std::uint16_t load_u16(std::string_view b) noexcept {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(b[0]) << 8) |
                                      static_cast<std::uint8_t>(b[1]));
}

constexpr std::uint32_t load_u32(std::string_view b) noexcept {
    return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[3]));
}

/// Reads MQTT fields from the front of a byte range; each call consumes what it read, or
/// nothing and returns false when the range is too short.
class Reader {
public:
    explicit Reader(std::string_view in) noexcept : in_(in) {}
    bool empty() const noexcept { return in_.empty(); }
    std::size_t remaining() const noexcept { return in_.size(); }
    std::string_view rest() const noexcept { return in_; }

    bool u8(std::uint8_t& v) noexcept {
        if (in_.empty()) {
            return false;
        }
        v = static_cast<std::uint8_t>(in_[0]);
        in_.remove_prefix(1);
        return true;
    }
    bool u16(std::uint16_t& v) noexcept {
        if (in_.size() < 2) {
            return false;
        }
        v = load_u16(in_);
        in_.remove_prefix(2);
        return true;
    }
    bool u32(std::uint32_t& v) noexcept {
        if (in_.size() < 4) {
            return false;
        }
        v = load_u32(in_);
        in_.remove_prefix(4);
        return true;
    }
    bool varint(std::uint32_t& v) noexcept {
        std::size_t length = 0;
        if (decode_varint(in_, v, length) != VarintStatus::ok) {
            return false;
        }
        in_.remove_prefix(length);
        return true;
    }
    bool bytes(std::size_t n, std::string_view& v) noexcept {
        if (in_.size() < n) {
            return false;
        }
        v = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }
    /// A two-byte-length-prefixed string or binary field; `v` is its content.
    bool prefixed(std::string_view& v) noexcept {
        std::uint16_t n = 0;
        if (in_.size() < 2) {
            return false;
        }
        n = load_u16(in_);
        if (in_.size() - 2 < n) {
            return false;
        }
        v = in_.substr(2, n);
        in_.remove_prefix(2 + std::size_t{n});
        return true;
    }

private:
    std::string_view in_;
};

/// Well-formed UTF-8 as MQTT 1.5.4 requires: no overlong forms, no surrogates (U+D800..DFFF),
/// nothing above U+10FFFF, and no U+0000.
inline bool valid_utf8(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        // Topics are mostly ASCII: eight bytes at a time while none has the high bit or is 0.
        constexpr std::uint64_t ones = 0x0101010101010101u;
        constexpr std::uint64_t highs = 0x8080808080808080u;
        while (end - p >= 8) {
            std::uint64_t w = 0;
            std::memcpy(&w, p, 8);
            // (w - ones) & ~w has a byte's high bit set where that byte is 0 (when none of the
            // bytes has its own high bit, which the second test rules out).
            if ((w & highs) != 0 || ((w - ones) & ~w & highs) != 0) {
                break;
            }
            p += 8;
        }
        if (p == end) {
            break;
        }
        const unsigned c = *p;
        if (c < 0x80u) {
            if (c == 0) {
                return false;
            }
            ++p;
            continue;
        }
        std::size_t n = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if ((c & 0xE0u) == 0xC0u) {
            n = 1;
            cp = c & 0x1Fu;
            min = 0x80;
        } else if ((c & 0xF0u) == 0xE0u) {
            n = 2;
            cp = c & 0x0Fu;
            min = 0x800;
        } else if ((c & 0xF8u) == 0xF0u) {
            n = 3;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) <= n) {
            return false;
        }
        for (std::size_t i = 1; i <= n; ++i) {
            const unsigned cc = p[i];
            if ((cc & 0xC0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) {
            return false;
        }
        p += n + 1;
    }
    return true;
}

/// The value types of MQTT 5 properties (2.2.2.2).
enum class PropertyType : std::uint8_t { invalid, byte, u16, u32, varint, utf8, binary, pair };

constexpr PropertyType property_type(std::uint8_t id) noexcept {
    switch (id) {
        case 0x01:
        case 0x17:
        case 0x19:
        case 0x24:
        case 0x25:
        case 0x28:
        case 0x29:
        case 0x2A:
            return PropertyType::byte;
        case 0x13:
        case 0x21:
        case 0x22:
        case 0x23:
            return PropertyType::u16;
        case 0x02:
        case 0x11:
        case 0x18:
        case 0x27:
            return PropertyType::u32;
        case 0x0B:
            return PropertyType::varint;
        case 0x03:
        case 0x08:
        case 0x12:
        case 0x15:
        case 0x1A:
        case 0x1C:
        case 0x1F:
            return PropertyType::utf8;
        case 0x09:
        case 0x16:
            return PropertyType::binary;
        case 0x26:
            return PropertyType::pair;
        default:
            return PropertyType::invalid;
    }
}

/// Reads one property: its identifier, and its value as `first` (raw bytes of a number, the
/// content of a string or binary field, the key of a pair) and `second` (a pair's value).
/// False at an unknown identifier or a value cut short; the types are not checked further.
inline bool read_property(Reader& r, std::uint8_t& id, std::string_view& first,
                          std::string_view& second) noexcept {
    // Identifiers are Variable Byte Integers, but every defined one fits in a single byte, so
    // a byte with the continuation bit is an unknown identifier.
    if (!r.u8(id)) {
        return false;
    }
    second = {};
    switch (property_type(id)) {
        case PropertyType::byte:
            return r.bytes(1, first);
        case PropertyType::u16:
            return r.bytes(2, first);
        case PropertyType::u32:
            return r.bytes(4, first);
        case PropertyType::varint: {
            std::uint32_t v = 0;
            const std::string_view before = r.rest();
            if (!r.varint(v)) {
                return false;
            }
            first = before.substr(0, before.size() - r.remaining());
            return true;
        }
        case PropertyType::utf8:
        case PropertyType::binary:
            return r.prefixed(first);
        case PropertyType::pair:
            return r.prefixed(first) && r.prefixed(second);
        case PropertyType::invalid:
            break;
    }
    return false;
}

}  // namespace edgeflow::mqtt::wire
