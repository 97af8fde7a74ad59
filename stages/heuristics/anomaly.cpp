// anomaly: a sample further than `k` standard deviations from its key's mean fires, once the
// key has `min_samples` samples behind it. The mean and deviation are an exponentially weighted
// moving average (`method: ewma`, weight `alpha`) or those of the last `samples` samples
// (`method: rolling`). Each sample is judged against the statistics before it is added.
#include <cmath>
#include <vector>

#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

class AnomalyRule final : public Rule {
public:
    struct Config {
        std::shared_ptr<transform::Formula> input;
        bool rolling = false;
        double alpha = 0.1;
        std::uint64_t samples = 100;
        double k = 3;
        std::uint64_t min_samples = 20;
    };

    AnomalyRule(RuleCommon common, Config config, std::size_t shards)
        : Rule(std::move(common)), config_(std::move(config)), state_(shards) {}

    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        State& st = state_.at(shard, slot);
        st.n = 0;
        st.mean = st.var = st.sum = st.sumsq = 0;
        st.head = 0;
    }

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        double x = 0;
        if (!number_of(*config_.input, s.message, s.eval, x)) {
            skip();
            return;
        }
        State& st = state_.at(shard, slot);
        double mean = st.mean;
        double stddev = std::sqrt(std::max(0.0, st.var));
        if (config_.rolling && st.n > 0) {
            const double n = static_cast<double>(std::min<std::uint64_t>(st.n, config_.samples));
            mean = st.sum / n;
            stddev = std::sqrt(std::max(0.0, st.sumsq / n - mean * mean));
        }
        if (st.n >= config_.min_samples && stddev > 0 && std::fabs(x - mean) > config_.k * stddev) {
            EventBuilder event;
            if (event.begin(emit, common_, s.key, "fired", s.message.event_time_ms,
                            s.message.clock_ms, s.position, &s.message)) {
                Record& v = event.values();
                v.add_double("value", x);
                v.add_double("mean", mean);
                v.add_double("stddev", stddev);
                v.add_double("sigma", (x - mean) / stddev);
                v.add_int64("samples", static_cast<std::int64_t>(st.n));
                event.finish();
            }
        }
        add(st, x);
    }

    std::string describe() const override {
        return "anomaly '" + common_.id + "': " + config_.input->text() + " beyond " +
               number_text(config_.k) + " sigma of its " +
               (config_.rolling ? "last " + std::to_string(config_.samples) + " samples"
                                : "EWMA (alpha " + number_text(config_.alpha) + ")") +
               ", after " + std::to_string(config_.min_samples) + " samples";
    }

public:
    std::size_t state_bytes_per_key() const noexcept override {
        return sizeof(State) + (config_.rolling ? config_.samples * sizeof(double) : 0);
    }

private:
    struct State {
        std::uint64_t n = 0;
        double mean = 0, var = 0;   // ewma
        double sum = 0, sumsq = 0;  // rolling
        std::vector<double> ring;
        std::size_t head = 0;
    };

    void add(State& st, double x) {
        if (!config_.rolling) {
            if (st.n == 0) {
                st.mean = x;
                st.var = 0;
            } else {
                const double delta = x - st.mean;
                st.mean += config_.alpha * delta;
                st.var = (1 - config_.alpha) * (st.var + config_.alpha * delta * delta);
            }
            ++st.n;
            return;
        }
        if (st.ring.size() != config_.samples) {
            st.ring.assign(config_.samples, 0.0);
        }
        if (st.n >= config_.samples) {
            const double old = st.ring[st.head];
            st.sum -= old;
            st.sumsq -= old * old;
        }
        st.ring[st.head] = x;
        st.head = (st.head + 1) % config_.samples;
        st.sum += x;
        st.sumsq += x * x;
        ++st.n;
    }

    Config config_;
    KeyedState<State> state_;
};

}  // namespace

std::unique_ptr<Rule> make_anomaly(RuleCommon common, MapReader& reader, RuleBuild& build) {
    AnomalyRule::Config config;
    config.input = required_input(reader, common, "the value watched", build);
    enum class Method { ewma, rolling };
    Method method = Method::ewma;
    reader.optional_choice("method", method,
                           {{"ewma", Method::ewma}, {"rolling", Method::rolling}});
    config.rolling = method == Method::rolling;
    reader.optional_double("alpha", config.alpha, 1e-6, 1);
    reader.optional_uint("samples", config.samples, 2, 4096);
    reader.optional_double("k", config.k, 0.1, 1000);
    reader.optional_uint("min_samples", config.min_samples, 1, 1'000'000);
    if (!config.input) {
        return nullptr;
    }
    return std::make_unique<AnomalyRule>(std::move(common), std::move(config), build.shards);
}

}  // namespace edgeflow::heuristics
