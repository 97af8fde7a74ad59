// OrderStage: the first stage of the stateful section. It sets the processing time the other
// stateful stages run at, and keeps late data out of their state.
//
// begin_batch() (one thread, per batch) stamps each message's clock_ms: the wall clock, or with
// `event_time.clock: event` the newest event time seen so far in arrival order, so a replayed
// file gives the same timers and detection times every run. process() (per shard) remembers each
// key's newest event time and turns away a message older than that minus allowed_lateness: to
// the dead-letter destination (late_data) or dropped, as `event_time.late` says, counted either
// way. Keys are bounded by event_time.max_keys (least recently updated evicted, counted).
#pragma once

#include <memory>
#include <vector>

#include "core/stage.h"
#include "stages/keyed/event_time.h"
#include "stages/keyed/key_table.h"

namespace edgeflow {

class OrderStage {
public:
    static constexpr std::string_view kind = "order";
    static constexpr StageShape shape = StageShape::sharded;

    OrderStage(const EventTimeConfig& config, std::size_t shards);
    void begin_batch(Batch& batch) noexcept;
    void process(Batch& batch, StageContext& ctx) noexcept;
    std::string describe() const;
    std::string state() const;
    MemoryBound memory() const;

    /// Late messages so far; read after the graph stopped.
    std::uint64_t late() const noexcept;

private:
    struct alignas(64) Shard {
        explicit Shard(std::size_t max_keys) : keys(max_keys) {}
        KeyTable keys;
        std::vector<std::int64_t> newest;  // by slot
        std::uint64_t evictions = 0;
        std::uint64_t late = 0;
    };
    std::int64_t allowed_lateness_ms_;
    LatePolicy late_policy_;
    ClockMode clock_;
    std::int64_t watermark_ms_ = INT64_MIN;
    std::vector<std::unique_ptr<Shard>> shards_;
};

static_assert(Stage<OrderStage>);

}  // namespace edgeflow
