#include "apps/edgeflow/json_diff.h"

#include <algorithm>

#include "core/json_writer.h"

namespace edgeflow::app {
namespace diff {

/// The array or object inside an element whose type() said so.
simdjson::dom::array items_of(element value) {
    simdjson::dom::array items;
    if (value.get_array().get(items) != simdjson::SUCCESS) {
        return {};
    }
    return items;
}
simdjson::dom::object fields_of(element value) {
    simdjson::dom::object fields;
    if (value.get_object().get(fields) != simdjson::SUCCESS) {
        return {};
    }
    return fields;
}

/// Writes `value` as compact JSON; with `sorted`, object members are ordered by key (then by
/// value), which makes equal values write equal text. Integers stay integers and floats keep
/// their fraction, as the engine writes them.
void append_json(std::string& out, element value, bool sorted) {
    switch (value.type()) {
        case element_type::ARRAY: {
            out.push_back('[');
            bool first = true;
            for (element item : items_of(value)) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_json(out, item, sorted);
            }
            out.push_back(']');
            break;
        }
        case element_type::OBJECT: {
            out.push_back('{');
            if (!sorted) {
                bool first = true;
                for (auto field : fields_of(value)) {
                    if (!first) {
                        out.push_back(',');
                    }
                    first = false;
                    json::append_string(out, field.key);
                    out.push_back(':');
                    append_json(out, field.value, sorted);
                }
            } else {
                std::vector<std::pair<std::string, std::string>> members;
                for (auto field : fields_of(value)) {
                    auto& member = members.emplace_back();
                    json::append_string(member.first, field.key);
                    append_json(member.second, field.value, sorted);
                }
                std::sort(members.begin(), members.end());
                for (std::size_t i = 0; i < members.size(); ++i) {
                    if (i > 0) {
                        out.push_back(',');
                    }
                    out.append(members[i].first).push_back(':');
                    out.append(members[i].second);
                }
            }
            out.push_back('}');
            break;
        }
        case element_type::INT64:
            json::append_int(out, value.get_int64().value_unsafe());
            break;
        case element_type::UINT64:
            json::append_uint(out, value.get_uint64().value_unsafe());
            break;
        case element_type::DOUBLE:
            json::append_double(out, value.get_double().value_unsafe());
            break;
        case element_type::STRING:
            json::append_string(out, value.get_string().value_unsafe());
            break;
        case element_type::BOOL:
            out.append(value.get_bool().value_unsafe() ? "true" : "false");
            break;
        case element_type::NULL_VALUE:
            out.append("null");
            break;
    }
}

/// `text` cut to at most `max` bytes on a UTF-8 character boundary, with "…" when cut.
std::string clip(std::string text, std::size_t max) {
    if (text.size() <= max) {
        return text;
    }
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    text.resize(end);
    text.append("…");
    return text;
}

std::string show(element value) {
    std::string text;
    append_json(text, value, false);
    return clip(std::move(text), max_value_text);
}

std::string json_text(std::string_view text) {
    std::string out;
    json::append_string(out, text);
    return clip(std::move(out), max_value_text);
}

std::string show_message(const ComparedMessage& message) {
    std::string out = "{\"topic\":";
    json::append_string(out, message.topic);
    out.append(",\"payload\":").append(message.payload);
    json::append_properties_member(out, message.properties.size(), [&](std::size_t i) {
        return std::pair<std::string_view, std::string_view>(message.properties[i].first,
                                                             message.properties[i].second);
    });
    out.push_back('}');
    return clip(std::move(out), max_message_text);
}

/// A member name as a segment of a field path (lang/field_path.h): plain when it can be, else
/// in double quotes. A name of digits is quoted too, since a digit segment may be an index.
void append_segment(std::string& path, std::string_view key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    }) && !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    path.push_back('.');
    if (plain) {
        path.append(key);
    } else {
        json::append_string(path, key);
    }
}

Kind kind_of(element value) {
    switch (value.type()) {
        case element_type::ARRAY:
            return Kind::array;
        case element_type::OBJECT:
            return Kind::object;
        case element_type::INT64:
        case element_type::UINT64:
            return Kind::integer;
        case element_type::DOUBLE:
            return Kind::floating;
        case element_type::STRING:
            return Kind::string;
        case element_type::BOOL:
            return Kind::boolean;
        case element_type::NULL_VALUE:
            break;
    }
    return Kind::null;
}

double as_double(element value) {
    switch (value.type()) {
        case element_type::INT64:
            return static_cast<double>(value.get_int64().value_unsafe());
        case element_type::UINT64:
            return static_cast<double>(value.get_uint64().value_unsafe());
        default:
            return value.get_double().value_unsafe();
    }
}

}  // namespace diff

using namespace diff;

bool MessageCanonicalizer::canonicalize(ComparedMessage& message) {
    element root;
    if (parser_.parse(message.payload).get(root) != simdjson::SUCCESS) {
        return false;
    }
    std::string compact;
    append_json(compact, root, false);
    message.canonical.clear();
    json::append_string(message.canonical, message.topic);
    message.canonical.push_back('\n');
    for (const auto& [key, value] : message.properties) {
        json::append_string(message.canonical, key);
        message.canonical.push_back(':');
        json::append_string(message.canonical, value);
        message.canonical.push_back(',');
    }
    message.canonical.push_back('\n');
    append_json(message.canonical, root, true);
    message.hash = std::hash<std::string>{}(message.canonical);
    message.payload = std::move(compact);
    return true;
}

}  // namespace edgeflow::app
