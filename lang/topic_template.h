// TopicTemplate: a destination topic computed per message from a pattern.
//
//   {topic}        the input topic
//   {topic.N}      its N-th level, 1-based (`{topic.2}` of `a/b/c` is `b`)
//   {field.path}   a payload field (string, integer or bool), in FieldPath dot notation
//   anything else  literal text
//
// and the Azure IoT Operations spellings `${inputTopic}`, `${inputTopic.N}`, plus
// `${outputTopic}` / `${outputTopic.N}`: the topic a transform wrote to `$metadata.topic`
// (a message for which no transform wrote one cannot resolve it).
//
// e.g. `enriched/{topic.2}/{deviceId}`. Compiling checks the pattern; rendering writes into a
// caller-owned string (reusing its capacity, so no allocation once warm) and fails — never
// throws — when a level or field is missing or a value would not be a valid topic level.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.h"
#include "core/status.h"
#include "lang/field_path.h"

namespace edgeflow {

class TopicTemplate {
public:
    static Result<TopicTemplate> parse(std::string_view pattern);

    /// Writes the topic for `message` into `out`. On failure returns false and sets `why` to a
    /// static or template-owned explanation.
    bool render(const Message& message, std::string& out, std::string_view& why) const noexcept;

    /// True when rendering reads the payload (so a message that failed to parse cannot use it).
    bool reads_payload() const noexcept { return reads_payload_; }
    const std::string& pattern() const noexcept { return pattern_; }

private:
    enum class PartKind { literal, topic, topic_level, field, output_topic, output_topic_level };
    struct Part {
        PartKind kind = PartKind::literal;
        std::string text;  ///< literal text, or the placeholder for messages
        std::uint32_t level = 0;
        FieldPath field;
        std::string missing;  ///< "field 'x' missing", prebuilt so render never allocates
        std::string invalid;  ///< "field 'x' is not a valid topic level"
    };
    std::string pattern_;
    std::vector<Part> parts_;
    bool reads_payload_ = false;
};

/// The longest topic name MQTT can carry (a two-byte length).
inline constexpr std::size_t max_topic_name_bytes = 65535;

/// What makes a topic name unfit to publish to (see check_topic_name).
struct TopicNameProblem {
    static constexpr std::size_t nowhere = static_cast<std::size_t>(-1);
    std::string_view what;   ///< static text: "holds the wildcard '+'", "is empty"...
    std::size_t offset = 0;  ///< byte at which it starts; `nowhere` for the whole topic
    std::uint32_t code_point = 0;  ///< the offending code point, when `what` names a character
    bool has_code_point = false;
};

/// Whether `topic` may be published to. MQTT forbids a topic name that is empty, longer than
/// 65535 bytes, not well-formed UTF-8 (surrogates and overlong forms included), or that holds
/// U+0000 or a wildcard ('+', '#'). It says a topic SHOULD NOT hold the control characters
/// U+0001..U+001F and U+007F..U+009F or the Unicode non-characters, and lets a receiver treat
/// them as a malformed packet: a broker that does (mosquitto does) closes the connection, so
/// they are refused too. On failure fills `problem`. Allocates nothing.
bool check_topic_name(std::string_view topic, TopicNameProblem& problem) noexcept;

/// At most the first 120 bytes of `topic` (cut at a character boundary) and, when it is
/// longer, "... (N bytes)": what a log line quotes of a topic that may be huge.
std::string topic_for_log(std::string_view topic);

/// The `level`-th (1-based) level of an MQTT topic, or nullopt-like empty+false.
bool topic_level(std::string_view topic, std::uint32_t level, std::string_view& out) noexcept;

}  // namespace edgeflow
