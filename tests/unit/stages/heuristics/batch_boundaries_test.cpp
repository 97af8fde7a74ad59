// Results on the event clock do not depend on where batches fall or how many shards there are:
// cross-key `$lkv` reads see the store as of the reading message, and events that one message
// (or the timers before it) caused come out in one order whatever shard emitted them.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "stages/heuristics/heuristics_stage.h"
#include "stages/lkv/lkv_stage.h"
#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow::heuristics_test {
namespace {

struct Input {
    std::string key;
    std::string json;
    std::int64_t t;
};

// An lkv stage (tracking `limit`) and a heuristics stage reading it through `$lkv`, as one
// stateful section of `shards` shards on the event clock.
class LkvAndRules {
public:
    LkvAndRules(std::string_view rules, unsigned shards) {
        ConfigErrors errors("test.yaml");
        store_ = std::make_shared<LkvStore>(
            LkvConfig::parse(test::yaml("{kind: lkv, fields: [limit]}"), errors), shards);
        BuildContext ctx{destinations(), errors};
        ctx.shards = shards;
        ctx.event_time.clock = ClockMode::event;
        ctx.event_time.allowed_lateness_ms = 0;
        ctx.emitted_only.assign(destinations().destinations.size(), false);
        ctx.section_lkv = store_.get();
        auto built = HeuristicsStage::build(
            test::yaml("kind: heuristics\nevents: events\nrules:\n" + std::string(rules)), ctx);
        EXPECT_TRUE(built != nullptr && errors.empty()) << errors.to_string();
        lkv_ = make_stage(LkvStage(store_));
        if (built) {
            heuristics_ = make_stage(std::move(*built));
        }
        shards_ = shards;
    }

    // Every input, `batch` at a time; the events as JSON text, in output order. Once per
    // instance: the stages keep their state.
    std::vector<std::string> run(const std::vector<Input>& inputs, std::size_t batch) {
        SectionRun run({lkv_.get(), heuristics_.get()}, shards_, 4, 4096);
        std::vector<std::string> out;
        std::int64_t newest = 0;  // the event clock: the newest event time so far
        for (std::size_t i = 0; i < inputs.size(); i += batch) {
            for (std::size_t j = i; j < std::min(inputs.size(), i + batch); ++j) {
                const Input& in = inputs[j];
                newest = std::max(newest, in.t);
                run.add("plant/" + in.key, in.json, in.key, in.t, newest);
            }
            for (const auto& e : run.run(newest)) {
                out.push_back(e.key + " " + test::json_of(e.record));
            }
        }
        return out;
    }

private:
    std::shared_ptr<LkvStore> store_;
    std::unique_ptr<AnyStage> lkv_;
    std::unique_ptr<AnyStage> heuristics_;
    unsigned shards_ = 1;
};

// A reading is judged against its zone's setpoint as it stood when the reading came, read
// from another key (most often on another shard).
constexpr std::string_view setpoint_rule = R"(
  - id: over
    kind: threshold
    input: {inputs: [value, zone, '$lkv("setpoint/" + $2).limit'], expression: '$1 - $3'}
    high: 0
    low: 0
)";

// Per zone: setpoint 50, readings 45 and 55, setpoint 60, reading 58; the zones interleaved, so
// each batch size puts a zone's setpoint change and its readings in batches differently.
std::vector<Input> setpoint_inputs(int zones) {
    std::vector<Input> per_zone[16];
    for (int z = 0; z < zones; ++z) {
        const std::string zone = "zone-" + std::to_string(z);
        const std::string sensor = "sensor-" + std::to_string(z);
        const std::string reading = R"({"zone": ")" + zone + R"(", "value": )";
        per_zone[z] = {{"setpoint/" + zone, R"({"limit": 50})", 0},
                       {sensor, reading + "45}", 0},
                       {sensor, reading + "55}", 0},
                       {"setpoint/" + zone, R"({"limit": 60})", 0},
                       {sensor, reading + "58}", 0}};
    }
    std::vector<Input> out;
    std::int64_t t = t0;
    for (std::size_t step = 0; step < 5; ++step) {
        for (int z = 0; z < zones; ++z) {
            out.push_back(per_zone[z][step]);
            out.back().t = (t += 100);
        }
    }
    return out;
}

TEST(BatchBoundaries, LkvReadsSeeTheValueAsOfTheReadingMessage) {
    const auto inputs = setpoint_inputs(8);
    const auto reference = LkvAndRules(setpoint_rule, 1).run(inputs, 1);
    // Each zone: raised at the 55 reading (against 50), cleared at 58 (against 60).
    ASSERT_EQ(reference.size(), 16u);
    int raised = 0;
    int cleared = 0;
    for (const auto& e : reference) {
        raised += e.find(R"("state":"raised")") != std::string::npos ? 1 : 0;
        cleared += e.find(R"("state":"cleared")") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(raised, 8);
    EXPECT_EQ(cleared, 8);
    for (const unsigned shards : {1u, 2u, 8u}) {
        for (std::size_t batch = 1; batch <= 64; ++batch) {
            ASSERT_EQ(LkvAndRules(setpoint_rule, shards).run(inputs, batch), reference)
                << "batch " << batch << ", " << shards << " shard(s)";
        }
    }
}

// The five-message example of the setpoint scenario, in one batch: judged against 50, not 60.
TEST(BatchBoundaries, OneBatchJudgesEachReadingAgainstTheSetpointBeforeIt) {
    LkvAndRules rules(setpoint_rule, 2);
    const auto events = rules.run(setpoint_inputs(1), 64);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_NE(events[0].find(R"("state":"raised")"), std::string::npos) << events[0];
    EXPECT_NE(events[0].find(R"("value":5)"), std::string::npos) << events[0];
    EXPECT_NE(events[1].find(R"("state":"cleared")"), std::string::npos) << events[1];
}

// Windows closing and keys going stale at the same instant for many keys, on every shard.
constexpr std::string_view timer_rules = R"(
  - {id: w, kind: window, input: value, window: {type: hopping, size: 2s, hop: 1s}, aggregates: [count, sum]}
  - {id: quiet, kind: stale, after: 1500ms}
  - {id: hot, kind: threshold, input: value, high: 8, low: 2}
)";

std::vector<Input> timer_inputs() {
    std::vector<Input> out;
    for (int round = 0; round < 12; ++round) {
        for (int k = 0; k < 24; ++k) {
            if ((k + round) % 5 == 0) {
                continue;  // some keys skip rounds, so stale raises and clears too
            }
            const std::string key = "dev-" + std::to_string(k);
            out.push_back({key, R"({"value": )" + std::to_string((k * 7 + round * 3) % 11) + "}",
                           t0 + round * 1000 + (k % 3) * 250});
        }
    }
    return out;
}

TEST(BatchBoundaries, TimerEventsComeOutInOneOrderWhateverTheShardsAndBatches) {
    const auto inputs = timer_inputs();
    const auto reference = LkvAndRules(timer_rules, 1).run(inputs, 1);
    ASSERT_GT(reference.size(), 200u);
    for (const unsigned shards : {1u, 2u, 4u, 8u}) {
        for (const std::size_t batch : {1u, 3u, 16u, 64u, 512u}) {
            const auto out = LkvAndRules(timer_rules, shards).run(inputs, batch);
            ASSERT_EQ(out.size(), reference.size()) << batch << " / " << shards;
            for (std::size_t i = 0; i < out.size(); ++i) {
                ASSERT_EQ(out[i], reference[i])
                    << "event " << i << ", batch " << batch << ", " << shards << " shard(s)";
            }
        }
    }
}

}  // namespace
}  // namespace edgeflow::heuristics_test
