#include "lang/topic_template.h"

#include <charconv>

namespace edgeflow {
namespace {

bool valid_level_text(std::string_view text) noexcept {
    return text.find_first_of("+#/") == std::string_view::npos &&
           text.find('\0') == std::string_view::npos;
}

}  // namespace

bool check_topic_name(std::string_view topic, TopicNameProblem& problem) noexcept {
    const auto fail = [&](std::string_view what, std::size_t at) {
        problem = {what, at, 0, false};
        return false;
    };
    if (topic.empty()) {
        return fail("is empty", TopicNameProblem::nowhere);
    }
    if (topic.size() > max_topic_name_bytes) {
        return fail("is longer than the 65535 bytes MQTT allows", TopicNameProblem::nowhere);
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(topic.data());
    const std::size_t n = topic.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = bytes[i];
        if (c < 0x80U) {
            // Printable ASCII is almost every topic: one comparison pair per byte.
            if (c >= 0x20U && c != 0x7FU) {
                if (c == '+' || c == '#') {
                    return fail(c == '+' ? "holds the wildcard '+'" : "holds the wildcard '#'", i);
                }
                ++i;
                continue;
            }
            problem = {c == 0 ? "holds the null character" : "holds a control character", i, c, true};
            return false;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if ((c & 0xE0U) == 0xC0U) {
            len = 2;
            cp = c & 0x1FU;
            min = 0x80;
        } else if ((c & 0xF0U) == 0xE0U) {
            len = 3;
            cp = c & 0x0FU;
            min = 0x800;
        } else if ((c & 0xF8U) == 0xF0U) {
            len = 4;
            cp = c & 0x07U;
            min = 0x10000;
        } else {
            return fail("holds a byte that is not UTF-8", i);
        }
        if (n - i < len) {
            return fail("holds a UTF-8 sequence cut short", i);
        }
        for (std::size_t k = 1; k < len; ++k) {
            const unsigned next = bytes[i + k];
            if ((next & 0xC0U) != 0x80U) {
                return fail("holds a UTF-8 sequence cut short", i);
            }
            cp = (cp << 6) | (next & 0x3FU);
        }
        if (cp < min || cp > 0x10FFFF) {
            return fail("holds a byte sequence that is not UTF-8", i);
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            problem = {"holds a UTF-16 surrogate", i, cp, true};
            return false;
        }
        if (cp <= 0x9F) {
            problem = {"holds a control character", i, cp, true};
            return false;
        }
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFEU) == 0xFFFEU) {
            problem = {"holds a Unicode non-character", i, cp, true};
            return false;
        }
        i += len;
    }
    return true;
}

std::string topic_for_log(std::string_view topic) {
    constexpr std::size_t shown = 120;
    if (topic.size() <= shown) {
        return std::string(topic);
    }
    std::size_t cut = shown;
    // Not in the middle of a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(topic[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    return std::string(topic.substr(0, cut)) + "... (" + std::to_string(topic.size()) +
           " bytes)";
}

bool topic_level(std::string_view topic, std::uint32_t level, std::string_view& out) noexcept {
    std::uint32_t current = 1;
    std::size_t start = 0;
    while (current < level) {
        const auto slash = topic.find('/', start);
        if (slash == std::string_view::npos) {
            return false;
        }
        start = slash + 1;
        ++current;
    }
    const auto slash = topic.find('/', start);
    out = topic.substr(start,
                       slash == std::string_view::npos ? std::string_view::npos : slash - start);
    return true;
}

Result<TopicTemplate> TopicTemplate::parse(std::string_view pattern) {
    TopicTemplate t;
    t.pattern_ = std::string(pattern);
    if (pattern.empty()) {
        return Status::error("an empty topic template");
    }
    std::size_t pos = 0;
    while (pos < pattern.size()) {
        const auto open = pattern.find('{', pos);
        // `${name}` is the Azure IoT Operations spelling of a variable: the `$` belongs to it.
        const bool dollar =
            open != std::string_view::npos && open > pos && pattern[open - 1] == '$';
        const auto literal_end =
            open == std::string_view::npos ? pattern.size() : (dollar ? open - 1 : open);
        if (literal_end > pos) {
            Part literal;
            literal.text = std::string(pattern.substr(pos, literal_end - pos));
            if (literal.text.find_first_of("+#}") != std::string::npos) {
                return Status::error("'" + std::string(pattern) +
                                     "': a topic to publish to cannot contain '+', '#' or a "
                                     "stray '}'");
            }
            t.parts_.push_back(std::move(literal));
        }
        if (open == std::string_view::npos) {
            break;
        }
        const auto close = pattern.find('}', open);
        if (close == std::string_view::npos) {
            return Status::error("'" + std::string(pattern) + "': '{' without a closing '}'");
        }
        const auto name = pattern.substr(open + 1, close - open - 1);
        Part part;
        part.text = (dollar ? "${" : "{") + std::string(name) + "}";
        if (dollar) {
            const bool output = name.starts_with("outputTopic");
            if (!output && !name.starts_with("inputTopic")) {
                return Status::error("'" + std::string(pattern) + "': " + part.text +
                                     " is not a variable; use ${inputTopic}, ${inputTopic.N}, "
                                     "${outputTopic} or ${outputTopic.N}");
            }
            const auto rest = name.substr(output ? 11 : 10);
            if (rest.empty()) {
                part.kind = output ? PartKind::output_topic : PartKind::topic;
            } else {
                const auto digits = rest.substr(1);
                const auto [ptr, ec] =
                    std::from_chars(digits.data(), digits.data() + digits.size(), part.level);
                if (rest[0] != '.' || ec != std::errc() || ptr != digits.data() + digits.size() ||
                    part.level == 0) {
                    return Status::error("'" + std::string(pattern) + "': " + part.text +
                                         " needs a level number from 1, as in ${inputTopic.2}");
                }
                part.kind = output ? PartKind::output_topic_level : PartKind::topic_level;
                part.missing = std::string(output ? "output" : "input") + " topic has no level " +
                               std::to_string(part.level);
            }
            if (output) {
                part.invalid = "${outputTopic}: no transform wrote $metadata.topic";
            }
        } else if (name == "topic") {
            part.kind = PartKind::topic;
        } else if (name.starts_with("topic.")) {
            const auto digits = name.substr(6);
            const auto [ptr, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), part.level);
            if (ec != std::errc() || ptr != digits.data() + digits.size() || part.level == 0) {
                return Status::error("'" + std::string(pattern) + "': " + part.text +
                                     " needs a level number from 1, as in {topic.2}");
            }
            part.kind = PartKind::topic_level;
            part.missing = "input topic has no level " + std::to_string(part.level);
        } else {
            auto field = FieldPath::parse(name);
            if (!field) {
                return Status::error("'" + std::string(pattern) + "': " + field.error());
            }
            part.kind = PartKind::field;
            part.field = std::move(field).value();
            part.missing = "payload field '" + std::string(name) + "' is missing or not a scalar";
            part.invalid =
                "payload field '" + std::string(name) + "' is empty or holds '/', '+' or '#'";
            t.reads_payload_ = true;
        }
        t.parts_.push_back(std::move(part));
        pos = close + 1;
    }
    return t;
}

bool TopicTemplate::render(const Message& message, std::string& out,
                           std::string_view& why) const noexcept {
    out.clear();
    for (const auto& part : parts_) {
        switch (part.kind) {
            case PartKind::literal:
                out.append(part.text);
                break;
            case PartKind::topic:
                out.append(message.topic);
                break;
            case PartKind::output_topic:
                if (!message.output_topic_set) {
                    why = part.invalid;
                    return false;
                }
                out.append(message.output_topic);
                break;
            case PartKind::output_topic_level:
            case PartKind::topic_level: {
                const bool output = part.kind == PartKind::output_topic_level;
                if (output && !message.output_topic_set) {
                    why = part.invalid;
                    return false;
                }
                std::string_view level;
                if (!topic_level(output ? std::string_view(message.output_topic)
                                        : std::string_view(message.topic),
                                 part.level, level)) {
                    why = part.missing;
                    return false;
                }
                out.append(level);
                break;
            }
            case PartKind::field: {
                const ValueRef value = part.field.resolve(message.record);
                if (!value.valid()) {
                    why = part.missing;
                    return false;
                }
                char digits[24];
                std::string_view text;
                switch (value.type()) {
                    case ValueType::string:
                        text = value.as_string();
                        break;
                    case ValueType::int64: {
                        const auto r =
                            std::to_chars(digits, digits + sizeof digits, value.as_int64());
                        text = {digits, static_cast<std::size_t>(r.ptr - digits)};
                        break;
                    }
                    case ValueType::uint64: {
                        const auto r =
                            std::to_chars(digits, digits + sizeof digits, value.as_uint64());
                        text = {digits, static_cast<std::size_t>(r.ptr - digits)};
                        break;
                    }
                    case ValueType::boolean:
                        text = value.as_bool() ? "true" : "false";
                        break;
                    default:
                        why = part.missing;
                        return false;
                }
                if (text.empty() || !valid_level_text(text)) {
                    why = part.invalid;
                    return false;
                }
                out.append(text);
                break;
            }
        }
    }
    if (out.empty()) {
        why = "the destination topic is empty";
        return false;
    }
    return true;
}

}  // namespace edgeflow
