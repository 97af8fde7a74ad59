// RouteStage: computes each output destination's topic for every live message from the
// destination's TopicTemplate (`enriched/{topic.2}/{deviceId}`). A template that cannot be
// resolved for a message (missing level or field, a value that is no valid topic level) rejects
// the message with the reason, so it reaches the dead-letter destination instead of a wrong
// topic. Topics are written into the message's reused per-destination buffers.
//
// A message a stage emitted (an event, an LKV snapshot) is routed to its target destination
// only, at the topic it set for itself if it did; destinations reserved for emitted messages
// get no others.
#pragma once

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

    explicit RouteStage(std::vector<RouteTarget> targets) : targets_(std::move(targets)) {}
    void process(Batch& batch, StageContext& ctx) noexcept;

private:
    std::vector<RouteTarget> targets_;
};

static_assert(Stage<RouteStage>);

}  // namespace edgeflow
