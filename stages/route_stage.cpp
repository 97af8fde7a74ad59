#include "stages/route_stage.h"

namespace edgeflow {

Outcome RouteStage::route(Message& message) const noexcept {
    message.routes = 0;
    for (const auto& target : targets_) {
        if (message.target != Message::all_destinations) {
            if (static_cast<std::size_t>(message.target) != target.destination) {
                continue;
            }
            if (message.output_topic_set) {
                message.destination_topics[target.destination].assign(message.output_topic);
                message.routes |= std::uint64_t{1} << target.destination;
                continue;
            }
        } else if (target.emitted_only) {
            continue;
        }
        std::string_view why;
        if (!target.topic.render(message, message.destination_topics[target.destination], why)) {
            message.reject(DeadLetterReason::topic_unresolved, kind, why);
            message.routes = dead_letter_routes_;
            return Outcome::rejected;
        }
        message.routes |= std::uint64_t{1} << target.destination;
    }
    return Outcome::kept;
}

void RouteStage::process(Batch& batch, StageContext& ctx) noexcept {
    for (Message* message : batch) {
        if (message->dead()) {
            message->routes = dead_letter_routes_;  // emitted ones too: nothing is lost
        } else if (message->dropped) {
            message->routes = 0;
        }
    }
    for_each_live(batch, ctx, [this](Message& message) { return route(message); });
}

}  // namespace edgeflow
