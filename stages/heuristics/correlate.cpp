// correlate: fuses sources — camera, sensor, external feeds — on a correlation key.
//
//   kind: correlate
//   within: 10s
//   mode: all                # all (default) | absent
//   sources:
//     - {name: camera, topic: plant/cameras/+/detections, key: zone,
//        condition: {inputs: [label], expression: '$1 == "person"'}}
//     - {name: gas, topic: plant/gas/#, key: area, condition: {inputs: [ppm], expression: "$1 >
//     50"}}
//
// Each message is matched to the sources by topic filter; the first matching source's `key`
// formula keys it (sources sharing a topic should share a key). `all` fires when every source's
// condition has held for the same key within `within` of event time (then starts over, so one
// co-occurrence fires once). `absent` takes exactly two sources, A then B, and fires when A's
// condition holds and no B follows within `within` — a missing acknowledgement — on the
// processing clock; a B in time cancels it.
#include <algorithm>
#include <array>

#include "stages/heuristics/rule.h"

#include "lang/topic_filter.h"

namespace edgeflow::heuristics {
namespace {

constexpr std::size_t max_sources = 8;

class CorrelateRule final : public Rule {
public:
    struct Source {
        std::string name;
        std::string topic;
        std::shared_ptr<transform::Formula> key;
        std::shared_ptr<transform::Formula> condition;  // null: always
    };
    struct Config {
        std::vector<Source> sources;
        std::int64_t within_ms = 0;
        bool absent = false;
    };

    CorrelateRule(RuleCommon common, Config config, std::size_t shards)
        : Rule(std::move(common)), config_(std::move(config)), state_(shards), timers_(shards) {}

    bool has_own_key() const noexcept override { return true; }
    bool own_key(const Message& m, expr::EvalScratch& eval,
                 std::string& key) const noexcept override {
        for (const Source& source : config_.sources) {
            if (topic_matches(source.topic, m.topic)) {
                return transform::append_key_text(key, source.key->eval(m, eval));
            }
        }
        return false;
    }

    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        State& st = state_.at(shard, slot);
        st.held.fill(false);
        st.pending = false;
        st.deferred = false;
        ++st.generation;
    }

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        State& st = state_.at(shard, slot);
        const std::int64_t t = s.message.event_time_ms;
        if (st.key != s.key) {
            st.key.assign(s.key);
        }
        for (std::size_t i = 0; i < config_.sources.size(); ++i) {
            const Source& source = config_.sources[i];
            if (!topic_matches(source.topic, s.message.topic)) {
                continue;
            }
            if (source.condition) {
                const expr::Value v = source.condition->eval(s.message, s.eval);
                if (v.kind != expr::Kind::boolean) {
                    skip();
                    continue;
                }
                if (!v.boolean) {
                    continue;
                }
            }
            if (config_.absent) {
                on_absent_source(shard, slot, st, i, s, t);
                continue;
            }
            st.held[i] = true;
            st.time_ms[i] = t;
            st.topics[i].assign(s.message.topic);
            const bool all = std::all_of(st.held.begin(), st.held.begin() + config_.sources.size(),
                                         [](bool h) { return h; });
            if (!all) {
                continue;
            }
            const auto [oldest, newest] = std::minmax_element(
                st.time_ms.begin(), st.time_ms.begin() + config_.sources.size());
            if (*newest - *oldest > config_.within_ms) {
                continue;  // the others are too old to count with this one
            }
            EventBuilder event;
            if (event.begin(emit, common_, s.key, "fired", t, s.message.clock_ms, s.position,
                            &s.message)) {
                Record& v = event.values();
                for (std::size_t j = 0; j < config_.sources.size(); ++j) {
                    v.add_int64(config_.sources[j].name + "_time_ms", st.time_ms[j]);
                }
                v.add_int64("spread_ms", *newest - *oldest);
                const std::size_t other = i == 0 ? 1 : 0;
                event.finish(st.topics[other]);
            }
            st.held.fill(false);
        }
    }

    void on_clock(unsigned shard, std::int64_t now_ms, Emit& emit) noexcept override {
        auto& timers = timers_[shard];
        while (!timers.empty() && timers.front().due_ms <= now_ms) {
            const Timer timer = timers.front();
            State& st = state_.at(shard, timer.slot);
            if (st.pending && st.generation == timer.generation) {
                EventBuilder event;
                if (!event.begin(emit, common_, st.key, "fired", timer.due_ms, now_ms,
                                 emit.position, nullptr, &st.deferred)) {
                    return;  // outbox full: next tick
                }
                Record& v = event.values();
                v.add_string("missing", config_.sources[1].name);
                v.add_int64(config_.sources[0].name + "_time_ms", st.time_ms[0]);
                v.add_int64("within_ms", config_.within_ms);
                event.finish(st.topics[0]);
                st.pending = false;
            }
            std::pop_heap(timers.begin(), timers.end(), later);
            timers.pop_back();
        }
    }

    std::string describe() const override {
        std::string names;
        for (const auto& s : config_.sources) {
            names += (names.empty() ? "" : ", ") + s.name + " (" + s.topic + ")";
        }
        return "correlate '" + common_.id + "': " + (config_.absent ? "absent: " : "all of: ") +
               names + " within " + std::to_string(config_.within_ms) + " ms";
    }

public:
    std::size_t state_bytes_per_key() const noexcept override {
        return sizeof(State) + (max_sources + 1) * assumed_text_bytes;
    }

private:
    struct State {
        std::array<bool, max_sources> held{};
        std::array<std::int64_t, max_sources> time_ms{};
        std::array<std::string, max_sources> topics;
        bool pending = false;   // absent: A seen, B awaited
        bool deferred = false;  // its absence event found the outbox full: delayed, once
        std::uint64_t generation = 0;
        std::string key;
    };
    struct Timer {
        std::int64_t due_ms;
        std::uint32_t slot;
        std::uint64_t generation;
    };
    static bool later(const Timer& a, const Timer& b) noexcept { return a.due_ms > b.due_ms; }

    void on_absent_source(unsigned shard, std::uint32_t slot, State& st, std::size_t source,
                          Sample& s, std::int64_t t) {
        if (source == 0) {
            ++st.generation;  // a new A replaces the one awaited
            st.pending = true;
            st.time_ms[0] = t;
            st.topics[0].assign(s.message.topic);
            auto& timers = timers_[shard];
            // Due on the processing clock `within` after A was seen.
            timers.push_back({s.message.clock_ms + config_.within_ms, slot, st.generation});
            std::push_heap(timers.begin(), timers.end(), later);
        } else if (st.pending && t >= st.time_ms[0] && t - st.time_ms[0] <= config_.within_ms) {
            st.pending = false;
        }
    }

    Config config_;
    KeyedState<State> state_;
    std::vector<std::vector<Timer>> timers_;  // min-heaps by due time
};

}  // namespace

std::unique_ptr<Rule> make_correlate(RuleCommon common, MapReader& reader, RuleBuild& build) {
    CorrelateRule::Config config;
    bool ok = reader.required_duration("within", config.within_ms, 1, 30LL * 86'400'000);
    enum class Mode { all, absent };
    Mode mode = Mode::all;
    reader.optional_choice("mode", mode, {{"all", Mode::all}, {"absent", Mode::absent}});
    config.absent = mode == Mode::absent;
    if (common.key) {
        build.errors.add(reader.node(), "no `key` on a correlate rule (each source has its own)");
        ok = false;
    }
    const ConfigNode* sources = reader.get("sources");
    if (sources == nullptr || !sources->is_sequence() || sources->items.size() < 2 ||
        sources->items.size() > max_sources) {
        build.errors.add(sources != nullptr ? *sources : reader.node(),
                         "a list of 2 to " + std::to_string(max_sources) +
                             " sources, each {name, topic, key, condition}");
        return nullptr;
    }
    if (config.absent && sources->items.size() != 2) {
        build.errors.add(*sources, "exactly two sources with mode: absent (A, then the B awaited)");
        ok = false;
    }
    for (const ConfigNode& item : sources->items) {
        MapReader r(item, build.errors, "a correlate source");
        if (!r.ok()) {
            ok = false;
            continue;
        }
        CorrelateRule::Source source;
        r.required_string("name", source.name, "the source's name, used in the event");
        r.required_string("topic", source.topic, "an MQTT topic filter");
        if (!source.topic.empty() && !valid_topic_filter(source.topic)) {
            build.errors.add(*item.find("topic"), "a valid MQTT topic filter",
                             "\"" + source.topic + "\"");
            ok = false;
        }
        if (const ConfigNode* key = r.get("key")) {
            source.key = compile_formula(*key, common, "source key", build);
        } else {
            build.errors.missing(item, "key", "the correlation key of this source's messages");
        }
        if (const ConfigNode* condition = r.get("condition")) {
            source.condition = compile_formula(*condition, common, "source condition", build);
            ok = ok && source.condition != nullptr;
        }
        r.finish();
        ok = ok && source.key != nullptr;
        config.sources.push_back(std::move(source));
    }
    if (!ok) {
        return nullptr;
    }
    return std::make_unique<CorrelateRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
