#include "core/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>

namespace edgeflow::json {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

// For each byte: 0 = copy as is, otherwise the escape letter (or 'u' for \u00XX).
constexpr std::array<char, 256> make_escape_table() {
    std::array<char, 256> table{};
    for (int c = 0; c < 0x20; ++c) {
        table[c] = 'u';
    }
    table['"'] = '"';
    table['\\'] = '\\';
    table['\b'] = 'b';
    table['\f'] = 'f';
    table['\n'] = 'n';
    table['\r'] = 'r';
    table['\t'] = 't';
    return table;
}
constexpr auto escape_table = make_escape_table();

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

void append_string(std::string& out, std::string_view text) {
    out.push_back('"');
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char escape = escape_table[static_cast<unsigned char>(text[i])];
        if (escape == 0) {
            continue;
        }
        out.append(text.data() + run_start, i - run_start);
        out.push_back('\\');
        out.push_back(escape);
        if (escape == 'u') {
            const auto byte = static_cast<unsigned char>(text[i]);
            out.append("00");
            out.push_back(hex_digits[byte >> 4]);
            out.push_back(hex_digits[byte & 0xF]);
        }
        run_start = i + 1;
    }
    out.append(text.data() + run_start, text.size() - run_start);
    out.push_back('"');
}

void append_int(std::string& out, std::int64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_uint(std::string& out, std::uint64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_double(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out.append("null");
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    out.append(text);
    // Keep a float a float: 21.0 must not read back as the integer 21.
    if (text.find_first_of(".eEn") == std::string_view::npos) {
        out.append(".0");
    }
}

void append_value(std::string& out, ValueRef value) {
    switch (value.type()) {
        case ValueType::null:
            out.append("null");
            break;
        case ValueType::boolean:
            out.append(value.as_bool() ? "true" : "false");
            break;
        case ValueType::int64:
            append_int(out, value.as_int64());
            break;
        case ValueType::uint64:
            append_uint(out, value.as_uint64());
            break;
        case ValueType::float64:
            append_double(out, value.as_double());
            break;
        case ValueType::string:
            append_string(out, value.as_string());
            break;
        case ValueType::array: {
            out.push_back('[');
            bool first = true;
            for (ValueRef item : value) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_value(out, item);
            }
            out.push_back(']');
            break;
        }
        case ValueType::object: {
            out.push_back('{');
            bool first = true;
            for (ValueRef member : value) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_string(out, member.key());
                out.push_back(':');
                append_value(out, member);
            }
            out.push_back('}');
            break;
        }
    }
}

void append_record(std::string& out, const Record& record) {
    if (record.empty()) {
        out.append("null");
        return;
    }
    append_value(out, record.root());
}

void append_base64(std::string& out, std::string_view bytes) {
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out.push_back(base64_alphabet[(n >> 18) & 63]);
        out.push_back(base64_alphabet[(n >> 12) & 63]);
        out.push_back(base64_alphabet[(n >> 6) & 63]);
        out.push_back(base64_alphabet[n & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = at(i) << 16;
        out.push_back(base64_alphabet[(n >> 18) & 63]);
        out.push_back(base64_alphabet[(n >> 12) & 63]);
        out.append("==");
    } else if (rest == 2) {
        const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8);
        out.push_back(base64_alphabet[(n >> 18) & 63]);
        out.push_back(base64_alphabet[(n >> 12) & 63]);
        out.push_back(base64_alphabet[(n >> 6) & 63]);
        out.push_back('=');
    }
}

bool decode_base64(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 != 0) {
        return false;
    }
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (i + 2 < text.size()) {
                return false;  // padding only in the last two places
            }
            ++padding;
            continue;
        }
        if (padding > 0) {
            return false;
        }
        const auto pos = base64_alphabet.find(c);
        if (pos == std::string_view::npos) {
            return false;
        }
        buffer = (buffer << 6) | static_cast<std::uint32_t>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return true;
}

}  // namespace edgeflow::json
