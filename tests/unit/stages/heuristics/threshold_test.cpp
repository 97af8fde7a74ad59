#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

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

}  // namespace
}  // namespace edgeflow
