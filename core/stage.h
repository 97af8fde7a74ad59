// The stage contract: what every processing step in the flow graph is.
//
// A stage is a small type with a `kind`, a `shape` and a `process(Batch&, StageContext&)
// noexcept` member. It knows nothing of TBB, MQTT or YAML: core/graph adapts stages into flow
// graph nodes. Stateless stages are shared by all workers and keep any per-worker scratch in a
// WorkerLocal (core/worker_local.h) indexed by StageContext::worker, grown by prepare() to the
// slots the graph has; keyed stages get one instance per shard.
//
// process() never throws and never drops a message silently: a message it cannot handle is
// rejected (Message::reject) and counted in errors; later stages skip rejected messages.
#pragma once

#include <concepts>
#include <memory>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/counters.h"
#include "core/metrics/histogram.h"
#include "core/metrics/metrics_writer.h"
#include "core/runtime/readiness.h"

namespace edgeflow {

/// stateless: one instance, all workers at once, batches in any order.
/// keyed: one instance, one batch at a time, in dispatch order.
/// sharded: state split by partition key hash over `shards`; for each batch, in dispatch order,
///   process() runs once per shard (shards in parallel) and handles only the messages with
///   key_hash % shards == shard. Consecutive sharded stages form one section of the graph: every
///   stage of the section finishes a batch (all shards) before the next starts it, so a later
///   stage may read an earlier one's state of any key.
enum class StageShape { stateless, keyed, sharded };

/// What a stage sees besides its batch: which worker runs it and where to count.
struct StageContext {
    unsigned worker = 0;  ///< in [0, workers): index of per-worker scratch
    StageCounters& counters;
    unsigned shard = 0;   ///< sharded stages: the shard this call handles
    unsigned shards = 1;  ///< sharded stages: how many there are

    /// Whether a sharded stage handles `message` in this call.
    bool owns(const Message& message) const noexcept {
        return shards == 1 || message.key_hash % shards == shard;
    }
};

template <typename S>
concept Stage = requires(S& stage, Batch& batch, StageContext& ctx) {
    { S::kind } -> std::convertible_to<std::string_view>;
    { S::shape } -> std::convertible_to<StageShape>;
    { stage.process(batch, ctx) }
    noexcept;
};

/// Memory a stage's configured bounds cost: what it allocates when it is built, and the most
/// its state can grow to with every bound full (key tables, per-key state, logs).
struct MemoryBound {
    std::uint64_t at_start = 0;
    std::uint64_t at_most = 0;
    std::string what;  ///< how it is made up, for `check`: "100000 keys × 3 fields"
};

/// Type-erased stage, so the graph builder can wire a list of them. One virtual call per batch.
class AnyStage {
public:
    virtual ~AnyStage() = default;
    virtual std::string_view kind() const noexcept = 0;
    virtual StageShape shape() const noexcept = 0;
    virtual void process(Batch& batch, StageContext& ctx) noexcept = 0;
    /// Grows the stage's per-worker scratch to `worker_slots` slots. Called by FlowGraph and the
    /// Engine before any batch runs; a stage without scratch ignores it.
    virtual void prepare(std::size_t worker_slots) { static_cast<void>(worker_slots); }
    /// Sharded stages: runs once per batch, on one thread, before the shards process it.
    virtual void begin_batch(Batch& /*batch*/) noexcept {}
    /// Sharded stages: runs once per batch, on one thread, after every shard processed it.
    virtual void end_batch(Batch& /*batch*/) noexcept {}
    /// One line for `edgeflow check` about what this stage will do; empty for plain stages.
    virtual std::string describe() const { return {}; }
    /// What the stage holds beyond its counters, for the run summary (read after the graph
    /// stopped); empty when nothing.
    virtual std::string state() const { return {}; }
    /// The memory its bounds cost (core/runtime/memory_plan.h adds them up); zero for stages
    /// that hold nothing per key.
    virtual MemoryBound memory() const { return {}; }
    /// Adds what the stage holds to a `/metrics` scrape (key counts, events by rule...), beyond
    /// the counters and latency the engine exports for every stage. Called from the HTTP
    /// thread while the graph runs: read only atomics or data guarded for it. `stage` is the
    /// label value the engine uses for this stage's own metrics.
    virtual void metrics(MetricsWriter& writer, std::string_view stage) const {
        static_cast<void>(writer);
        static_cast<void>(stage);
    }
    /// Adds the conditions this stage needs before the pipeline is ready (state restored...),
    /// keeping the pointers Readiness::add returns to set them from any thread. Called once by
    /// `edgeflow run`, before the engine starts.
    virtual void add_readiness(Readiness& readiness) { static_cast<void>(readiness); }
    StageCounters counters;
    /// The stage's `name` in the pipeline file, empty when it has none. The summary and the
    /// `stage` label of its metrics use it, so two stages of one kind can be told apart.
    std::string name;
    /// Time process() took per batch, recorded by the graph.
    LatencyHistogram batch_latency;
};

template <Stage S>
class StageAdapter final : public AnyStage {
public:
    explicit StageAdapter(S stage) : stage_(std::move(stage)) {}
    std::string_view kind() const noexcept override { return S::kind; }
    StageShape shape() const noexcept override { return S::shape; }
    void process(Batch& batch, StageContext& ctx) noexcept override { stage_.process(batch, ctx); }
    void prepare(std::size_t worker_slots) override {
        if constexpr (requires(S & s) { s.prepare(worker_slots); }) {
            stage_.prepare(worker_slots);
        }
    }
    void begin_batch(Batch& batch) noexcept override {
        if constexpr (requires(S & s) { s.begin_batch(batch); }) {
            stage_.begin_batch(batch);
        }
    }
    void end_batch(Batch& batch) noexcept override {
        if constexpr (requires(S & s) { s.end_batch(batch, counters); }) {
            stage_.end_batch(batch, counters);
        }
    }
    std::string describe() const override {
        if constexpr (requires(const S& s) { s.describe(); }) {
            return stage_.describe();
        } else {
            return {};
        }
    }
    std::string state() const override {
        if constexpr (requires(const S& s) { s.state(); }) {
            return stage_.state();
        } else {
            return {};
        }
    }
    MemoryBound memory() const override {
        if constexpr (requires(const S& s) { s.memory(); }) {
            return stage_.memory();
        } else {
            return {};
        }
    }
    void metrics(MetricsWriter& writer, std::string_view stage) const override {
        if constexpr (requires(const S& s) { s.metrics(writer, stage); }) {
            stage_.metrics(writer, stage);
        }
    }
    void add_readiness(Readiness& readiness) override {
        if constexpr (requires(S & s) { s.add_readiness(readiness); }) {
            stage_.add_readiness(readiness);
        }
    }
    S& stage() noexcept { return stage_; }

private:
    S stage_;
};

template <Stage S>
std::unique_ptr<AnyStage> make_stage(S stage) {
    return std::make_unique<StageAdapter<S>>(std::move(stage));
}

/// What a stage did with one message, for its counters.
enum class Outcome { kept, rejected, dropped };

/// The loop most stages are: runs `fn(Message&) -> Outcome` on every live message this call
/// handles (every one, or the shard's own for a sharded stage) and counts them, so that
/// in = kept + rejected + dropped holds by construction. `fn` is inlined: no call per message.
template <typename Fn>
void for_each_live(Batch& batch, StageContext& ctx, Fn&& fn) noexcept {
    std::uint64_t in = 0;
    std::uint64_t kept = 0;
    std::uint64_t rejected = 0;
    std::uint64_t dropped = 0;
    for (Message* message : batch) {
        if (!message->live() || !ctx.owns(*message)) {
            continue;
        }
        ++in;
        switch (fn(*message)) {
            case Outcome::kept:
                ++kept;
                break;
            case Outcome::rejected:
                ++rejected;
                break;
            case Outcome::dropped:
                ++dropped;
                break;
        }
    }
    ctx.counters.add(in, kept, rejected, dropped);
}

/// Live messages of the batch that this call handles (see for_each_live).
inline std::uint64_t live_count(const Batch& batch, const StageContext& ctx) noexcept {
    std::uint64_t live = 0;
    for (const Message* m : batch) {
        live += m->live() && ctx.owns(*m) ? 1 : 0;
    }
    return live;
}

}  // namespace edgeflow
