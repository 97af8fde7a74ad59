#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

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

}  // namespace
}  // namespace edgeflow
