#include "io/envelope.h"

#include "core/json_writer.h"

namespace edgeflow {
namespace {

std::string_view trim_right(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                             text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

EnvelopeDecoder::EnvelopeDecoder(std::size_t max_line_bytes) : parser_(max_line_bytes) {
    padded_.reserve(max_line_bytes + simdjson::SIMDJSON_PADDING);
}

bool EnvelopeDecoder::decode(std::string_view line, Message& message, std::string_view& why) {
    if (line.size() > parser_.max_capacity()) {
        why = "envelope line is longer than the largest allowed payload";
        return false;
    }
    padded_.assign(line);
    simdjson::ondemand::document doc;
    if (parser_.iterate(padded_.data(), padded_.size(), padded_.capacity()).get(doc) !=
        simdjson::SUCCESS) {
        why = "envelope is not valid JSON";
        return false;
    }
    simdjson::ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) {
        why = "envelope is not one JSON object";
        return false;
    }
    bool have_topic = false;
    bool have_payload = false;
    message.property_count = 0;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
            why = "envelope has a malformed key";
            return false;
        }
        simdjson::ondemand::value value = field.value();
        if (key == "topic") {
            std::string_view topic;
            if (value.get_string().get(topic) != simdjson::SUCCESS || topic.empty()) {
                why = "envelope \"topic\" is not a non-empty string";
                return false;
            }
            message.topic.assign(topic);
            have_topic = true;
        } else if (key == "payload") {
            simdjson::ondemand::json_type type;
            if (value.type().get(type) != simdjson::SUCCESS) {
                why = "envelope \"payload\" is not valid JSON";
                return false;
            }
            std::string_view body;
            simdjson::error_code error = simdjson::SUCCESS;
            if (type == simdjson::ondemand::json_type::string) {
                error = value.get_string().get(body);
            } else if (type == simdjson::ondemand::json_type::object) {
                simdjson::ondemand::object inner;
                error = value.get_object().get(inner);
                if (!error) {
                    error = inner.raw_json().get(body);
                }
            } else if (type == simdjson::ondemand::json_type::array) {
                simdjson::ondemand::array inner;
                error = value.get_array().get(inner);
                if (!error) {
                    error = inner.raw_json().get(body);
                }
            } else {
                body = trim_right(value.raw_json_token());
            }
            if (error != simdjson::SUCCESS) {
                why = "envelope \"payload\" is not valid JSON";
                return false;
            }
            assign_padded(message.payload, body);
            have_payload = true;
        } else if (key == "payload_base64") {
            std::string_view text;
            if (value.get_string().get(text) != simdjson::SUCCESS ||
                !json::decode_base64(text, scratch_)) {
                why = "envelope \"payload_base64\" is not a base64 string";
                return false;
            }
            assign_padded(message.payload, scratch_);
            have_payload = true;
        } else if (key == "properties") {
            simdjson::ondemand::object properties;
            if (value.get_object().get(properties) != simdjson::SUCCESS) {
                why = "envelope \"properties\" is not an object";
                return false;
            }
            for (auto property : properties) {
                std::string_view name;
                std::string_view text;
                if (property.unescaped_key().get(name) != simdjson::SUCCESS) {
                    why = "envelope \"properties\" has a malformed key";
                    return false;
                }
                // unescaped_key's view is invalidated by the next string read: copy first.
                scratch_.assign(name);
                if (property.value().get_string().get(text) != simdjson::SUCCESS) {
                    why = "envelope property values must be strings";
                    return false;
                }
                message.add_property(scratch_, text);
            }
        } else {
            why = "envelope has a key other than topic, payload, payload_base64, properties";
            return false;
        }
    }
    if (!document_at_end(doc)) {
        why = "envelope has text after the JSON object";
        return false;
    }
    if (!have_topic) {
        why = "envelope has no \"topic\"";
        return false;
    }
    if (!have_payload) {
        why = "envelope has no \"payload\"";
        return false;
    }
    return true;
}

void append_envelope(std::string& out, std::string_view topic, std::string_view payload,
                     bool payload_is_json, std::span<const UserProperty> properties) {
    out.append("{\"topic\":");
    json::append_string(out, topic);
    if (payload_is_json) {
        out.append(",\"payload\":");
        out.append(payload);
    } else if (simdjson::validate_utf8(payload.data(), payload.size())) {
        out.append(",\"payload\":");
        json::append_string(out, payload);
    } else {
        out.append(",\"payload_base64\":\"");
        json::append_base64(out, payload);
        out.push_back('"');
    }
    json::append_properties_member(out, properties.size(), [&](std::size_t i) {
        return std::pair<std::string_view, std::string_view>(properties[i].key,
                                                             properties[i].value);
    });
    out.push_back('}');
}

}  // namespace edgeflow
