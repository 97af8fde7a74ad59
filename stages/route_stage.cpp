#include "stages/route_stage.h"

namespace edgeflow {

void RouteStage::process(Batch& batch, StageContext& ctx) noexcept {
    std::uint64_t in = 0;
    std::uint64_t failed = 0;
    for (Message* message : batch) {
        if (!message->live()) {
            continue;
        }
        ++in;
        for (const auto& target : targets_) {
            if (message->target != Message::all_destinations) {
                if (static_cast<std::size_t>(message->target) != target.destination) {
                    continue;
                }
                if (message->output_topic_set) {
                    message->destination_topics[target.destination].assign(message->output_topic);
                    continue;
                }
            } else if (target.emitted_only) {
                continue;
            }
            std::string_view why;
            if (!target.topic.render(*message, message->destination_topics[target.destination],
                                     why)) {
                message->reject(DeadLetterReason::topic_unresolved, kind, why);
                ++failed;
                break;
            }
        }
    }
    ctx.counters.add(in, in - failed, failed);
}

}  // namespace edgeflow
