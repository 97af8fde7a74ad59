// Rule: one heuristic of a heuristics stage (one kind per file, listed in rule_kinds.h), and
// what the rules share — per-key state, and the events they
// emit.
//
// A rule sees the messages of its keys in arrival order, one shard at a time: the heuristics
// stage gives it the message and the slot of the message's key in the shard's key table, and
// the rule keeps its state per (shard, slot). reset() is called whenever a slot gets a new key.
// on_clock() runs after every shard's batch with the processing time, for timers (stale keys,
// windows closing without new data, missing acknowledgements).
//
// Events are messages the rule emits into the batch (Batch::emit) for the stage's events
// destination (or the rule's own), with this documented record:
//
//   {"rule": "hot", "kind": "threshold", "key": "dev-7", "state": "raised",
//    "severity": "warning", "event_time": "2026-...Z", "detection_time": "2026-...Z",
//    "values": {...what decided it...}, "source_topics": ["plant/dev-7/telemetry"],
//    "traceparent": "00-..."}                        # when the trigger carried one
//
// state is `raised` or `cleared` for conditions that hold for a while (threshold, stale,
// rate_of_change), `fired` for single occurrences (correlate, anomaly, deadband, window).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/config/map_reader.h"
#include "lang/expr/program.h"
#include "lang/transform/formula.h"

namespace edgeflow::heuristics {

/// What every rule has, read by the heuristics stage.
struct RuleCommon {
    std::string id;
    std::string kind;
    std::string severity = "warning";
    std::int32_t target = 0;                    ///< destination index of its events
    std::optional<transform::FormulaSpec> key;  ///< none: the partition key
    std::uint32_t rank = 0;  ///< Message::emit_rank of its events (the pipeline's order of rules)
};

/// Per shard and call: where the rule's events go and what caused them.
struct Emit {
    Batch& batch;
    unsigned shard;
    std::uint32_t position = 0;  ///< timers: where in the batch what they emit belongs
    std::uint32_t rank = 0;      ///< Message::emit_rank of what the current call emits
    std::uint64_t lost = 0;      ///< events the shard's outbox had no room for, given up
    std::uint64_t delayed = 0;   ///< events that found no room and wait for a later tick
    std::uint64_t emitted = 0;
};

/// What the rule gets with each message.
struct Sample {
    Message& message;
    std::uint32_t position;  ///< in the batch: the trigger of what it emits
    std::string_view key;    ///< the rule's key for this message
    expr::EvalScratch& eval;
    bool drop = false;  ///< set by a rule to drop the message (rules after it skip it)
};

/// Builds one event record. Usage: begin(), then values via record(), then finish().
class EventBuilder {
public:
    /// Starts an event; false (and nothing emitted) when the outbox is full. Without `deferred`
    /// the event is then lost and counted so. A rule that tries again later (a timer at its
    /// next tick) passes the flag it keeps for that event: the event is counted as delayed the
    /// first time only, and the flag is cleared once it is emitted.
    bool begin(Emit& emit, const RuleCommon& rule, std::string_view key, std::string_view state,
               std::int64_t event_ms, std::int64_t detection_ms, std::uint32_t trigger,
               const Message* cause, bool* deferred = nullptr);
    Record& values() noexcept { return message_->record; }
    /// Closes `values`, adds the source topics (the cause's topic and `more`) and traceparent.
    void finish(std::string_view more_topic = {}, std::string_view traceparent = {});
    Message* message() noexcept { return message_; }

private:
    Message* message_ = nullptr;
    const Message* cause_ = nullptr;
    std::uint32_t root_ = 0;
    std::uint32_t values_ = 0;
};

/// The value of the W3C `traceparent` user property of `m`, or empty.
std::string_view traceparent_of(const Message& m) noexcept;

/// Per-key state of type T, by shard and slot; grows as slots are first used.
template <typename T>
class KeyedState {
public:
    explicit KeyedState(std::size_t shards) : shards_(shards) {}
    T& at(unsigned shard, std::uint32_t slot) {
        auto& v = shards_[shard];
        if (slot >= v.size()) {
            v.resize(slot + 1);
        }
        return v[slot];
    }
    std::vector<T>& shard(unsigned shard) noexcept { return shards_[shard]; }

private:
    std::vector<std::vector<T>> shards_;
};

class Rule {
public:
    explicit Rule(RuleCommon common) : common_(std::move(common)) {}
    virtual ~Rule() = default;

    const RuleCommon& common() const noexcept { return common_; }
    void set_rank(std::uint32_t rank) noexcept { common_.rank = rank; }
    /// The slot now belongs to a new key (or was freed): forget what it held.
    virtual void reset(unsigned shard, std::uint32_t slot) noexcept = 0;
    virtual void on_message(unsigned shard, std::uint32_t slot, Sample& sample,
                            Emit& emit) noexcept = 0;
    /// Timers: called after each batch of a shard with the processing time.
    virtual void on_clock(unsigned /*shard*/, std::int64_t /*now_ms*/, Emit& /*emit*/) noexcept {}
    /// Correlate: whether this message takes part, and its key (the rule keys it itself).
    virtual bool own_key(const Message& /*m*/, expr::EvalScratch& /*eval*/,
                         std::string& /*key*/) const noexcept {
        return false;
    }
    virtual bool has_own_key() const noexcept { return false; }
    /// "threshold 'hot': temperatureF > 80 raises, < 75 clears, 3 samples"
    virtual std::string describe() const = 0;
    /// What the rule keeps per key at most (its state, histories, open windows, key text),
    /// for the memory `check` shows (core/runtime/memory_plan.h).
    virtual std::size_t state_bytes_per_key() const noexcept = 0;

    /// Messages the rule could not use (input missing or not a number), for the summary.
    std::uint64_t skipped() const noexcept { return skipped_.load(std::memory_order_relaxed); }
    /// Samples that came for a window already closed (window rules), for the summary.
    std::uint64_t late() const noexcept { return late_.load(std::memory_order_relaxed); }
    std::uint64_t events() const noexcept { return events_.load(std::memory_order_relaxed); }
    void count_events(std::uint64_t n) noexcept { events_.fetch_add(n, std::memory_order_relaxed); }

protected:
    void skip() noexcept { skipped_.fetch_add(1, std::memory_order_relaxed); }
    void count_late() noexcept { late_.fetch_add(1, std::memory_order_relaxed); }
    RuleCommon common_;

private:
    std::atomic<std::uint64_t> skipped_{0};
    std::atomic<std::uint64_t> late_{0};
    std::atomic<std::uint64_t> events_{0};
};

/// A rule with per-key state of type `State`, forgotten when a slot gets a new key.
/// Text a rule keeps per key (its key or last topic) counted at this size in memory figures:
/// strings hold 15 bytes in place, longer ones allocate.
inline constexpr std::size_t assumed_text_bytes = 48;

template <typename State>
class StatefulRule : public Rule {
public:
    StatefulRule(RuleCommon common, std::size_t shards) : Rule(std::move(common)), state_(shards) {}
    std::size_t state_bytes_per_key() const noexcept override { return sizeof(State); }
    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        state_.at(shard, slot) = State{};
    }

protected:
    KeyedState<State> state_;
};

/// What building a rule needs besides its config.
struct RuleBuild {
    ConfigErrors& errors;
    const transform::LkvLookup* lkv;
    std::size_t shards;
    std::size_t max_keys_per_shard;
    /// event_time.allowed_lateness: how far behind its key's newest sample one may still come.
    std::int64_t allowed_lateness_ms = 0;
};

/// Compiles a formula or records the error; `what` names it for messages.
std::shared_ptr<transform::Formula> compile_formula(const ConfigNode& node, const RuleCommon& rule,
                                                    std::string_view what, RuleBuild& build);
/// The rule's `input` formula, compiled; null after adding an error (missing, or not compiling).
/// `what` says what the input is, for the missing-key error.
std::shared_ptr<transform::Formula> required_input(MapReader& reader, const RuleCommon& rule,
                                                   std::string_view what, RuleBuild& build);
/// A number as descriptions print it: "80", "0.5", "1e+06".
std::string number_text(double value);
/// The number a formula gives, or false when missing or not a number.
bool number_of(const transform::Formula& f, const Message& m, expr::EvalScratch& eval,
               double& out) noexcept;

// Each rule kind is one row of rule_kinds.cpp (stages/heuristics/rule_kinds.h).

}  // namespace edgeflow::heuristics
