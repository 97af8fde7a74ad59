// window: aggregates of the input per key over tumbling, hopping or count windows.
//
//   window: {type: tumbling, size: 10s}              windows [k*size, (k+1)*size) of event time
//   window: {type: hopping, size: 10s, hop: 5s}      size/hop overlapping windows (at most 64)
//   window: {type: count, count: 100}                every `count` samples
//   close_when: <formula>                            also close after a sample that makes it true
//   aggregates: [avg, sum, min, max, count, first, last, stddev]   (default: avg min max count)
//   condition: {inputs: [avg], expression: "$1 > 80"}             over the aggregates
//   grace: 2s                                        timers wait this much longer (processing time)
//
// Time windows close on a watermark: the newest event time of the window's key minus
// event_time.allowed_lateness. A window closes once the watermark reaches its end, so a sample
// that comes out of order but within the allowed lateness still lands in its window; or, for a
// key gone quiet, once the processing clock passes its end plus the allowed lateness plus
// `grace`. A sample for a window that has closed already (only possible after such a timer) is
// counted as late for that window (`late`, edgeflow_rule_late_total); the order stage has
// already dead-lettered samples older than the lateness. Count windows close after `count`
// samples in arrival order. Closing emits the aggregates (state `closed`), or, with a
// `condition`, an event (state `fired`) when the condition holds. A window nothing fell into
// is never opened, so it emits nothing. first/last are by event time; stddev is the population
// standard deviation (Welford).
#include <algorithm>
#include <array>
#include <cmath>

#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

enum class WindowType { tumbling, hopping, count };
enum Aggregate : unsigned { avg, sum, min, max, count, first, last, stddev, aggregate_count };
constexpr std::string_view aggregate_names[] = {"avg",   "sum",   "min",  "max",
                                                "count", "first", "last", "stddev"};
constexpr std::size_t max_open = 64;
// Windows one key may hold open while the watermark trails its newest sample by the allowed
// lateness: a bound on per-key memory, checked at load.
constexpr std::size_t max_open_with_lateness = 1024;

class WindowRule final : public Rule {
public:
    struct Config {
        std::shared_ptr<transform::Formula> input;
        WindowType type = WindowType::tumbling;
        std::int64_t size_ms = 0;
        std::int64_t hop_ms = 0;
        std::uint64_t count = 0;
        std::int64_t grace_ms = 0;
        std::int64_t lateness_ms = 0;  ///< event_time.allowed_lateness
        std::shared_ptr<transform::Formula> close_when;
        std::shared_ptr<transform::Formula> condition;
        std::array<bool, aggregate_count> aggregates{};
    };

    WindowRule(RuleCommon common, Config config, std::size_t shards)
        : Rule(std::move(common)),
          config_(std::move(config)),
          // The windows the watermark has not closed, plus room for two whose result is
          // waiting for space in the outbox.
          capacity_(open_windows(config_) + 2),
          state_(shards),
          shards_(shards) {
        for (auto& s : shards_) {
            s.condition_input = std::make_unique<Message>();
            s.eval = std::make_unique<expr::EvalScratch>();
        }
    }

    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        State& st = state_.at(shard, slot);
        st.open = 0;
        st.closed_to_ms = INT64_MIN;
        ++st.generation;
    }

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        double value = 0;
        if (!number_of(*config_.input, s.message, s.eval, value)) {
            skip();
            return;
        }
        State& st = state_.at(shard, slot);
        if (st.windows.size() != capacity_) {
            st.windows.resize(capacity_);  // once per key slot
        }
        if (st.key != s.key) {
            st.key.assign(s.key);  // for what a timer emits
        }
        if (st.topic != s.message.topic) {
            st.topic.assign(s.message.topic);
        }
        const std::int64_t t = s.message.event_time_ms;
        if (config_.type == WindowType::count) {
            if (st.open == 0) {
                st.windows[0] = Window{};
                st.open = 1;
            }
            add(st.windows[0], value, t);
            if (st.windows[0].n >= config_.count) {
                close(shard, st, 0, s.message.clock_ms, s.position, &s.message, emit);
            }
        } else {
            // The key's watermark: windows that end by then can get no more samples.
            st.closed_to_ms = std::max(st.closed_to_ms, t - config_.lateness_ms);
            // A window whose result finds no room stays open: its timer closes it later.
            while (st.open > 0 && st.windows[0].end_ms <= st.closed_to_ms &&
                   close(shard, st, 0, s.message.clock_ms, s.position, &s.message, emit)) {
            }
            const std::int64_t step =
                config_.type == WindowType::tumbling ? config_.size_ms : config_.hop_ms;
            // Starts of the windows holding t: multiples of step in (t - size, t].
            const std::int64_t last_start = floor_to(t, step);
            for (std::int64_t start = last_start - (config_.size_ms / step - 1) * step;
                 start <= last_start; start += step) {
                if (start + config_.size_ms <= t) {
                    continue;
                }
                if (start + config_.size_ms <= st.closed_to_ms) {
                    count_late();  // a timer closed this window before the sample came
                    continue;
                }
                Window* w = find_or_open(shard, slot, st, start);
                if (w != nullptr) {
                    add(*w, value, t);
                } else {
                    skip();  // no room: more windows open than the bound (held for the outbox)
                }
            }
        }
        if (config_.close_when) {
            const expr::Value v = config_.close_when->eval(s.message, s.eval);
            if (v.kind == expr::Kind::boolean && v.boolean) {
                while (st.open > 0 &&
                       close(shard, st, 0, s.message.clock_ms, s.position, &s.message, emit)) {
                }
            }
        }
    }

    void on_clock(unsigned shard, std::int64_t now_ms, Emit& emit) noexcept override {
        if (config_.type == WindowType::count) {
            return;
        }
        auto& timers = shards_[shard].timers;
        while (!timers.empty() &&
               timers.front().end_ms + config_.lateness_ms + config_.grace_ms <= now_ms) {
            const Timer timer = timers.front();
            State& st = state_.at(shard, timer.slot);
            if (st.generation == timer.generation) {
                st.closed_to_ms = std::max(st.closed_to_ms, timer.end_ms);
                bool closed = true;
                while (closed && st.open > 0 && st.windows[0].end_ms <= timer.end_ms) {
                    closed = close(shard, st, 0, now_ms, emit.position, nullptr, emit);
                }
                if (!closed) {
                    return;  // outbox full: next tick
                }
            }
            std::pop_heap(timers.begin(), timers.end(), later);
            timers.pop_back();
        }
    }

    std::string describe() const override {
        std::string text = "window '" + common_.id + "': " + config_.input->text() + " over ";
        switch (config_.type) {
            case WindowType::tumbling:
                text += "tumbling " + std::to_string(config_.size_ms) + " ms";
                break;
            case WindowType::hopping:
                text += "hopping " + std::to_string(config_.size_ms) + " ms every " +
                        std::to_string(config_.hop_ms) + " ms";
                break;
            case WindowType::count:
                text += std::to_string(config_.count) + " samples";
                break;
        }
        return text + (config_.condition ? ", event when " + config_.condition->text()
                                         : std::string(", emits the aggregates"));
    }

private:
    struct Window {
        std::int64_t start_ms = 0;
        std::int64_t end_ms = 0;
        std::uint64_t n = 0;
        double sum = 0, min = 0, max = 0, mean = 0, m2 = 0;
        double first = 0, last = 0;
        std::int64_t first_ms = 0, last_ms = 0;
        bool deferred = false;  // its result found the outbox full: counted as delayed once
    };
    struct State {
        std::vector<Window> windows;  // open windows, oldest first; sized on first use
        std::size_t open = 0;
        std::int64_t closed_to_ms = INT64_MIN;  // windows ending by then have closed
        std::uint64_t generation = 0;
        std::string key;
        std::string topic;
    };
    struct Timer {
        std::int64_t end_ms;
        std::uint32_t slot;
        std::uint64_t generation;
    };
    static bool later(const Timer& a, const Timer& b) noexcept { return a.end_ms > b.end_ms; }
    struct ShardData {
        std::vector<Timer> timers;                 // min-heap by end
        std::unique_ptr<Message> condition_input;  // the aggregates, for `condition`
        std::unique_ptr<expr::EvalScratch> eval;
    };

    static std::int64_t floor_to(std::int64_t t, std::int64_t step) noexcept {
        const std::int64_t q = t / step;
        return (t % step < 0 ? q - 1 : q) * step;
    }

    static void add(Window& w, double value, std::int64_t t) noexcept {
        if (w.n == 0) {
            w.min = w.max = w.first = w.last = value;
            w.first_ms = w.last_ms = t;
        }
        ++w.n;
        w.sum += value;
        w.min = std::min(w.min, value);
        w.max = std::max(w.max, value);
        const double delta = value - w.mean;
        w.mean += delta / static_cast<double>(w.n);
        w.m2 += delta * (value - w.mean);
        if (t < w.first_ms) {
            w.first = value;
            w.first_ms = t;
        }
        if (t >= w.last_ms) {
            w.last = value;
            w.last_ms = t;
        }
    }

public:
    std::size_t state_bytes_per_key() const noexcept override {
        // A timer per open window, beside the windows themselves.
        return sizeof(State) + capacity_ * (sizeof(Window) + sizeof(Timer)) +
               2 * assumed_text_bytes;
    }

    // Windows a key may hold open at once: those from the watermark's to the newest sample's.
    static std::size_t open_windows(const Config& c) noexcept {
        if (c.type == WindowType::count) {
            return 1;
        }
        const std::int64_t step = c.type == WindowType::hopping ? c.hop_ms : c.size_ms;
        return static_cast<std::size_t>((c.size_ms + c.lateness_ms + step - 1) / step) + 1;
    }

private:
    // The open window starting at `start`, opened if need be (callers check it is not closed);
    // null when the key has no room for another.
    Window* find_or_open(unsigned shard, std::uint32_t slot, State& st, std::int64_t start) {
        for (std::size_t i = 0; i < st.open; ++i) {
            if (st.windows[i].start_ms == start) {
                return &st.windows[i];
            }
        }
        if (st.open == capacity_) {
            return nullptr;
        }
        std::size_t at = st.open;
        while (at > 0 && st.windows[at - 1].start_ms > start) {
            st.windows[at] = st.windows[at - 1];
            --at;
        }
        st.windows[at] = Window{};
        st.windows[at].start_ms = start;
        st.windows[at].end_ms = start + config_.size_ms;
        ++st.open;
        auto& timers = shards_[shard].timers;
        timers.push_back({start + config_.size_ms, slot, st.generation});
        std::push_heap(timers.begin(), timers.end(), later);
        return &st.windows[at];
    }

    double value_of(const Window& w, unsigned a) const noexcept {
        switch (a) {
            case avg:
                return w.mean;
            case sum:
                return w.sum;
            case min:
                return w.min;
            case max:
                return w.max;
            case count:
                return static_cast<double>(w.n);
            case first:
                return w.first;
            case last:
                return w.last;
            default:
                return std::sqrt(w.m2 / static_cast<double>(w.n));
        }
    }

    void add_aggregates(Record& r, const Window& w) const {
        for (unsigned a = 0; a < aggregate_count; ++a) {
            if (!config_.aggregates[a]) {
                continue;
            }
            if (a == count) {
                r.add_int64(aggregate_names[a], static_cast<std::int64_t>(w.n));
            } else {
                r.add_double(aggregate_names[a], value_of(w, a));
            }
        }
    }

    // Closes the oldest open window; false when its output found no room (it stays open).
    bool close(unsigned shard, State& st, std::size_t index, std::int64_t now_ms,
               std::uint32_t trigger, const Message* cause, Emit& emit) {
        const Window w = st.windows[index];
        bool emit_it = true;
        if (config_.condition) {
            Message& in = *shards_[shard].condition_input;
            in.record.clear();
            const auto root = in.record.open_object({});
            for (unsigned a = 0; a < aggregate_count; ++a) {
                if (a == count) {
                    in.record.add_int64(aggregate_names[a], static_cast<std::int64_t>(w.n));
                } else {
                    in.record.add_double(aggregate_names[a], value_of(w, a));
                }
            }
            in.record.close(root);
            in.clock_ms = now_ms;
            expr::EvalScratch& eval = *shards_[shard].eval;
            eval.reset();
            eval.as_of = trigger;
            const expr::Value v = config_.condition->eval(in, eval);
            emit_it = v.kind == expr::Kind::boolean && v.boolean;
        }
        if (emit_it) {
            EventBuilder event;
            const std::int64_t event_ms = config_.type == WindowType::count ? w.last_ms : w.end_ms;
            if (!event.begin(emit, common_, st.key, config_.condition ? "fired" : "closed",
                             event_ms, now_ms, trigger, cause, &st.windows[index].deferred)) {
                return false;
            }
            Record& v = event.values();
            if (config_.type != WindowType::count) {
                v.add_int64("window_start_ms", w.start_ms);
                v.add_int64("window_end_ms", w.end_ms);
            }
            add_aggregates(v, w);
            event.finish(st.topic);
        }
        for (std::size_t i = index + 1; i < st.open; ++i) {
            st.windows[i - 1] = st.windows[i];
        }
        --st.open;
        return true;
    }

    Config config_;
    std::size_t capacity_;  // windows a key can have open at once
    KeyedState<State> state_;
    std::vector<ShardData> shards_;
};

}  // namespace

std::unique_ptr<Rule> make_window(RuleCommon common, MapReader& reader, RuleBuild& build) {
    WindowRule::Config config;
    bool ok = true;
    config.input = required_input(reader, common, "the value aggregated", build);
    ok = config.input != nullptr;
    if (const ConfigNode* window = reader.get("window")) {
        MapReader w(*window, build.errors, "a window");
        if (w.ok()) {
            w.optional_choice("type", config.type,
                              {{"tumbling", WindowType::tumbling},
                               {"hopping", WindowType::hopping},
                               {"count", WindowType::count}});
            if (config.type == WindowType::count) {
                if (window->find("count") == nullptr) {
                    build.errors.missing(*window, "count", "samples per window");
                    ok = false;
                }
                w.optional_uint("count", config.count, 1, 100'000'000);
            } else {
                ok = w.required_duration("size", config.size_ms, 1, 365LL * 86'400'000) && ok;
                config.hop_ms = config.size_ms;
                if (config.type == WindowType::hopping) {
                    ok = w.required_duration("hop", config.hop_ms, 1, 365LL * 86'400'000) && ok;
                    if (ok &&
                        (config.size_ms % config.hop_ms != 0 ||
                         config.size_ms / config.hop_ms > static_cast<std::int64_t>(max_open))) {
                        build.errors.add(*window, "a size that is a multiple of hop, at most " +
                                                      std::to_string(max_open) + " hops");
                        ok = false;
                    }
                }
            }
            w.finish();
        } else {
            ok = false;
        }
    } else {
        build.errors.missing(reader.node(), "window",
                             "{type: tumbling|hopping|count, size, hop, count}");
        ok = false;
    }
    if (const ConfigNode* close_when = reader.get("close_when")) {
        config.close_when = compile_formula(*close_when, common, "close_when", build);
        ok = ok && config.close_when != nullptr;
    }
    if (const ConfigNode* condition = reader.get("condition")) {
        // The condition reads the aggregates by name: avg, sum, min, max, count, ...
        config.condition = compile_formula(*condition, common, "condition", build);
        ok = ok && config.condition != nullptr;
    }
    reader.optional_duration("grace", config.grace_ms, 0, 86'400'000);
    config.lateness_ms = build.allowed_lateness_ms;
    if (ok && config.type != WindowType::count &&
        WindowRule::open_windows(config) > max_open_with_lateness) {
        build.errors.add(*reader.node().find("window"),
                         "a window whose step is at least 1/" +
                             std::to_string(max_open_with_lateness) +
                             " of its size plus event_time.allowed_lateness (" +
                             std::to_string(config.lateness_ms) + " ms), so a key holds at most " +
                             std::to_string(max_open_with_lateness) + " windows open");
        ok = false;
    }
    std::vector<std::string> aggregates = {"avg", "min", "max", "count"};
    reader.optional_string_list("aggregates", aggregates);
    for (const std::string& name : aggregates) {
        const auto it = std::find(std::begin(aggregate_names), std::end(aggregate_names), name);
        if (it == std::end(aggregate_names)) {
            build.errors.add(*reader.node().find("aggregates"),
                             "aggregates among avg sum min max count first last stddev",
                             "\"" + name + "\"");
            ok = false;
        } else {
            config.aggregates[static_cast<std::size_t>(it - std::begin(aggregate_names))] = true;
        }
    }
    if (!ok) {
        return nullptr;
    }
    return std::make_unique<WindowRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
