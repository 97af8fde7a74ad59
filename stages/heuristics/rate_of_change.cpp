// rate_of_change: the input's change per second, between consecutive samples or (with `over`)
// against the newest earlier sample at least `over` old, raised while its magnitude is above
// `limit` and cleared when it falls back. Samples are per key in event time; a sample not newer
// than the previous one is skipped (counted).
#include <array>
#include <cmath>
#include <optional>

#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

class RateOfChangeRule final : public Rule {
public:
    static constexpr std::size_t max_history = 64;  // samples kept per key for `over`

    struct Config {
        std::shared_ptr<transform::Formula> input;
        double limit = 0;
        std::int64_t over_ms = 0;
    };

    RateOfChangeRule(RuleCommon common, Config config, std::size_t shards)
        : Rule(std::move(common)),
          config_(std::move(config)),
          history_(config_.over_ms > 0 ? max_history : 1),
          state_(shards) {}

    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        State& st = state_.at(shard, slot);
        st.size = 0;
        st.head = 0;
        st.raised = false;
    }

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        double value = 0;
        if (!number_of(*config_.input, s.message, s.eval, value)) {
            skip();
            return;
        }
        State& st = state_.at(shard, slot);
        if (st.points.size() != history_) {
            st.points.resize(history_);  // once per key slot
        }
        const std::int64_t t = s.message.event_time_ms;
        if (st.size > 0 && t <= st.newest().time_ms) {
            skip();
            return;
        }
        // The reference sample: the previous one, or the newest at least `over` old. A copy:
        // pushing this sample may overwrite it.
        bool found = false;
        Point reference{};
        for (std::size_t i = 0; i < st.size && !found; ++i) {
            const Point& p = st.back(i);
            if (t - p.time_ms >= config_.over_ms) {
                reference = p;
                found = true;
            }
        }
        st.push({value, t});
        if (!found) {
            return;
        }
        const double rate =
            (value - reference.value) * 1000.0 / static_cast<double>(t - reference.time_ms);
        const bool beyond = std::fabs(rate) > config_.limit;
        if (beyond == st.raised) {
            return;
        }
        st.raised = beyond;
        EventBuilder event;
        if (event.begin(emit, common_, s.key, beyond ? "raised" : "cleared", t, s.message.clock_ms,
                        s.position, &s.message)) {
            Record& v = event.values();
            v.add_double("value", value);
            v.add_double("previous", reference.value);
            v.add_int64("interval_ms", t - reference.time_ms);
            v.add_double("rate_per_second", rate);
            v.add_double("limit", config_.limit);
            event.finish();
        }
    }

    std::string describe() const override {
        return "rate_of_change '" + common_.id + "': |d(" + config_.input->text() + ")/dt| > " +
               number_text(config_.limit) + "/s" +
               (config_.over_ms > 0 ? " over " + std::to_string(config_.over_ms) + " ms"
                                    : std::string(" between samples"));
    }

private:
    struct Point {
        double value;
        std::int64_t time_ms;
    };

public:
    std::size_t state_bytes_per_key() const noexcept override {
        return sizeof(State) + history_ * sizeof(Point);
    }

private:
    struct State {
        std::vector<Point> points;  // a ring of history_ samples
        std::size_t head = 0;       // next write
        std::size_t size = 0;
        bool raised = false;
        const Point& newest() const noexcept { return back(0); }
        const Point& back(std::size_t i) const noexcept {  // i = 0: newest
            return points[(head + points.size() - 1 - i) % points.size()];
        }
        void push(Point p) noexcept {
            points[head] = p;
            head = (head + 1) % points.size();
            size = std::min(size + 1, points.size());
        }
    };
    Config config_;
    std::size_t history_;
    KeyedState<State> state_;
};

}  // namespace

std::unique_ptr<Rule> make_rate_of_change(RuleCommon common, MapReader& reader, RuleBuild& build) {
    RateOfChangeRule::Config config;
    config.input = required_input(reader, common, "the value whose rate is watched", build);
    if (reader.node().find("limit") == nullptr) {
        build.errors.missing(reader.node(), "limit", "the largest allowed change per second");
        return nullptr;
    }
    reader.optional_double("limit", config.limit, 0, 1e300);
    reader.optional_duration("over", config.over_ms, 0, 86'400'000);
    if (!config.input) {
        return nullptr;
    }
    return std::make_unique<RateOfChangeRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
