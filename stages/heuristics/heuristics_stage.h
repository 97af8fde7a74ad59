// HeuristicsStage: event rules over the message stream, per key, in arrival order.
//
//   - kind: heuristics
//     name: alarms
//     events: alerts            # destination the events go to (reserved for emitted messages)
//     max_keys: 100000          # per key table (the partition key's, and each rule's own)
//     rules:
//       - {id: hot, kind: threshold, input: temperatureF, high: 80, low: 75, for_count: 3}
//       - {id: silent, kind: stale, after: 30s}
//       ...
//
// Timers (stale keys, windows, awaited acknowledgements) run on the processing clock: on the
// wall clock after each batch, or — on the event clock, when replaying — in every shard before
// each message with that message's clock, so that a replay fires them at the same place every
// time, whatever the batch boundaries.
//
// Rules keyed by the partition key share one key table per shard; a rule with its own `key`
// (or a correlate rule, whose sources say how to key) gets its own, and the shard that owns a
// message for that rule is chosen by that key's hash. Each rule kind lives in its own file
// (stages/heuristics/<kind>.cpp); docs/heuristics.md describes them and the event record.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics/metrics_writer.h"
#include "core/stage.h"
#include "stages/build_context.h"
#include "stages/heuristics/rule.h"
#include "stages/keyed/event_time.h"
#include "stages/keyed/key_table.h"

namespace edgeflow {

struct HeuristicsConfig {
    std::string name = "heuristics";
    std::string events;  ///< destination name
    std::uint64_t max_keys = 100'000;
    ConfigNode node;
};

class HeuristicsStage {
public:
    static constexpr std::string_view kind = "heuristics";
    static constexpr StageShape shape = StageShape::sharded;

    /// Reads and compiles a heuristics stage: destinations, `$lkv` source, shards and clock
    /// from `ctx`. Returns null after adding errors.
    static std::unique_ptr<HeuristicsStage> build(const ConfigNode& node, const BuildContext& ctx);

    void process(Batch& batch, StageContext& ctx) noexcept;
    /// After every shard processed the batch: applies the drops of deadband rules.
    void end_batch(Batch& batch, StageCounters& counters) noexcept;
    std::string describe() const;
    std::string state() const;
    /// Key tables at start; with every key's rule state, at most.
    MemoryBound memory() const;
    /// Events by rule, and events the outbox had no room for (lost, or delayed to a later tick).
    void metrics(MetricsWriter& writer, std::string_view stage) const;

    const HeuristicsConfig& config() const noexcept { return config_; }
    const std::vector<std::unique_ptr<heuristics::Rule>>& rules() const noexcept { return rules_; }
    /// Destination indexes the stage emits to (the events destination and rules' own).
    std::vector<std::int32_t> targets() const;

    HeuristicsStage(HeuristicsStage&&) noexcept;
    ~HeuristicsStage();

    struct Group;

private:
    HeuristicsStage() = default;
    void run_clock(Group& group, unsigned shard, std::int64_t now_ms, std::uint32_t position,
                   heuristics::Emit& emit) noexcept;
    HeuristicsConfig config_;
    std::vector<std::unique_ptr<heuristics::Rule>> rules_;
    std::vector<std::unique_ptr<Group>> groups_;
    std::size_t shards_ = 1;
    ClockMode clock_ = ClockMode::wall;
    std::unique_ptr<std::atomic<std::uint64_t>> events_lost_;     // outbox full, given up
    std::unique_ptr<std::atomic<std::uint64_t>> events_delayed_;  // outbox full, later tick
};

static_assert(Stage<HeuristicsStage>);

/// The `heuristics` row of the stage table; reserves the destinations its rules emit to.
std::unique_ptr<AnyStage> build_heuristics_stage(const ConfigNode& block, BuildContext& ctx);

}  // namespace edgeflow
