// PartitionStage: gives every live message its partition key, the key's hash (which picks the
// shard of the stateful stages) and its event time.
//
// Stateless, so it runs on all workers ahead of the stateful section. The key is the pipeline's
// `partition_key` (a path or {inputs, expression}; default the input topic) as text; a message
// whose key is missing or not a scalar is rejected (key_missing). The event time comes from the
// `event_time.field` formula, or is the arrival time (the batch's wall clock) without one; a
// value that is no timestamp rejects the message (event_time_invalid). Allocates nothing once
// the per-worker scratch and each message's key buffer are warm.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/stage.h"
#include "core/worker_local.h"
#include "lang/transform/formula.h"
#include "stages/keyed/event_time.h"

namespace edgeflow {

class PartitionStage {
public:
    static constexpr std::string_view kind = "partition";
    static constexpr StageShape shape = StageShape::stateless;

    /// `key`: none for the input topic. `time`: none for the arrival time.
    PartitionStage(std::shared_ptr<const transform::Formula> key,
                   std::shared_ptr<const transform::Formula> time, TimeFormat format);
    void prepare(std::size_t worker_slots) { scratch_.grow(worker_slots); }
    void process(Batch& batch, StageContext& ctx) noexcept;
    std::string describe() const;

private:
    void reject_event_time(Message& m, const expr::Value& value) const;

    std::shared_ptr<const transform::Formula> key_;
    std::shared_ptr<const transform::Formula> time_;
    TimeFormat format_;
    WorkerLocal<expr::EvalScratch> scratch_;
};

static_assert(Stage<PartitionStage>);

/// The hash the shards and key tables use for a key.
inline std::uint64_t key_hash(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
}

}  // namespace edgeflow
