// The JSON Lines envelope: how a message is written to and read from a file.
//
//   {"topic": "plant/line1/t", "payload": <JSON value or string>, "properties": {"k": "v"}}
//
// `payload` holds the message body: a JSON value is the body's JSON text; a JSON string is the
// body's bytes as text. A body that is not UTF-8 is written as "payload_base64" instead.
// `properties` (MQTT v5 user properties) is optional.
//
// EnvelopeDecoder owns a simdjson parser and a padded scratch buffer; reuse one per thread.
// Decoding into a warm Message does not allocate.
#pragma once

#include <simdjson.h>

#include <span>
#include <string>
#include <string_view>

#include "core/message.h"
#include "core/padded_json.h"

namespace edgeflow {

class EnvelopeDecoder {
public:
    explicit EnvelopeDecoder(std::size_t max_line_bytes);

    /// Decodes one envelope line into `message` (topic, payload, properties). On failure returns
    /// false and sets `why` to a static explanation; `message` is then unspecified.
    bool decode(std::string_view line, Message& message, std::string_view& why);

private:
    simdjson::ondemand::parser parser_;
    std::string padded_;
    std::string scratch_;
};

/// Appends one envelope line (no newline). `payload_is_json` says the body is JSON text to embed
/// as a value; otherwise it is written as a string, or as payload_base64 when not UTF-8.
void append_envelope(std::string& out, std::string_view topic, std::string_view payload,
                     bool payload_is_json, std::span<const UserProperty> properties);

}  // namespace edgeflow
