// threshold: raise when the input goes above `high`, clear when it goes below `low`
// (hysteresis: between the two nothing changes). Debounce: the condition must hold for
// `for_count` consecutive samples and/or for `for_duration` of event time before the state
// changes, both ways. A cleared event reports the time spent raised.
#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

// Per key: what the rule remembers.
struct ThresholdState {
    bool raised = false;
    std::uint64_t count = 0;    // consecutive samples toward the other state
    std::int64_t since_ms = 0;  // event time of the first of them
    std::int64_t raised_at_ms = 0;
};

class ThresholdRule final : public StatefulRule<ThresholdState> {
public:
    struct Config {
        std::shared_ptr<transform::Formula> input;
        double high = 0;
        double low = 0;
        std::uint64_t for_count = 1;
        std::int64_t for_duration_ms = 0;
    };

    ThresholdRule(RuleCommon common, Config config, std::size_t shards)
        : StatefulRule(std::move(common), shards), config_(std::move(config)) {}

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        double value = 0;
        if (!number_of(*config_.input, s.message, s.eval, value)) {
            skip();
            return;
        }
        ThresholdState& st = state_.at(shard, slot);
        const std::int64_t t = s.message.event_time_ms;
        // Does this sample push toward the other state?
        const bool toward = st.raised ? value < config_.low : value > config_.high;
        if (!toward) {
            st.count = 0;
            return;
        }
        if (st.count++ == 0) {
            st.since_ms = t;
        }
        if (st.count < config_.for_count || t - st.since_ms < config_.for_duration_ms) {
            return;
        }
        st.raised = !st.raised;
        st.count = 0;
        EventBuilder event;
        if (event.begin(emit, common_, s.key, st.raised ? "raised" : "cleared", t,
                        s.message.clock_ms, s.position, &s.message)) {
            Record& v = event.values();
            v.add_double("value", value);
            v.add_double(st.raised ? "high" : "low", st.raised ? config_.high : config_.low);
            if (!st.raised) {
                v.add_int64("time_in_state_ms", t - st.raised_at_ms);
            }
            event.finish();
        }
        st.raised_at_ms = t;
    }

    std::string describe() const override {
        std::string text = "threshold '" + common_.id + "': " + config_.input->text() + " > " +
                           number_text(config_.high) + " raises, < " + number_text(config_.low) +
                           " clears";
        if (config_.for_count > 1) {
            text += ", after " + std::to_string(config_.for_count) + " samples";
        }
        if (config_.for_duration_ms > 0) {
            text += ", held " + std::to_string(config_.for_duration_ms) + " ms";
        }
        return text;
    }

private:
    Config config_;
};

}  // namespace

std::unique_ptr<Rule> make_threshold(RuleCommon common, MapReader& reader, RuleBuild& build) {
    ThresholdRule::Config config;
    bool ok = true;
    config.input = required_input(reader, common, "the value compared: a path or formula", build);
    ok = config.input != nullptr;
    const bool has_high = reader.node().find("high") != nullptr;
    reader.optional_double("high", config.high, -1e300, 1e300);
    config.low = config.high;
    const bool has_low = reader.node().find("low") != nullptr;
    reader.optional_double("low", config.low, -1e300, 1e300);
    reader.optional_uint("for_count", config.for_count, 1, 1'000'000);
    reader.optional_duration("for_duration", config.for_duration_ms, 0, 30LL * 86'400'000);
    if (!has_high) {
        build.errors.missing(reader.node(), "high", "the value above which the rule raises");
        ok = false;
    }
    if (has_low && config.low > config.high) {
        build.errors.add(*reader.node().find("low"), "low at most high (the clear level)");
        ok = false;
    }
    if (!ok) {
        return nullptr;
    }
    return std::make_unique<ThresholdRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
