// RouteStage: computes each output destination's topic for every live message from the
// destination's TopicTemplate (`enriched/{topic.2}/{deviceId}`). A template that cannot be
// resolved for a message (missing level or field, a value that is no valid topic level) rejects
// the message with the reason, so it reaches the dead-letter destination instead of a wrong
// topic. Topics are written into the message's reused per-destination buffers.
//
// This is the one place a message's destinations are decided (Message::routes; sinks only read
// it): a live message goes to every output destination not reserved for emitted messages; a
// message a stage emitted (an event, an LKV snapshot) to its target destination only, at the
// topic it set for itself if it did; a rejected one to the dead-letter destination, when there
// is one (its topic is the serialize stage's); a filtered one nowhere.
#pragma once

#include <optional>
#include <vector>

#include "core/stage.h"
#include "lang/topic_template.h"

namespace edgeflow {

struct RouteTarget {
    std::size_t destination = 0;  ///< index into Message::destination_topics
    TopicTemplate topic;
    bool emitted_only = false;  ///< receives only messages stages emit to it
};

class RouteStage {
public:
    static constexpr std::string_view kind = "route";
    static constexpr StageShape shape = StageShape::stateless;

    /// `dead_letter`: index of the dead-letter destination, if there is one.
    RouteStage(std::vector<RouteTarget> targets, std::optional<std::size_t> dead_letter)
        : targets_(std::move(targets)),
          dead_letter_routes_(dead_letter ? std::uint64_t{1} << *dead_letter : 0) {}
    void process(Batch& batch, StageContext& ctx) noexcept;

private:
    Outcome route(Message& message) const noexcept;
    std::vector<RouteTarget> targets_;
    std::uint64_t dead_letter_routes_;
};

static_assert(Stage<RouteStage>);

}  // namespace edgeflow
