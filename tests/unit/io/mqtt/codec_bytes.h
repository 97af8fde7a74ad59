// Byte builders for the codec tests: packets written field by field as MQTT lays them out, so a
// test reads like the specification's tables.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace edgeflow::mqtt::testing {

/// Literal bytes: raw({0x20, 0x02, 0x00, 0x00}).
inline std::string raw(std::initializer_list<int> bytes) {
    std::string out;
    for (int b : bytes) {
        out.push_back(static_cast<char>(b));
    }
    return out;
}

inline std::string u16(std::uint16_t v) {
    return raw({v >> 8, v & 0xFF});
}

inline std::string u32(std::uint32_t v) {
    return raw({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xFF),
                static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)});
}

inline std::string varint(std::uint32_t v) {
    std::string out;
    do {
        int byte = static_cast<int>(v & 0x7F);
        v >>= 7;
        if (v != 0) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    } while (v != 0);
    return out;
}

/// A two-byte-length-prefixed string.
inline std::string str(std::string_view s) {
    return u16(static_cast<std::uint16_t>(s.size())) + std::string(s);
}

/// A property block: its length, then its bytes.
inline std::string props(std::string_view block) {
    return varint(static_cast<std::uint32_t>(block.size())) + std::string(block);
}

/// A whole packet: first byte, remaining length, body.
inline std::string packet(int first, std::string_view body) {
    return raw({first}) + varint(static_cast<std::uint32_t>(body.size())) + std::string(body);
}

/// operator new calls so far, in executables that link codec_allocations.cpp.
std::size_t allocation_count() noexcept;

inline std::string prop_u8(int id, int v) {
    return raw({id, v});
}
inline std::string prop_u16(int id, std::uint16_t v) {
    return raw({id}) + u16(v);
}
inline std::string prop_u32(int id, std::uint32_t v) {
    return raw({id}) + u32(v);
}
inline std::string prop_str(int id, std::string_view s) {
    return raw({id}) + str(s);
}
inline std::string user_prop(std::string_view k, std::string_view v) {
    return raw({0x26}) + str(k) + str(v);
}

}  // namespace edgeflow::mqtt::testing
