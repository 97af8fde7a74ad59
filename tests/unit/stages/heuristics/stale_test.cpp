#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

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

}  // namespace
}  // namespace edgeflow
