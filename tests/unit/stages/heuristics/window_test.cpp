#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

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

    // A late sample for the closed window is not counted in a second result for it, and is
    // counted as late, not as a message without a usable input.
    h.run().add("plant/k/t", v(6), "k", t0 + 5000, t0 + 60'000);
    h.run().add("plant/k/t", v(7), "k", t0 + 61'000, t0 + 61'000);
    EXPECT_TRUE(h.run().run(t0 + 61'000).empty());
    const auto next = h.tick(t0 + 72'000);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(integer(next[0], "window_start_ms"), t0 + 60'000);
    EXPECT_EQ(integer(next[0], "count"), 1);
    EXPECT_EQ(h.rule(0).late(), 1u);
    EXPECT_EQ(h.rule(0).skipped(), 0u);
}

// ---- windows and allowed lateness --------------------------------------------------------------

constexpr std::int64_t lateness = 5000;

Heuristics late_tolerant(std::string_view window) {
    return Heuristics("  - {id: w, kind: window, input: v, aggregates: [count, sum], window: " +
                          std::string(window) + "}\n",
                      1, ClockMode::wall, 256, lateness);
}

TEST(WindowLateness, InOrderSamplesCloseTheWindowOnceTheWatermarkPassesItsEnd) {
    Heuristics h = late_tolerant("{type: tumbling, size: 10s}");
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());
    EXPECT_TRUE(h.one(v(2), t0 + 12'000).empty());  // watermark 7 s: [0, 10 s) stays open
    const auto closed = h.one(v(4), t0 + 15'000);   // watermark 10 s
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(integer(closed[0], "window_start_ms"), t0);
    EXPECT_EQ(integer(closed[0], "count"), 1);
}

TEST(WindowLateness, AnOutOfOrderSampleWithinTheLatenessLandsInItsWindow) {
    Heuristics h = late_tolerant("{type: tumbling, size: 10s}");
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());
    EXPECT_TRUE(h.one(v(2), t0 + 12'000).empty());
    EXPECT_TRUE(h.one(v(4), t0 + 9000).empty());  // 3 s behind the newest: within 5 s
    const auto closed = h.one(v(8), t0 + 15'000);
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(integer(closed[0], "count"), 2);
    EXPECT_EQ(number(closed[0], "sum"), 5);
    EXPECT_EQ(h.rule(0).late(), 0u);
    EXPECT_EQ(h.rule(0).skipped(), 0u);
}

TEST(WindowLateness, HoppingWindowsTakeAnOutOfOrderSampleInEveryWindowItFallsIn) {
    Heuristics h = late_tolerant("{type: hopping, size: 10s, hop: 5s}");
    EXPECT_TRUE(h.one(v(1), t0 + 6000).empty());    // [0, 10) and [5, 15)
    EXPECT_TRUE(h.one(v(2), t0 + 14'000).empty());  // watermark 9 s: nothing closes
    EXPECT_TRUE(h.one(v(4), t0 + 9500).empty());    // [0, 10) and [5, 15), out of order
    const auto first = h.one(v(8), t0 + 15'000);    // watermark 10 s: [0, 10) closes
    ASSERT_EQ(states(first), Strings{"closed"});
    EXPECT_EQ(integer(first[0], "window_start_ms"), t0);
    EXPECT_EQ(number(first[0], "sum"), 5);
    const auto second = h.one(v(16), t0 + 20'000);  // watermark 15 s: [5, 15) closes
    ASSERT_EQ(states(second), Strings{"closed"});
    EXPECT_EQ(integer(second[0], "window_start_ms"), t0 + 5000);
    EXPECT_EQ(number(second[0], "sum"), 7);  // 1 + 2 + 4
}

TEST(WindowLateness, ASampleForAWindowATimerClosedIsCountedLateForIt) {
    Heuristics h = late_tolerant("{type: tumbling, size: 10s}");
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());
    EXPECT_TRUE(h.tick(t0 + 14'999).empty());  // end + lateness not yet passed
    const auto closed = h.tick(t0 + 15'000);
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(integer(closed[0], "count"), 1);
    // Within the lateness of the key's newest sample, but its window is gone.
    EXPECT_TRUE(h.one(v(2), t0 + 2000, "k").empty());
    EXPECT_EQ(h.rule(0).late(), 1u);
    EXPECT_EQ(h.rule(0).skipped(), 0u);
    EXPECT_NE(h.stage().state().find("1 sample(s) late for a closed window"), std::string::npos)
        << h.stage().state();
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());  // and it opened nothing
}

TEST(WindowLateness, CountWindowsCountInArrivalOrderWithFirstAndLastByEventTime) {
    Heuristics h(
        "  - {id: w, kind: window, input: v, aggregates: [count, first, last], "
        "window: {type: count, count: 3}}\n",
        1, ClockMode::wall, 256, lateness);
    EXPECT_TRUE(h.one(v(1), t0 + 1000).empty());
    EXPECT_TRUE(h.one(v(2), t0 + 3000).empty());
    const auto closed = h.one(v(4), t0 + 2000);  // out of order, within the lateness
    ASSERT_EQ(states(closed), Strings{"closed"});
    EXPECT_EQ(integer(closed[0], "count"), 3);
    EXPECT_EQ(number(closed[0], "first"), 1);
    EXPECT_EQ(number(closed[0], "last"), 2);
}

TEST(WindowLateness, ALatenessThatKeepsTooManyWindowsOpenIsAConfigError) {
    ConfigErrors errors("test.yaml");
    const auto built = build_heuristics(
        "kind: heuristics\nevents: events\nrules:\n"
        "  - {id: w, kind: window, input: v, window: {type: tumbling, size: 10ms}}\n",
        1, ClockMode::wall, errors, 60'000);
    EXPECT_EQ(built, nullptr);
    EXPECT_NE(errors.to_string().find("at most 1024 windows open"), std::string::npos)
        << errors.to_string();
}

// ---- a full outbox -----------------------------------------------------------------------------

TEST(WindowOutbox, ATimerEventThatWaitsIsCountedDelayedOnceAndAMessageEventLostOnce) {
    // One event per batch. w1 has three keys due at the same tick, w2 one: every tick emits
    // one, and w2's result waits three ticks for its turn.
    Heuristics h(R"(
  - {id: w1, kind: window, input: a, window: {type: tumbling, size: 10s}, aggregates: [count]}
  - {id: w2, kind: window, input: b, window: {type: tumbling, size: 10s}, aggregates: [count]}
)",
                 1, ClockMode::wall, 1);
    for (const char* key : {"ka", "kb", "kc"}) {
        EXPECT_TRUE(h.one(R"({"a": 1})", t0 + 1000, key).empty());
    }
    EXPECT_TRUE(h.one(R"({"b": 1})", t0 + 1000, "kd").empty());
    std::vector<std::string> order;
    for (int tick = 0; tick < 4; ++tick) {
        const auto out = h.tick(t0 + 10'000 + tick);
        ASSERT_EQ(out.size(), 1u) << "tick " << tick;
        order.push_back(out[0].text("rule"));
    }
    EXPECT_EQ(order, (Strings{"w1", "w1", "w1", "w2"}));
    EXPECT_TRUE(h.tick(t0 + 20'000).empty());
    const std::string state = h.stage().state();
    EXPECT_NE(state.find("events lost (outbox full): 0, delayed to a later tick: 3"),
              std::string::npos)
        << state;

    // Two events raised by one message, room for one: the second is lost, counted once.
    Heuristics lost(R"(
  - {id: hot1, kind: threshold, input: v, high: 80}
  - {id: hot2, kind: threshold, input: v, high: 80}
)",
                    1, ClockMode::wall, 1);
    ASSERT_EQ(lost.one(v(90), t0).size(), 1u);
    EXPECT_NE(lost.stage().state().find("events lost (outbox full): 1, delayed to a later tick: 0"),
              std::string::npos)
        << lost.stage().state();
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

}  // namespace
}  // namespace edgeflow
