// Writing JSON text: Records, escaped strings, numbers and base64, appended to a caller-owned
// std::string so that a reused buffer means no allocation once warm.
//
// Output is compact (no spaces). Doubles use the shortest text that reads back to the same
// value; non-finite doubles, which JSON cannot hold, are written as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/record.h"

namespace edgeflow::json {

/// Appends `text` as a JSON string literal, quotes included. Bytes that are not valid UTF-8
/// are not checked here: callers hold UTF-8 (simdjson validates it on parse).
void append_string(std::string& out, std::string_view text);
void append_int(std::string& out, std::int64_t value);
void append_uint(std::string& out, std::uint64_t value);
void append_double(std::string& out, double value);

/// Appends the value (and its subtree) as JSON.
void append_value(std::string& out, ValueRef value);
/// Appends the whole record; an empty record is written as null.
void append_record(std::string& out, const Record& record);

/// Appends `,"properties":{"key":"value",...}` — MQTT user properties as every JSON record of
/// ours (envelopes, dead letters, `edgeflow test` reports) writes them — or nothing when `count`
/// is 0. `property(i)` gives the i-th pair as something with string_view-convertible `first` and
/// `second` (a std::pair of strings or views).
template <typename Property>
void append_properties_member(std::string& out, std::size_t count, Property property) {
    if (count == 0) {
        return;
    }
    out.append(",\"properties\":{");
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        const auto [key, value] = property(i);
        append_string(out, key);
        out.push_back(':');
        append_string(out, value);
    }
    out.push_back('}');
}

/// Appends the standard base64 (RFC 4648, padded) encoding of `bytes`.
void append_base64(std::string& out, std::string_view bytes);
/// Decodes standard base64 into `out`; false on malformed input.
bool decode_base64(std::string_view text, std::string& out);

}  // namespace edgeflow::json
