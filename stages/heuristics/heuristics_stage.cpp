#include "stages/heuristics/heuristics_stage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <unordered_set>

#include "stages/heuristics/rule_kinds.h"
#include "stages/keyed/partition_stage.h"
#include "stages/lkv/lkv_stage.h"

#include "lang/text/datetime.h"

namespace edgeflow {

using heuristics::Rule;

// ---- What the rules share -------------------------------------------------------------------

namespace heuristics {

std::string_view traceparent_of(const Message& m) noexcept {
    for (std::size_t i = 0; i < m.property_count; ++i) {
        if (m.properties[i].key == "traceparent") {
            return m.properties[i].value;
        }
    }
    return {};
}

namespace {

void add_time(Record& r, std::string_view key, std::int64_t ms) {
    char text[40];
    const std::size_t n = dt::format(ms, "iso", text, sizeof text);
    if (n == 0) {
        r.add_int64(key, ms);  // outside what ISO 8601 years can say
    } else {
        r.add_string(key, std::string_view(text, n));
    }
}

}  // namespace

bool EventBuilder::begin(Emit& emit, const RuleCommon& rule, std::string_view key,
                         std::string_view state, std::int64_t event_ms, std::int64_t detection_ms,
                         std::uint32_t trigger, const Message* cause, bool* deferred) {
    message_ = emit.batch.emit(emit.shard, trigger, emit.rank);
    if (message_ == nullptr) {
        if (deferred == nullptr) {
            ++emit.lost;
        } else if (!*deferred) {
            *deferred = true;
            ++emit.delayed;
        }
        return false;
    }
    if (deferred != nullptr) {
        *deferred = false;
    }
    ++emit.emitted;
    cause_ = cause;
    Message& e = *message_;
    e.target = rule.target;
    e.topic.assign(cause != nullptr ? std::string_view(cause->topic) : std::string_view());
    e.key.assign(key);
    e.event_time_ms = event_ms;
    Record& r = e.record;
    r.clear();
    root_ = r.open_object({});
    r.add_string("rule", rule.id);
    r.add_string("kind", rule.kind);
    r.add_string("key", key);
    r.add_string("state", state);
    r.add_string("severity", rule.severity);
    add_time(r, "event_time", event_ms);
    add_time(r, "detection_time", detection_ms);
    values_ = r.open_object("values");
    return true;
}

void EventBuilder::finish(std::string_view more_topic, std::string_view traceparent) {
    if (cause_ == nullptr) {
        // A timer's event: its topic is the key's last one, so `{topic}` templates resolve.
        message_->topic.assign(more_topic);
    }
    Record& r = message_->record;
    r.close(values_);
    const auto topics = r.open_array("source_topics");
    if (cause_ != nullptr) {
        r.add_string({}, cause_->topic);
    }
    if (!more_topic.empty() && (cause_ == nullptr || more_topic != cause_->topic)) {
        r.add_string({}, more_topic);
    }
    r.close(topics);
    if (traceparent.empty() && cause_ != nullptr) {
        traceparent = traceparent_of(*cause_);
    }
    if (!traceparent.empty()) {
        r.add_string("traceparent", traceparent);
    }
    r.close(root_);
}

std::shared_ptr<transform::Formula> compile_formula(const ConfigNode& node, const RuleCommon& rule,
                                                    std::string_view what, RuleBuild& build) {
    const auto spec = transform::parse_formula(node, build.errors);
    auto f = transform::Formula::compile(spec, "rule '" + rule.id + "' " + std::string(what),
                                         build.lkv, build.errors);
    if (!f) {
        return nullptr;
    }
    return std::make_shared<transform::Formula>(std::move(*f));
}

std::shared_ptr<transform::Formula> required_input(MapReader& reader, const RuleCommon& rule,
                                                   std::string_view what, RuleBuild& build) {
    if (const ConfigNode* input = reader.get("input")) {
        return compile_formula(*input, rule, "input", build);
    }
    build.errors.missing(reader.node(), "input", std::string(what));
    return nullptr;
}

std::string number_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

bool number_of(const transform::Formula& f, const Message& m, expr::EvalScratch& eval,
               double& out) noexcept {
    const expr::Value v = f.eval(m, eval);
    if (!v.is_number()) {
        return false;
    }
    out = v.number();
    return std::isfinite(out);
}

}  // namespace heuristics

// ---- The stage ------------------------------------------------------------------------------

struct HeuristicsStage::Group {
    struct Shard {
        explicit Shard(std::size_t max_keys) : keys(max_keys) {}
        KeyTable keys;
        expr::EvalScratch eval;
        std::string key;
        std::uint64_t evictions = 0;
        std::uint64_t keys_missing = 0;
        std::vector<std::uint32_t> drops;  // positions a deadband rule dropped, this batch
    };
    std::shared_ptr<transform::Formula> key;  // null: the partition key
    Rule* own = nullptr;                      // a rule that keys messages itself
    std::vector<Rule*> rules;
    std::vector<std::unique_ptr<Shard>> shards;
};

HeuristicsStage::HeuristicsStage(HeuristicsStage&&) noexcept = default;
HeuristicsStage::~HeuristicsStage() = default;

std::unique_ptr<HeuristicsStage> HeuristicsStage::build(const ConfigNode& node,
                                                        const BuildContext& ctx) {
    ConfigErrors& errors = ctx.errors;
    const auto destination_index = [&ctx](std::string_view name) { return ctx.destination(name); };
    const transform::LkvLookup* lkv = ctx.section_lkv;
    std::unique_ptr<HeuristicsStage> stage(new HeuristicsStage());
    stage->shards_ = std::max<std::size_t>(1, ctx.shards);
    stage->clock_ = ctx.event_time.clock;
    stage->events_lost_ = std::make_unique<std::atomic<std::uint64_t>>(0);
    stage->events_delayed_ = std::make_unique<std::atomic<std::uint64_t>>(0);
    HeuristicsConfig& config = stage->config_;
    config.node = node;
    MapReader reader(node, errors, "a heuristics stage");
    if (!reader.ok()) {
        return nullptr;
    }
    const std::size_t errors_before = errors.size();
    reader.get("kind");
    reader.optional_string("name", config.name);
    reader.required_string("events", config.events, "the destination events go to");
    reader.optional_uint("max_keys", config.max_keys, 1, 100'000'000);
    const ConfigNode* rules = reader.get("rules");
    reader.finish();
    int events_index = -1;
    if (!config.events.empty()) {
        events_index = destination_index(config.events);
        if (events_index < 0) {
            errors.add(*node.find("events"), "the name of a destination (not the dead-letter one)",
                       "\"" + config.events + "\"");
        }
    }
    if (rules == nullptr || !rules->is_sequence() || rules->items.empty()) {
        errors.add(rules != nullptr ? *rules : node,
                   "a list of rules (" + heuristics::rule_kind_names(", ") + ")");
        return nullptr;
    }
    const std::size_t per_shard =
        std::max<std::size_t>(1, (config.max_keys + stage->shards_ - 1) / stage->shards_);
    heuristics::RuleBuild build{errors, lkv, stage->shards_, per_shard,
                                ctx.event_time.allowed_lateness_ms};
    std::unordered_set<std::string> ids;
    for (const ConfigNode& item : rules->items) {
        MapReader r(item, errors, "a heuristic rule");
        if (!r.ok()) {
            continue;
        }
        heuristics::RuleCommon common;
        common.target = events_index;
        r.required_string("id", common.id, "the rule's id, unique in the stage");
        r.required_string("kind", common.kind, heuristics::rule_kind_names());
        r.optional_string("severity", common.severity);
        if (const ConfigNode* key = r.get("key")) {
            common.key = transform::parse_formula(*key, errors);
        }
        if (const ConfigNode* destination = r.get("destination")) {
            const int index =
                destination->is_scalar() ? destination_index(destination->scalar) : -1;
            if (index < 0) {
                errors.add(*destination, "the name of a destination (not the dead-letter one)");
            } else {
                common.target = index;
            }
        }
        if (!common.id.empty() && !ids.insert(common.id).second) {
            errors.add(*item.find("id"), "a rule id unique in the stage", "\"" + common.id + "\"");
        }
        const heuristics::RuleKind* rule_kind = heuristics::find_rule_kind(common.kind);
        if (rule_kind == nullptr) {
            if (!common.kind.empty()) {
                errors.add(*item.find("kind"), heuristics::rule_kind_names(),
                           "\"" + common.kind + "\"");
                // Without a kind the rule's other keys cannot be judged: reporting them as
                // unknown would only bury the one error that matters.
                continue;
            }
            r.finish();
            continue;
        }
        std::optional<transform::FormulaSpec> key_spec = common.key;
        auto rule = rule_kind->make(std::move(common), r, build);
        r.finish();
        if (!rule) {
            continue;
        }
        // Group the rule with the others of its key.
        Group* group = nullptr;
        if (rule->has_own_key()) {
            stage->groups_.push_back(std::make_unique<Group>());
            group = stage->groups_.back().get();
            group->own = rule.get();
        } else if (key_spec) {
            auto key = transform::Formula::compile(
                *key_spec, "rule '" + rule->common().id + "' key", nullptr, errors);
            if (!key) {
                continue;
            }
            for (auto& g : stage->groups_) {
                if (g->key && g->key->text() == key->text()) {
                    group = g.get();
                }
            }
            if (group == nullptr) {
                stage->groups_.push_back(std::make_unique<Group>());
                group = stage->groups_.back().get();
                group->key = std::make_shared<transform::Formula>(std::move(*key));
            }
        } else {
            for (auto& g : stage->groups_) {
                if (!g->key && g->own == nullptr) {
                    group = g.get();
                }
            }
            if (group == nullptr) {
                stage->groups_.push_back(std::make_unique<Group>());
                group = stage->groups_.back().get();
            }
        }
        group->rules.push_back(rule.get());
        stage->rules_.push_back(std::move(rule));
    }
    if (errors.size() != errors_before) {
        return nullptr;
    }
    for (auto& group : stage->groups_) {
        for (std::size_t i = 0; i < stage->shards_; ++i) {
            group->shards.push_back(std::make_unique<Group::Shard>(per_shard));
        }
    }
    return stage;
}

void HeuristicsStage::run_clock(Group& group, unsigned shard, std::int64_t now_ms,
                                std::uint32_t position, heuristics::Emit& emit) noexcept {
    emit.position = position;
    for (Rule* rule : group.rules) {
        emit.rank = rule->common().rank;
        const std::uint64_t before = emit.emitted;
        rule->on_clock(shard, now_ms, emit);
        if (emit.emitted != before) {
            rule->count_events(emit.emitted - before);
        }
    }
}

void HeuristicsStage::process(Batch& batch, StageContext& ctx) noexcept {
    heuristics::Emit emit{batch, ctx.shard};
    const std::uint64_t in = live_count(batch, ctx);
    for (auto& group : groups_) {
        Group::Shard& gs = *group->shards[ctx.shard];
        for (std::uint32_t position = 0; position < batch.size(); ++position) {
            Message& m = batch[position];
            if (!m.live()) {
                continue;
            }
            if (clock_ == ClockMode::event) {
                // Every shard's timers, before every message: a replay fires them at the same
                // place whatever the batches and whichever shard the message belongs to.
                run_clock(*group, ctx.shard, m.clock_ms, position, emit);
            }
            gs.eval.reset();
            gs.eval.as_of = position;  // `$lkv` reads see the store as of this message
            std::string_view key;
            std::uint64_t hash = 0;
            if (group->own == nullptr && !group->key) {
                if (!ctx.owns(m)) {
                    continue;
                }
                key = m.key;
                hash = m.key_hash;
            } else {
                gs.key.clear();
                const bool keyed =
                    group->own != nullptr
                        ? group->own->own_key(m, gs.eval, gs.key)
                        : transform::append_key_text(gs.key, group->key->eval(m, gs.eval));
                if (!keyed) {
                    gs.keys_missing += group->own == nullptr && ctx.shard == 0 ? 1 : 0;
                    continue;
                }
                hash = key_hash(gs.key);
                if (ctx.shards > 1 && hash % ctx.shards != ctx.shard) {
                    continue;
                }
                key = gs.key;
            }
            const auto found = gs.keys.insert(key, hash);
            if (found.inserted) {
                gs.evictions += found.evicted ? 1 : 0;
                for (Rule* rule : group->rules) {
                    rule->reset(ctx.shard, found.slot);
                }
            }
            gs.keys.touch(found.slot);
            heuristics::Sample sample{m, position, key, gs.eval};
            for (Rule* rule : group->rules) {
                emit.rank = rule->common().rank | Message::raised_by_message;
                const std::uint64_t before = emit.emitted;
                rule->on_message(ctx.shard, found.slot, sample, emit);
                if (emit.emitted != before) {
                    rule->count_events(emit.emitted - before);
                }
                if (sample.drop) {
                    // A deadband rule passing only changes. Other shards may be reading this
                    // message now, so it is marked dropped after the stage (end_batch).
                    gs.drops.push_back(position);
                    break;
                }
            }
        }
        if (clock_ == ClockMode::wall) {
            run_clock(*group, ctx.shard, batch.clock_ms, static_cast<std::uint32_t>(batch.size()),
                      emit);
        }
    }
    if (emit.lost > 0) {
        events_lost_->fetch_add(emit.lost, std::memory_order_relaxed);
    }
    if (emit.delayed > 0) {
        events_delayed_->fetch_add(emit.delayed, std::memory_order_relaxed);
    }
    ctx.counters.add(in, 0, 0);  // out and dropped once the drops are applied (end_batch)
}

void HeuristicsStage::end_batch(Batch& batch, StageCounters& counters) noexcept {
    std::uint64_t live = 0;
    std::uint64_t dropped = 0;
    for (auto& group : groups_) {
        for (auto& shard : group->shards) {
            for (const std::uint32_t position : shard->drops) {
                Message& m = batch[position];
                dropped += m.dropped ? 0 : 1;  // two groups may drop the same message
                m.dropped = true;
            }
            shard->drops.clear();
        }
    }
    for (const Message* m : batch) {
        live += m->live() && !m->emitted ? 1 : 0;
    }
    counters.add(0, live, 0, dropped);
}

std::vector<std::int32_t> HeuristicsStage::targets() const {
    std::vector<std::int32_t> out;
    for (const auto& rule : rules_) {
        if (std::find(out.begin(), out.end(), rule->common().target) == out.end()) {
            out.push_back(rule->common().target);
        }
    }
    return out;
}

std::string HeuristicsStage::describe() const {
    std::string text = "heuristics '" + config_.name + "': " + std::to_string(rules_.size()) +
                       " rule(s) → '" + config_.events + "', " + std::to_string(groups_.size()) +
                       " key table(s) of at most " + std::to_string(config_.max_keys) + " keys";
    for (const auto& rule : rules_) {
        text += "\n                " + rule->describe();
    }
    return text;
}

void HeuristicsStage::metrics(MetricsWriter& writer, std::string_view stage) const {
    for (const auto& rule : rules_) {
        writer.counter(
            "edgeflow_events_total", "Events emitted, by rule",
            {{"stage", stage}, {"rule", rule->common().id}, {"kind", rule->common().kind}},
            static_cast<double>(rule->events()));
        writer.counter("edgeflow_rule_late_total",
                       "Samples that came for a window the rule had already closed",
                       {{"stage", stage}, {"rule", rule->common().id}},
                       static_cast<double>(rule->late()));
        writer.counter("edgeflow_rule_skipped_total",
                       "Messages a rule could not use (input missing or not a number)",
                       {{"stage", stage}, {"rule", rule->common().id}},
                       static_cast<double>(rule->skipped()));
    }
    writer.counter("edgeflow_events_lost_total",
                   "Events given up because a shard's outbox had no room for them "
                   "(runtime.max_emitted_per_batch)",
                   {{"stage", stage}},
                   static_cast<double>(events_lost_->load(std::memory_order_relaxed)));
    writer.counter("edgeflow_events_delayed_total",
                   "Timer events that found a shard's outbox full and came out at a later tick, "
                   "each counted once",
                   {{"stage", stage}},
                   static_cast<double>(events_delayed_->load(std::memory_order_relaxed)));
}

MemoryBound HeuristicsStage::memory() const {
    MemoryBound bound;
    std::uint64_t keys = 0;
    for (const auto& group : groups_) {
        const std::size_t per_shard = group->shards.front()->keys.capacity();
        const std::uint64_t tables = shards_ * KeyTable::reserved_bytes(per_shard);
        std::uint64_t per_key = KeyTable::assumed_key_bytes;
        for (const Rule* rule : group->rules) {
            per_key += rule->state_bytes_per_key();
        }
        bound.at_start += tables;
        bound.at_most += tables + shards_ * per_shard * per_key;
        keys += shards_ * per_shard;
    }
    bound.what = std::to_string(groups_.size()) + " key table(s), " + std::to_string(keys) +
                 " keys in all (max_keys), with each rule's state per key";
    return bound;
}

std::string HeuristicsStage::state() const {
    std::size_t keys = 0;
    std::uint64_t evictions = 0;
    std::uint64_t missing = 0;
    for (const auto& group : groups_) {
        for (const auto& shard : group->shards) {
            keys += shard->keys.size();
            evictions += shard->evictions;
            missing += shard->keys_missing;
        }
    }
    std::string text = "keys: " + std::to_string(keys) + ", evicted: " + std::to_string(evictions) +
                       ", events lost (outbox full): " +
                       std::to_string(events_lost_->load(std::memory_order_relaxed)) +
                       ", delayed to a later tick: " +
                       std::to_string(events_delayed_->load(std::memory_order_relaxed));
    if (missing > 0) {
        text += ", messages without a rule key: " + std::to_string(missing);
    }
    for (const auto& rule : rules_) {
        text += "\n             rule '" + rule->common().id +
                "': " + std::to_string(rule->events()) + " event(s), " +
                std::to_string(rule->skipped()) + " message(s) without a usable input";
        if (rule->late() > 0) {
            text += ", " + std::to_string(rule->late()) + " sample(s) late for a closed window";
        }
    }
    return text;
}

std::unique_ptr<AnyStage> build_heuristics_stage(const ConfigNode& block, BuildContext& ctx) {
    auto built = HeuristicsStage::build(block, ctx);
    if (!built) {
        return nullptr;
    }
    const std::uint32_t first_rank =
        ctx.reserve_emit_ranks(static_cast<std::uint32_t>(built->rules().size()));
    for (std::size_t i = 0; i < built->rules().size(); ++i) {
        built->rules()[i]->set_rank(first_rank + static_cast<std::uint32_t>(i));
    }
    for (const auto target : built->targets()) {
        if (target >= 0) {
            ctx.declare_emitted(static_cast<std::size_t>(target));
        }
    }
    return make_stage(std::move(*built));
}

}  // namespace edgeflow
