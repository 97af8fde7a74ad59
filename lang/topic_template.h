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

/// The `level`-th (1-based) level of an MQTT topic, or nullopt-like empty+false.
bool topic_level(std::string_view topic, std::uint32_t level, std::string_view& out) noexcept;

}  // namespace edgeflow
