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
        } else if (const expr::Value value = time_->eval(m, eval);
                   !event_time_ms(value, format_, m.event_time_ms)) {
            reject_event_time(m, value);
            return Outcome::rejected;
        }
        return Outcome::kept;
    });
}

// Names the event-time field and what it held, cut to a bounded length, so a dead letter says
// which field to fix and how it was wrong. Builds text only for a rejected message.
void PartitionStage::reject_event_time(Message& m, const expr::Value& value) const {
    constexpr std::size_t shown = 64;
    std::string& detail = m.detail_buffer;
    detail.clear();
    detail.append("event_time ").append(time_->text()).append(": ");
    if (value.is_missing()) {
        detail.append("missing");
    } else {
        const std::size_t start = detail.size();
        detail.push_back('"');
        if (transform::append_key_text(detail, value)) {
            if (detail.size() - start - 1 > shown) {
                detail.resize(start + 1 + shown);
                detail.append("...");
            }
            detail.append("\", not a timestamp");
        } else {
            detail.resize(start);
            const std::string_view what = expr::to_string(value.kind);
            const bool vowel =
                !what.empty() && std::string_view("aeiou").find(what[0]) != std::string_view::npos;
            detail.append(vowel ? "an " : "a ").append(what).append(", not a timestamp");
        }
    }
    m.reject(DeadLetterReason::event_time_invalid, kind, detail);
}

std::string PartitionStage::describe() const {
    return "partition key " + (key_ ? key_->text() : std::string("$metadata.topic")) +
           ", event time " + (time_ ? time_->text() : std::string("at arrival"));
}

}  // namespace edgeflow
