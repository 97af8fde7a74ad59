#include "stages/keyed/partition_stage.h"

#include "lang/text/datetime.h"

namespace edgeflow {

PartitionStage::PartitionStage(std::shared_ptr<const transform::Formula> key,
                               std::shared_ptr<const transform::Formula> time, TimeFormat format)
    : key_(std::move(key)), time_(std::move(time)), format_(format) {}

void PartitionStage::process(Batch& batch, StageContext& ctx) noexcept {
    auto& eval = scratch_[ctx.worker];
    const std::int64_t arrival_ms = time_ ? 0 : dt::now_ms();
    for_each_live(batch, ctx, [&](Message& m) {
        eval.reset();
        m.key.clear();
        if (!key_) {
            m.key.append(m.topic);
        } else if (!transform::append_key_text(m.key, key_->eval(m, eval))) {
            m.reject(DeadLetterReason::key_missing, kind,
                     "the partition key is missing or not a scalar");
            return Outcome::rejected;
        }
        m.key_hash = key_hash(m.key);
        if (!time_) {
            m.event_time_ms = arrival_ms;
        } else if (!event_time_ms(time_->eval(m, eval), format_, m.event_time_ms)) {
            m.reject(DeadLetterReason::event_time_invalid, kind,
                     "the event_time field is missing or not a timestamp");
            return Outcome::rejected;
        }
        return Outcome::kept;
    });
}

std::string PartitionStage::describe() const {
    return "partition key " + (key_ ? key_->text() : std::string("$metadata.topic")) +
           ", event time " + (time_ ? time_->text() : std::string("at arrival"));
}

}  // namespace edgeflow
