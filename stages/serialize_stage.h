// SerializeStage: the last stage. Writes each live message's Record as compact JSON into
// Message::output, and turns each rejected message into its dead-letter record:
//
//   {"reason":"invalid_json","stage":"parse","detail":"…","source":"telemetry",
//    "source_topic":"plant/line1/t","source_line":12,"properties":{…},
//    "payload":"<original text>"}
//
// ("source_line" only for messages read from a file)
//
// with "payload_base64" instead of "payload" when the original bytes are not UTF-8. The
// dead-letter topic comes from the dead_letter destination's template (input-topic parts only,
// since the payload may be unreadable). Without a dead_letter destination, rejected messages
// are counted as discarded. Dead letters are counted by reason either way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/stage.h"
#include "lang/topic_template.h"

namespace edgeflow {

struct DeadLetterTarget {
    std::size_t destination = 0;
    TopicTemplate topic;
};

class SerializeStage {
public:
    static constexpr std::string_view kind = "serialize";
    /// Dead-letter topic for a message whose topic the template cannot use.
    static constexpr std::string_view fallback_topic = "edgeflow/deadletter";
    static constexpr StageShape shape = StageShape::stateless;

    SerializeStage(std::optional<DeadLetterTarget> dead_letter,
                   std::vector<std::string> source_names, std::shared_ptr<DeadLetterCounts> counts);
    void process(Batch& batch, StageContext& ctx) noexcept;

private:
    void write_dead_letter(Message& message) const noexcept;

    std::optional<DeadLetterTarget> dead_letter_;
    std::vector<std::string> source_names_;
    std::shared_ptr<DeadLetterCounts> counts_;
};

static_assert(Stage<SerializeStage>);

}  // namespace edgeflow
