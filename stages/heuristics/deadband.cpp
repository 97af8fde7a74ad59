// deadband: report by exception. A value counts as changed when it moved more than `band`
// (absolute) or `band_percent` (relative to the last reported value) since the last one
// reported; the first value of a key always counts. `mode: pass` lets only changed messages go
// on (the others are dropped, counted); `mode: flag` lets every message go on and emits a
// `fired` event for each change.
#include <cmath>

#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

// Per key: what the rule remembers.
struct DeadbandState {
    bool any = false;
    double reported = 0;
};

class DeadbandRule final : public StatefulRule<DeadbandState> {
public:
    struct Config {
        std::shared_ptr<transform::Formula> input;
        double band = 0;
        double band_percent = 0;
        bool pass = true;
    };

    DeadbandRule(RuleCommon common, Config config, std::size_t shards)
        : StatefulRule(std::move(common), shards), config_(std::move(config)) {}

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        double value = 0;
        if (!number_of(*config_.input, s.message, s.eval, value)) {
            skip();
            return;
        }
        DeadbandState& st = state_.at(shard, slot);
        const double moved = std::fabs(value - st.reported);
        const bool changed = !st.any || (config_.band > 0 && moved > config_.band) ||
                             (config_.band_percent > 0 &&
                              moved > std::fabs(st.reported) * config_.band_percent / 100);
        if (!changed) {
            if (config_.pass) {
                s.drop = true;
            }
            return;
        }
        const double previous = st.reported;
        const bool first = !st.any;
        st.reported = value;
        st.any = true;
        if (config_.pass) {
            return;
        }
        EventBuilder event;
        if (event.begin(emit, common_, s.key, "fired", s.message.event_time_ms, s.message.clock_ms,
                        s.position, &s.message)) {
            Record& v = event.values();
            v.add_double("value", value);
            if (!first) {
                v.add_double("previous", previous);
            }
            event.finish();
        }
    }

    std::string describe() const override {
        std::string band = config_.band > 0 ? number_text(config_.band) : "";
        if (config_.band_percent > 0) {
            band += (band.empty() ? "" : " or ") + number_text(config_.band_percent) + "%";
        }
        return "deadband '" + common_.id + "': " + config_.input->text() + " moved more than " +
               band + (config_.pass ? ", only changes pass" : ", changes flagged");
    }

private:
    Config config_;
};

}  // namespace

std::unique_ptr<Rule> make_deadband(RuleCommon common, MapReader& reader, RuleBuild& build) {
    DeadbandRule::Config config;
    config.input = required_input(reader, common, "the value watched for change", build);
    reader.optional_double("band", config.band, 0, 1e300);
    reader.optional_double("band_percent", config.band_percent, 0, 1e6);
    enum class Mode { pass, flag };
    Mode mode = Mode::pass;
    reader.optional_choice("mode", mode, {{"pass", Mode::pass}, {"flag", Mode::flag}});
    config.pass = mode == Mode::pass;
    if (config.band <= 0 && config.band_percent <= 0) {
        build.errors.add(reader.node(), "band (absolute) or band_percent (relative), above 0");
        return nullptr;
    }
    if (!config.input) {
        return nullptr;
    }
    return std::make_unique<DeadbandRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
