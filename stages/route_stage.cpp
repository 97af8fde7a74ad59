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
