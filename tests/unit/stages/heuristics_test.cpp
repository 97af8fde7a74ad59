#include "stages/heuristics/heuristics_stage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/stateful.h"

namespace edgeflow {
namespace {

using test::Emitted;
using test::SectionRun;

// 2024-01-01T00:00:00.000Z, a multiple of every window size used here.
constexpr std::int64_t t0 = 1'704'067'200'000;
constexpr std::int32_t events_destination = 1;
constexpr std::int32_t alerts_destination = 2;

// Destinations by index as the tests name them: output (0), events (1) and alerts (2).
const PipelineConfig& destinations() {
    static const PipelineConfig config = [] {
        PipelineConfig c;
        for (const char* name : {"output", "events", "alerts"}) {
            EndpointConfig d;
            d.name = name;
            c.destinations.push_back(d);
        }
        return c;
    }();
    return config;
}

std::unique_ptr<HeuristicsStage> build_heuristics(const std::string& text, std::size_t shards,
                                                  ClockMode clock, ConfigErrors& errors) {
    BuildContext ctx{destinations(), errors};
    ctx.shards = shards;
    ctx.event_time.clock = clock;
    ctx.emitted_only.assign(destinations().destinations.size(), false);
    return HeuristicsStage::build(test::yaml(text), ctx);
}

// A heuristics stage with `rules` (YAML list items, indented by two) and a section to run it.
class Heuristics {
public:
    explicit Heuristics(std::string_view rules, unsigned shards = 1,
                        ClockMode clock = ClockMode::wall, std::size_t emit_per_shard = 256)
        : stage_(build(rules, shards, clock)), run_({stage_.get()}, shards, 4, emit_per_shard) {}

    /// One message for key `key` as a batch of its own, processed at its event time.
    std::vector<Emitted> one(std::string_view json, std::int64_t t, std::string_view key = "k",
                             std::string_view topic = "plant/k/telemetry") {
        run_.add(topic, json, key, t);
        return run_.run(t);
    }
    /// An empty batch at processing time `clock`: only timers run.
    std::vector<Emitted> tick(std::int64_t clock) { return run_.run(clock); }

    SectionRun& run() noexcept { return run_; }
    AnyStage& stage() noexcept { return *stage_; }
    const heuristics::Rule& rule(std::size_t i) {
        return *static_cast<StageAdapter<HeuristicsStage>&>(*stage_).stage().rules().at(i);
    }

private:
    static std::unique_ptr<AnyStage> build(std::string_view rules, unsigned shards,
                                           ClockMode clock) {
        const std::string text = "kind: heuristics\nevents: events\nrules:\n" + std::string(rules);
        ConfigErrors errors("test.yaml");
        auto built = build_heuristics(text, shards, clock, errors);
        EXPECT_TRUE(built != nullptr && errors.empty()) << errors.to_string();
        if (!built) {
            return nullptr;
        }
        return make_stage(std::move(*built));
    }

    std::unique_ptr<AnyStage> stage_;
    SectionRun run_;
};

std::vector<std::string> states(const std::vector<Emitted>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        out.push_back(e.text("state"));
    }
    return out;
}

double number(const Emitted& e, std::string_view value) {
    const ValueRef v = e.values(value);
    EXPECT_TRUE(v.valid()) << value << " in " << test::json_of(e.record);
    return v.valid() ? v.as_double() : -1e300;
}

std::int64_t integer(const Emitted& e, std::string_view value) {
    const ValueRef v = e.values(value);
    EXPECT_TRUE(v.valid() && v.type() == ValueType::int64)
        << value << " in " << test::json_of(e.record);
    return v.valid() ? v.as_int64() : INT64_MIN;
}

std::string v(double value) {
    return R"({"v": )" + std::to_string(value) + "}";
}

using Strings = std::vector<std::string>;

// ---- The event record --------------------------------------------------------------------------

TEST(HeuristicsEvent, RecordFields) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, severity: critical}
)");
    Message& m =
        h.run().add("plant/dev-7/telemetry", R"({"v": 81})", "dev-7", t0 + 1000, t0 + 2500);
    m.add_property("site", "s1");
    m.add_property("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const auto events = h.run().run(t0 + 2500);
    ASSERT_EQ(events.size(), 1u);
    const Emitted& e = events[0];
    EXPECT_EQ(test::json_of(e.record),
              R"({"rule":"hot","kind":"threshold","key":"dev-7","state":"raised",)"
              R"("severity":"critical","event_time":"2024-01-01T00:00:01.000Z",)"
              R"("detection_time":"2024-01-01T00:00:02.500Z","values":{"value":81.0,"high":80.0},)"
              R"("source_topics":["plant/dev-7/telemetry"],)"
              R"("traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})");
    EXPECT_EQ(e.target, events_destination);
    EXPECT_EQ(e.trigger, 0u);  // caused by the batch's first message
    EXPECT_EQ(e.key, "dev-7");
    EXPECT_EQ(e.event_time_ms, t0 + 1000);
    EXPECT_EQ(e.topic, "plant/dev-7/telemetry");
    // The message itself goes on.
    EXPECT_TRUE(h.run().last()[0]->live());
    EXPECT_EQ(load(h.stage().counters.in), 1u);
    EXPECT_EQ(load(h.stage().counters.out), 1u);
}

TEST(HeuristicsEvent, NoTraceparentWithoutTheProperty) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
)");
    const auto events = h.one(R"({"v": 81})", t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_FALSE(events[0]["traceparent"].valid());
    EXPECT_EQ(events[0].text("severity"), "warning");
}

TEST(HeuristicsEvent, ARuleDestinationOverridesTheStages) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, destination: alerts}
  - {id: warm, kind: threshold, input: v, high: 70}
)");
    const auto events = h.one(R"({"v": 81})", t0);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].text("rule"), "hot");
    EXPECT_EQ(events[0].target, alerts_destination);
    EXPECT_EQ(events[1].text("rule"), "warm");
    EXPECT_EQ(events[1].target, events_destination);
}

TEST(HeuristicsEvent, EventsFollowTheMessageThatCausedThem) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
)");
    h.run().add("t", R"({"v": 81})", "a", t0);
    h.run().add("t", R"({"v": 1})", "b", t0);
    h.run().add("t", R"({"v": 90})", "b", t0);
    const auto events = h.run().run(t0);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].key, "a");
    EXPECT_EQ(events[0].trigger, 0u);
    EXPECT_EQ(events[1].key, "b");
    EXPECT_EQ(events[1].trigger, 2u);
}

// ---- threshold ---------------------------------------------------------------------------------

constexpr std::string_view hot = R"(
  - {id: hot, kind: threshold, input: v, high: 80, low: 75}
)";

TEST(Threshold, ExactlyAtTheThresholdDoesNotChangeState) {
    Heuristics h(hot);
    EXPECT_TRUE(h.one(v(80), t0).empty());
    EXPECT_EQ(states(h.one(v(80.5), t0 + 1)), Strings{"raised"});
    EXPECT_TRUE(h.one(v(75), t0 + 2).empty());
    EXPECT_EQ(states(h.one(v(74.5), t0 + 3)), Strings{"cleared"});
}

TEST(Threshold, HysteresisBetweenLowAndHigh) {
    Heuristics h(hot);
    EXPECT_EQ(states(h.one(v(81), t0)), Strings{"raised"});
    for (double x : {79.0, 76.0, 78.0, 81.0, 90.0, 77.0, 75.0}) {
        EXPECT_TRUE(h.one(v(x), t0 + 1).empty()) << x;
    }
    EXPECT_EQ(states(h.one(v(74), t0 + 2)), Strings{"cleared"});
    for (double x : {76.0, 79.0, 80.0, 74.0, 70.0}) {
        EXPECT_TRUE(h.one(v(x), t0 + 3).empty()) << x;
    }
    EXPECT_EQ(states(h.one(v(81), t0 + 4)), Strings{"raised"});
}

TEST(Threshold, WithoutLowItClearsBelowHigh) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
)");
    EXPECT_EQ(states(h.one(v(81), t0)), Strings{"raised"});
    EXPECT_TRUE(h.one(v(80), t0 + 1).empty());
    EXPECT_EQ(states(h.one(v(79.9), t0 + 2)), Strings{"cleared"});
}

TEST(Threshold, ForCountDebounceIsInterruptedBothWays) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, low: 75, for_count: 3}
)");
    std::int64_t t = t0;
    for (double x : {81.0, 82.0, 79.0, 81.0, 82.0}) {
        EXPECT_TRUE(h.one(v(x), t++).empty()) << x;
    }
    EXPECT_EQ(states(h.one(v(83), t++)), Strings{"raised"});
    for (double x : {70.0, 71.0, 76.0, 70.0, 70.0}) {
        EXPECT_TRUE(h.one(v(x), t++).empty()) << x;
    }
    EXPECT_EQ(states(h.one(v(70), t++)), Strings{"cleared"});
}

TEST(Threshold, ForDurationDebounceIsInterrupted) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, low: 75, for_duration: 5s}
)");
    EXPECT_TRUE(h.one(v(81), t0).empty());
    EXPECT_TRUE(h.one(v(81), t0 + 4999).empty());
    EXPECT_TRUE(h.one(v(79), t0 + 5000).empty());  // interrupts: starts over
    EXPECT_TRUE(h.one(v(81), t0 + 6000).empty());
    EXPECT_TRUE(h.one(v(81), t0 + 10'999).empty());
    const auto raised = h.one(v(81), t0 + 11'000);
    ASSERT_EQ(states(raised), Strings{"raised"});
    EXPECT_EQ(raised[0].text("event_time"), "2024-01-01T00:00:11.000Z");
}

TEST(Threshold, ClearingReportsTheTimeInState) {
    Heuristics h(hot);
    ASSERT_EQ(h.one(v(85), t0 + 1000).size(), 1u);
    h.one(v(90), t0 + 30'000);
    const auto cleared = h.one(v(70), t0 + 61'000);
    ASSERT_EQ(states(cleared), Strings{"cleared"});
    EXPECT_EQ(integer(cleared[0], "time_in_state_ms"), 60'000);
    EXPECT_EQ(number(cleared[0], "value"), 70);
    EXPECT_EQ(number(cleared[0], "low"), 75);
    EXPECT_FALSE(cleared[0].values("high").valid());
}

TEST(Threshold, KeysAreIndependent) {
    Heuristics h(hot);
    EXPECT_EQ(h.one(v(85), t0, "a").size(), 1u);
    EXPECT_EQ(h.one(v(85), t0, "b").size(), 1u);  // b has its own state
    EXPECT_TRUE(h.one(v(85), t0, "a").empty());
}

TEST(Threshold, MessagesWithoutANumberAreSkipped) {
    Heuristics h(hot);
    EXPECT_TRUE(h.one(R"({"v": "hot"})", t0).empty());
    EXPECT_TRUE(h.one(R"({"w": 90})", t0).empty());
    EXPECT_EQ(h.rule(0).skipped(), 2u);
    EXPECT_EQ(h.one(v(90), t0).size(), 1u);
    EXPECT_EQ(h.rule(0).events(), 1u);
}

// ---- rate_of_change ----------------------------------------------------------------------------

TEST(RateOfChange, BetweenConsecutiveSamples) {
    Heuristics h(R"(
  - {id: ramp, kind: rate_of_change, input: v, limit: 2}
)");
    EXPECT_TRUE(h.one(v(0), t0).empty());
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());  // 1/s
    const auto raised = h.one(v(4), t0 + 2000);   // 3/s
    ASSERT_EQ(states(raised), Strings{"raised"});
    EXPECT_EQ(number(raised[0], "rate_per_second"), 3);
    EXPECT_EQ(number(raised[0], "previous"), 1);
    EXPECT_EQ(integer(raised[0], "interval_ms"), 1000);
    EXPECT_EQ(number(raised[0], "limit"), 2);
    EXPECT_TRUE(h.one(v(1), t0 + 2500).empty());                    // -6/s: still beyond
    EXPECT_EQ(states(h.one(v(2), t0 + 3000)), Strings{"cleared"});  // 2/s: not above the limit
    const auto falling = h.one(v(-1), t0 + 4000);                   // -3/s
    ASSERT_EQ(states(falling), Strings{"raised"});
    EXPECT_EQ(number(falling[0], "rate_per_second"), -3);
}

TEST(RateOfChange, AnOutOfOrderSampleIsSkipped) {
    Heuristics h(R"(
  - {id: ramp, kind: rate_of_change, input: v, limit: 2}
)");
    h.one(v(0), t0);
    h.one(v(1), t0 + 1000);
    EXPECT_TRUE(h.one(v(100), t0 + 500).empty());   // older than the last: skipped
    EXPECT_TRUE(h.one(v(100), t0 + 1000).empty());  // not newer either
    EXPECT_EQ(h.rule(0).skipped(), 2u);
    // Measured against the sample at +1 s, as if the skipped ones never came.
    EXPECT_TRUE(h.one(v(2.5), t0 + 2000).empty());
    const auto raised = h.one(v(5), t0 + 3000);
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(number(raised[0], "previous"), 2.5);
}

TEST(RateOfChange, OverComparesWithTheNewestSampleAtLeastThatOld) {
    Heuristics h(R"(
  - {id: ramp, kind: rate_of_change, input: v, limit: 1, over: 10s}
)");
    // Nothing is 10 s old until the last of these.
    for (int s = 0; s < 10; ++s) {
        EXPECT_TRUE(h.one(v(0), t0 + s * 1000).empty()) << s;
    }
    // 20 in 10 s is 2/s, though between samples it is 20/s.
    const auto raised = h.one(v(20), t0 + 10'000);
    ASSERT_EQ(states(raised), Strings{"raised"});
    EXPECT_EQ(number(raised[0], "rate_per_second"), 2);
    EXPECT_EQ(integer(raised[0], "interval_ms"), 10'000);
    // Against the sample at +1 s (0): still 20 in 10 s.
    EXPECT_TRUE(h.one(v(20), t0 + 11'000).empty());
    // Against the sample at +10 s (20): no change.
    const auto cleared = h.one(v(20), t0 + 20'000);
    ASSERT_EQ(states(cleared), Strings{"cleared"});
    EXPECT_EQ(number(cleared[0], "previous"), 20);
    EXPECT_EQ(integer(cleared[0], "interval_ms"), 10'000);
}

TEST(RateOfChange, OverWithAFullHistoryUsesItsOldestSample) {
    Heuristics h(R"(
  - {id: ramp, kind: rate_of_change, input: v, limit: 50, over: 1s}
)");
    h.one(v(0), t0);
    // 63 more samples, all younger than 1 s when the next one comes: 64 kept in all.
    for (int i = 0; i < 63; ++i) {
        EXPECT_TRUE(h.one(v(0), t0 + 901 + i).empty());
    }
    // Only the first sample is 1 s old: 100 in 1 s.
    const auto raised = h.one(v(100), t0 + 1000);
    ASSERT_EQ(states(raised), Strings{"raised"});
    EXPECT_EQ(number(raised[0], "previous"), 0);
    EXPECT_EQ(integer(raised[0], "interval_ms"), 1000);
    EXPECT_EQ(number(raised[0], "rate_per_second"), 100);
}

// ---- deadband ----------------------------------------------------------------------------------

std::vector<bool> live(const SectionRun& run) {
    std::vector<bool> out;
    for (const Message* m : run.last()) {
        out.push_back(m->live());
    }
    return out;
}

TEST(Deadband, PassDropsMessagesThatDidNotMove) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 0.5}
)");
    for (double x : {10.0, 10.3, 10.5, 10.6, 10.2, 10.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    EXPECT_TRUE(h.run().run(t0).empty());
    // 10 first; 10.3 and 10.5 within 0.5 of it; 10.6 beyond; 10.2 within 0.5 of 10.6; 10.0 not.
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, false, false, true, false, true}));
    for (const Message* m : h.run().last()) {
        EXPECT_FALSE(m->dead());
    }
    EXPECT_EQ(load(h.stage().counters.in), 6u);
    EXPECT_EQ(load(h.stage().counters.out), 3u);
    EXPECT_EQ(load(h.stage().counters.dropped), 3u);
    EXPECT_EQ(load(h.stage().counters.errors), 0u);
}

TEST(Deadband, FlagEmitsAnEventPerChangeAndDropsNothing) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 0.5, mode: flag}
)");
    for (double x : {10.0, 10.3, 10.5, 10.6, 10.2, 10.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    const auto events = h.run().run(t0);
    EXPECT_EQ(live(h.run()), std::vector<bool>(6, true));
    ASSERT_EQ(states(events), (Strings{"fired", "fired", "fired"}));
    EXPECT_EQ(number(events[0], "value"), 10);
    EXPECT_FALSE(events[0].values("previous").valid());  // the first value has none
    EXPECT_EQ(number(events[1], "value"), 10.6);
    EXPECT_EQ(number(events[1], "previous"), 10);
    EXPECT_EQ(number(events[2], "value"), 10);
    EXPECT_EQ(number(events[2], "previous"), 10.6);
    EXPECT_EQ(events[1].trigger, 3u);
}

TEST(Deadband, PercentBandIsRelativeToTheLastReportedValue) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band_percent: 10}
)");
    for (double x : {100.0, 109.0, 110.0, 111.0, 121.0, 122.0, 123.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    h.run().run(t0);
    // 10 % of 100 is 10 (110 has not moved more than that); then 10 % of 111 is 11.1.
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, false, false, true, false, false, true}));
}

TEST(Deadband, EachKeyStartsWithItsFirstValue) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 5}
)");
    h.run().add("t", v(10), "a", t0);
    h.run().add("t", v(10), "b", t0);
    h.run().add("t", v(11), "a", t0);
    h.run().run(t0);
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, true, false}));
}

// ---- stale -------------------------------------------------------------------------------------

TEST(Stale, RaisesOnTheClockWithoutMessagesAndClearsOnTheNext) {
    Heuristics h(R"(
  - {id: silent, kind: stale, after: 30s}
)");
    EXPECT_TRUE(h.one(R"({"v": 1})", t0, "dev-1", "plant/dev-1/telemetry").empty());
    EXPECT_TRUE(h.tick(t0 + 29'999).empty());
    const auto raised = h.tick(t0 + 30'500);
    ASSERT_EQ(states(raised), Strings{"raised"});
    EXPECT_EQ(raised[0].text("key"), "dev-1");
    EXPECT_EQ(raised[0].text("event_time"), "2024-01-01T00:00:30.000Z");  // when it became due
    EXPECT_EQ(raised[0].text("detection_time"), "2024-01-01T00:00:30.500Z");
    EXPECT_EQ(integer(raised[0], "silent_ms"), 30'500);
    EXPECT_EQ(integer(raised[0], "after_ms"), 30'000);
    EXPECT_NE(test::json_of(raised[0].record).find(R"("source_topics":["plant/dev-1/telemetry"])"),
              std::string::npos)
        << test::json_of(raised[0].record);
    EXPECT_TRUE(h.tick(t0 + 40'000).empty());  // raised once

    const auto cleared = h.one(R"({"v": 2})", t0 + 45'000, "dev-1", "plant/dev-1/telemetry");
    ASSERT_EQ(states(cleared), Strings{"cleared"});
    EXPECT_EQ(integer(cleared[0], "silent_ms"), 45'000);
    EXPECT_EQ(integer(cleared[0], "time_in_state_ms"), 14'500);

    // Silent again: due 30 s after the last message.
    EXPECT_TRUE(h.tick(t0 + 74'999).empty());
    EXPECT_EQ(states(h.tick(t0 + 75'000)), Strings{"raised"});
}

TEST(Stale, OnlyTheSilentKeyRaises) {
    Heuristics h(R"(
  - {id: silent, kind: stale, after: 10s}
)");
    h.one("{}", t0, "quiet");
    h.one("{}", t0, "talker");
    h.one("{}", t0 + 8000, "talker");
    const auto raised = h.tick(t0 + 10'000);
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].text("key"), "quiet");
    EXPECT_TRUE(h.one("{}", t0 + 16'000, "talker").empty());
    const auto later = h.tick(t0 + 26'000);
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].text("key"), "talker");
}

TEST(Stale, OnTheEventClockTimersRunBeforeEachMessage) {
    Heuristics h(R"(
  - {id: silent, kind: stale, after: 10s}
)",
                 1, ClockMode::event);
    h.run().add("t", "{}", "a", t0, t0);
    h.run().add("t", "{}", "b", t0 + 5000, t0 + 5000);
    h.run().add("t", "{}", "b", t0 + 12'000, t0 + 12'000);  // a is due before this one
    const auto events = h.run().run(t0 + 12'000);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text("key"), "a");
    EXPECT_EQ(events[0].trigger, 2u);
    EXPECT_EQ(events[0].text("detection_time"), "2024-01-01T00:00:12.000Z");
}

// ---- window ------------------------------------------------------------------------------------

TEST(Window, TumblingBoundaries) {
    Heuristics h(R"(
  - id: w
    kind: window
    input: v
    window: {type: tumbling, size: 10s}
    aggregates: [avg, sum, min, max, count, first, last]
    grace: 1h
)");
    EXPECT_TRUE(h.one(v(1), t0).empty());
    EXPECT_TRUE(h.one(v(3), t0 + 5000).empty());
    EXPECT_TRUE(h.one(v(2), t0 + 9999).empty());
    // Exactly at the end: closes [0, 10 s) and opens the next window.
    const auto first = h.one(v(10), t0 + 10'000);
    ASSERT_EQ(states(first), Strings{"closed"});
    const Emitted& w = first[0];
    EXPECT_EQ(integer(w, "window_start_ms"), t0);
    EXPECT_EQ(integer(w, "window_end_ms"), t0 + 10'000);
    EXPECT_EQ(integer(w, "count"), 3);
    EXPECT_EQ(number(w, "avg"), 2);
    EXPECT_EQ(number(w, "sum"), 6);
    EXPECT_EQ(number(w, "min"), 1);
    EXPECT_EQ(number(w, "max"), 3);
    EXPECT_EQ(number(w, "first"), 1);
    EXPECT_EQ(number(w, "last"), 2);
    EXPECT_FALSE(w.values("stddev").valid());
    EXPECT_EQ(w.text("event_time"), "2024-01-01T00:00:10.000Z");

    // Empty windows in between emit nothing: only [10 s, 20 s), holding the sample at 10 s.
    const auto second = h.one(v(7), t0 + 35'000);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(integer(second[0], "window_start_ms"), t0 + 10'000);
    EXPECT_EQ(integer(second[0], "count"), 1);
    EXPECT_EQ(number(second[0], "avg"), 10);
}

TEST(Window, DefaultAggregatesAndStddev) {
    Heuristics h(R"(
  - {id: w, kind: window, input: v, window: {type: tumbling, size: 10s}}
  - {id: s, kind: window, input: v, window: {type: tumbling, size: 10s}, aggregates: [stddev]}
)");
    for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) {
        h.run().add("t", v(x), "k", t0 + 1000);
    }
    h.run().run(t0 + 1000);
    const auto events = h.tick(t0 + 10'000);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_NE(test::json_of(events[0].record)
                  .find(R"("values":{"window_start_ms":1704067200000,"window_end_ms":)"
                        R"(1704067210000,"avg":5.0,"min":2.0,"max":9.0,"count":8})"),
              std::string::npos)
        << test::json_of(events[0].record);
    EXPECT_FALSE(events[1].values("avg").valid());
    EXPECT_NEAR(number(events[1], "stddev"), 2, 1e-12);  // the population deviation of these
}

TEST(Window, ClosesOnTheClockPastEndPlusGraceAndNeverReopens) {
    Heuristics h(R"(
  - {id: w, kind: window, input: v, window: {type: tumbling, size: 10s}, grace: 2s}
)");
    EXPECT_TRUE(h.one(v(5), t0 + 1000, "k", "plant/k/t").empty());
    EXPECT_TRUE(h.tick(t0 + 11'999).empty());
    const auto closed = h.tick(t0 + 12'000);
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(closed[0].text("event_time"), "2024-01-01T00:00:10.000Z");
    EXPECT_EQ(closed[0].text("detection_time"), "2024-01-01T00:00:12.000Z");
    EXPECT_EQ(integer(closed[0], "count"), 1);
    EXPECT_NE(test::json_of(closed[0].record).find(R"("source_topics":["plant/k/t"])"),
              std::string::npos);
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());  // nothing else was open

    // A late sample for the closed window is not counted in a second result for it.
    h.run().add("plant/k/t", v(6), "k", t0 + 5000, t0 + 60'000);
    h.run().add("plant/k/t", v(7), "k", t0 + 61'000, t0 + 61'000);
    EXPECT_TRUE(h.run().run(t0 + 61'000).empty());
    const auto next = h.tick(t0 + 72'000);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(integer(next[0], "window_start_ms"), t0 + 60'000);
    EXPECT_EQ(integer(next[0], "count"), 1);
    EXPECT_EQ(h.rule(0).skipped(), 1u);
}

TEST(Window, AFullOutboxLeavesTheWindowOpenForALaterTick) {
    // Room for one event per batch; the threshold rule takes it first.
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
  - {id: w, kind: window, input: v, window: {type: tumbling, size: 10s}, grace: 1h}
)",
                 1, ClockMode::wall, 1);
    EXPECT_TRUE(h.one(v(1), t0).empty());
    const auto raised = h.one(v(90), t0 + 10'000);  // ends [0, 10 s), but there is no room
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].text("rule"), "hot");
    // Both windows are due past their grace; one result fits per batch.
    const std::int64_t due = t0 + 20'000 + 3'600'000;
    const auto first = h.tick(due);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(integer(first[0], "window_start_ms"), t0);
    EXPECT_EQ(number(first[0], "avg"), 1);
    const auto second = h.tick(due);  // [10 s, 20 s) waited its turn
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(integer(second[0], "window_start_ms"), t0 + 10'000);
    EXPECT_EQ(number(second[0], "avg"), 90);
    EXPECT_TRUE(h.tick(due).empty());
}

TEST(Window, HoppingWindowsOverlap) {
    Heuristics h(R"(
  - id: w
    kind: window
    input: v
    window: {type: hopping, size: 10s, hop: 5s}
    aggregates: [count, sum]
    grace: 1h
)");
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());  // in [-5, 5) and [0, 10)
    const auto a = h.one(v(2), t0 + 6000);        // in [0, 10) and [5, 15)
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(integer(a[0], "window_start_ms"), t0 - 5000);
    EXPECT_EQ(integer(a[0], "count"), 1);
    const auto b = h.one(v(4), t0 + 11'000);  // in [5, 15) and [10, 20)
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(integer(b[0], "window_start_ms"), t0);
    EXPECT_EQ(integer(b[0], "count"), 2);
    EXPECT_EQ(number(b[0], "sum"), 3);
    const auto c = h.one(v(8), t0 + 30'000);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(integer(c[0], "window_start_ms"), t0 + 5000);
    EXPECT_EQ(number(c[0], "sum"), 6);
    EXPECT_EQ(integer(c[1], "window_start_ms"), t0 + 10'000);
    EXPECT_EQ(number(c[1], "sum"), 4);
    EXPECT_EQ(integer(c[1], "window_end_ms"), t0 + 20'000);
}

TEST(Window, CountWindows) {
    Heuristics h(R"(
  - {id: w, kind: window, input: v, window: {type: count, count: 3}, aggregates: [avg, count]}
)");
    EXPECT_TRUE(h.one(v(1), t0).empty());
    EXPECT_TRUE(h.one(v(2), t0 + 1).empty());
    const auto first = h.one(v(3), t0 + 7);
    ASSERT_EQ(states(first), Strings{"closed"});
    EXPECT_EQ(number(first[0], "avg"), 2);
    EXPECT_EQ(integer(first[0], "count"), 3);
    EXPECT_FALSE(first[0].values("window_start_ms").valid());
    EXPECT_EQ(first[0].text("event_time"), "2024-01-01T00:00:00.007Z");  // its last sample
    EXPECT_TRUE(h.one(v(4), t0 + 8).empty());
    EXPECT_TRUE(h.one(v(5), t0 + 9).empty());
    EXPECT_TRUE(h.tick(t0 + 3'600'000).empty());  // no timer closes a count window
    const auto second = h.one(v(6), t0 + 10);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(number(second[0], "avg"), 5);
}

TEST(Window, CloseWhen) {
    Heuristics h(R"(
  - {id: w, kind: window, input: v, window: {type: tumbling, size: 1m}, close_when: done}
)");
    EXPECT_TRUE(h.one(R"({"v": 1, "done": false})", t0 + 1000).empty());
    const auto closed = h.one(R"({"v": 3, "done": true})", t0 + 2000);
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(integer(closed[0], "count"), 2);
    EXPECT_EQ(number(closed[0], "avg"), 2);
    EXPECT_EQ(closed[0].trigger, 0u);
    EXPECT_TRUE(h.tick(t0 + 120'000).empty());  // closed already
}

TEST(Window, ConditionOverTheAggregates) {
    Heuristics h(R"(
  - id: w
    kind: window
    input: v
    window: {type: tumbling, size: 10s}
    condition: {inputs: [avg, count], expression: '$1 > 80 && $2 >= 2'}
)");
    h.one(v(70), t0);
    h.one(v(70), t0 + 1000);
    EXPECT_TRUE(h.tick(t0 + 10'000).empty());  // avg 70
    h.one(v(100), t0 + 10'000);
    EXPECT_TRUE(h.tick(t0 + 20'000).empty());  // avg 100, but one sample
    h.one(v(85), t0 + 20'000);
    h.one(v(95), t0 + 25'000);
    const auto fired = h.tick(t0 + 30'000);
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_EQ(number(fired[0], "avg"), 90);
    EXPECT_EQ(integer(fired[0], "window_start_ms"), t0 + 20'000);
}

// ---- correlate ---------------------------------------------------------------------------------

constexpr std::string_view intrusion = R"(
  - id: intrusion
    kind: correlate
    within: 10s
    sources:
      - {name: camera, topic: plant/cameras/+/detections, key: zone,
         condition: {inputs: [label], expression: '$1 == "person"'}}
      - {name: gas, topic: plant/gas/#, key: area,
         condition: {inputs: [ppm], expression: '$1 > 50'}}
)";

std::vector<Emitted> camera(Heuristics& h, std::string_view zone, std::int64_t t,
                            std::string_view label = "person") {
    return h.one(
        R"({"zone": ")" + std::string(zone) + R"(", "label": ")" + std::string(label) + R"("})", t,
        "plant/cameras/c1/detections", "plant/cameras/c1/detections");
}

std::vector<Emitted> gas(Heuristics& h, std::string_view area, std::int64_t t, int ppm = 60) {
    return h.one(R"({"area": ")" + std::string(area) + R"(", "ppm": )" + std::to_string(ppm) + "}",
                 t, "plant/gas/s1", "plant/gas/s1");
}

TEST(Correlate, FiresWhenEverySourceHoldsWithin) {
    Heuristics h(intrusion);
    EXPECT_TRUE(camera(h, "z1", t0).empty());
    const auto fired = gas(h, "z1", t0 + 5000);
    ASSERT_EQ(states(fired), Strings{"fired"});
    const Emitted& e = fired[0];
    EXPECT_EQ(e.text("key"), "z1");
    EXPECT_EQ(e.text("rule"), "intrusion");
    EXPECT_EQ(e.text("kind"), "correlate");
    EXPECT_EQ(integer(e, "camera_time_ms"), t0);
    EXPECT_EQ(integer(e, "gas_time_ms"), t0 + 5000);
    EXPECT_EQ(integer(e, "spread_ms"), 5000);
    EXPECT_NE(test::json_of(e.record).find(
                  R"("source_topics":["plant/gas/s1","plant/cameras/c1/detections"])"),
              std::string::npos)
        << test::json_of(e.record);
}

TEST(Correlate, AtExactlyWithinStillFiresBeyondItDoesNot) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_EQ(gas(h, "z1", t0 + 10'000).size(), 1u);
    camera(h, "z2", t0);
    EXPECT_TRUE(gas(h, "z2", t0 + 10'001).empty());
    // The gas reading is still held: a camera within 10 s of it completes the pair.
    EXPECT_EQ(camera(h, "z2", t0 + 15'000).size(), 1u);
}

TEST(Correlate, FiresOncePerCoOccurrence) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_EQ(gas(h, "z1", t0 + 1000).size(), 1u);
    EXPECT_TRUE(gas(h, "z1", t0 + 2000).empty());  // the camera was used up
    EXPECT_TRUE(gas(h, "z1", t0 + 3000).empty());
    EXPECT_EQ(camera(h, "z1", t0 + 4000).size(), 1u);  // a new pair
}

TEST(Correlate, KeysComeFromEachSourcesOwnField) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_TRUE(gas(h, "z2", t0 + 1000).empty());
    EXPECT_TRUE(camera(h, "z2", t0 + 1500, "cat").empty());  // condition false
    EXPECT_EQ(states(gas(h, "z1", t0 + 2000)), Strings{"fired"});
    EXPECT_EQ(states(camera(h, "z2", t0 + 2500)), Strings{"fired"});
}

TEST(Correlate, KeyedByItsOwnKeyAcrossShards) {
    Heuristics h(intrusion, 2);
    // Partition keys (the topics here) on different shards; the zone decides the rule's shard.
    const std::string p0 = test::key_on_shard("p", 0, 2);
    const std::string p1 = test::key_on_shard("p", 1, 2);
    h.run().add("plant/cameras/c1/detections", R"({"zone": "z1", "label": "person"})", p0, t0);
    h.run().add("plant/gas/s1", R"({"area": "z1", "ppm": 70})", p1, t0 + 1);
    const auto events = h.run().run(t0 + 1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text("key"), "z1");
    EXPECT_EQ(events[0].trigger, 1u);
}

constexpr std::string_view ack = R"(
  - id: unacknowledged
    kind: correlate
    mode: absent
    within: 5s
    sources:
      - {name: alarm, topic: alarms/+, key: id}
      - {name: ack, topic: acks/+, key: id}
)";

TEST(CorrelateAbsent, FiresWhenBDoesNotArrive) {
    Heuristics h(ack);
    EXPECT_TRUE(h.one(R"({"id": "a1"})", t0, "x", "alarms/line1").empty());
    EXPECT_TRUE(h.tick(t0 + 4999).empty());
    const auto fired = h.tick(t0 + 5000);
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_EQ(fired[0].text("key"), "a1");
    const ValueRef missing = fired[0].values("missing");
    ASSERT_TRUE(missing.valid());
    EXPECT_EQ(missing.as_string(), "ack");
    EXPECT_EQ(integer(fired[0], "alarm_time_ms"), t0);
    EXPECT_EQ(integer(fired[0], "within_ms"), 5000);
    EXPECT_EQ(fired[0].text("event_time"), "2024-01-01T00:00:05.000Z");
    EXPECT_NE(test::json_of(fired[0].record).find(R"("source_topics":["alarms/line1"])"),
              std::string::npos);
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());  // once
}

TEST(CorrelateAbsent, CancelledWhenBArrivesInTime) {
    Heuristics h(ack);
    h.one(R"({"id": "a2"})", t0, "x", "alarms/line1");
    EXPECT_TRUE(h.one(R"({"id": "a2"})", t0 + 3000, "y", "acks/line1").empty());
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());
}

TEST(CorrelateAbsent, AnAckForAnotherKeyOrTooLateDoesNotCancel) {
    Heuristics h(ack);
    h.run().add("alarms/line1", R"({"id": "a3"})", "x", t0);
    h.run().add("alarms/line1", R"({"id": "a4"})", "x", t0);
    h.run().add("acks/line1", R"({"id": "other"})", "y", t0 + 1000);
    h.run().add("acks/line1", R"({"id": "a4"})", "y", t0 + 5001, t0);  // event time too late
    EXPECT_TRUE(h.run().run(t0).empty());
    const auto fired = h.tick(t0 + 5000);
    ASSERT_EQ(fired.size(), 2u);
    Strings keys = {fired[0].text("key"), fired[1].text("key")};
    std::sort(keys.begin(), keys.end());  // due at the same time: either order
    EXPECT_EQ(keys, (Strings{"a3", "a4"}));
}

TEST(CorrelateAbsent, ANewAReplacesTheOneAwaited) {
    Heuristics h(ack);
    h.one(R"({"id": "a5"})", t0, "x", "alarms/line1");
    h.one(R"({"id": "a5"})", t0 + 3000, "x", "alarms/line1");
    EXPECT_TRUE(h.tick(t0 + 5000).empty());  // the first one's timer is void
    const auto fired = h.tick(t0 + 8000);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(integer(fired[0], "alarm_time_ms"), t0 + 3000);
}

// ---- anomaly -----------------------------------------------------------------------------------

TEST(Anomaly, NothingBeforeMinSamplesThenBeyondKSigma) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: ewma, alpha: 0.5, k: 3, min_samples: 5}
)");
    // Key a: the outlier is its fifth sample, with four behind it: warming up.
    for (double x : {10.0, 12.0, 10.0, 12.0}) {
        EXPECT_TRUE(h.one(v(x), t0, "a").empty());
    }
    EXPECT_TRUE(h.one(v(100), t0, "a").empty());

    // Key b: five samples behind it. With alpha 0.5 the EWMA goes
    // mean 10, 11, 10.5, 11.25, 10.625 and variance 0, 1, 0.75, 0.9375, 0.859375.
    for (double x : {10.0, 12.0, 10.0, 12.0, 10.0}) {
        EXPECT_TRUE(h.one(v(x), t0, "b").empty());
    }
    EXPECT_TRUE(h.one(v(11), t0, "c").empty());
    const auto fired = h.one(v(100), t0 + 1, "b");
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_DOUBLE_EQ(number(fired[0], "mean"), 10.625);
    EXPECT_DOUBLE_EQ(number(fired[0], "stddev"), std::sqrt(0.859375));
    EXPECT_DOUBLE_EQ(number(fired[0], "sigma"), (100 - 10.625) / std::sqrt(0.859375));
    EXPECT_EQ(integer(fired[0], "samples"), 5);
    EXPECT_EQ(number(fired[0], "value"), 100);
}

TEST(Anomaly, EwmaWithinKSigmaDoesNotFire) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: ewma, alpha: 0.5, k: 3, min_samples: 5}
)");
    for (double x : {10.0, 12.0, 10.0, 12.0, 10.0}) {
        h.one(v(x), t0);
    }
    // 3 sigma around 10.625 is ±2.78.
    EXPECT_TRUE(h.one(v(13.3), t0).empty());
}

TEST(Anomaly, ConstantInputNeverFires) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, min_samples: 3}
)");
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(h.one(v(5), t0 + i).empty());
    }
}

TEST(Anomaly, RollingUsesOnlyTheLastSamples) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: rolling, samples: 4, k: 2, min_samples: 4}
)");
    for (double x : {10.0, 12.0, 10.0, 12.0}) {
        EXPECT_TRUE(h.one(v(x), t0).empty());
    }
    // Mean 11, deviation 1: 13 is exactly 2 sigma away, which is not beyond.
    EXPECT_TRUE(h.one(v(13), t0).empty());
    // The last four (12, 10, 12, 13): mean 11.75, deviation sqrt(1.1875) ≈ 1.09, so 9.3 is
    // 2.25 sigma away. Over all five (mean 11.4, deviation 1.2) it would be 1.75.
    const auto fired = h.one(v(9.3), t0);
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_DOUBLE_EQ(number(fired[0], "mean"), 11.75);
    EXPECT_NEAR(number(fired[0], "stddev"), std::sqrt(1.1875), 1e-12);
    EXPECT_EQ(integer(fired[0], "samples"), 5);
}

// ---- configuration -----------------------------------------------------------------------------

std::string build_errors(std::string_view rules) {
    const std::string text = "kind: heuristics\nevents: events\nrules:\n" + std::string(rules);
    ConfigErrors errors("test.yaml");
    auto built = build_heuristics(text, 1, ClockMode::wall, errors);
    EXPECT_EQ(built == nullptr, !errors.empty());
    return errors.to_string();
}

TEST(HeuristicsConfig, RulesAreChecked) {
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1, low: 2}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: deadband, input: v}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: stale}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: window, input: v, window: {type: hopping, size: "
                           "10s, hop: 3s}}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: correlate, within: 1s, sources: [{name: x, topic: "
                           "'a/#/b', key: k}, {name: y, topic: b, key: k}]}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1}\n"
                           "  - {id: a, kind: threshold, input: v, high: 2}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: nonsense}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1, hgih: 2}\n"), "");
    EXPECT_EQ(build_errors("  - {id: a, kind: threshold, input: v, high: 1}\n"), "");
}

}  // namespace
}  // namespace edgeflow
