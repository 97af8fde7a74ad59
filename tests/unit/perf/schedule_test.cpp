#include "perf/harness/schedule.h"

#include <gtest/gtest.h>

namespace edgeflow::perf {
namespace {

TEST(OpenLoopSchedule, MessagesFallDueOnePeriodApart) {
    const OpenLoopSchedule s(100'000, 5'000);  // 10 µs apart, the first at t = 5 µs
    EXPECT_EQ(s.due_at(0), 5'000u);
    EXPECT_EQ(s.due_at(1), 15'000u);
    EXPECT_EQ(s.due_at(10), 105'000u);
    EXPECT_DOUBLE_EQ(s.rate(), 100'000.0);
}

TEST(OpenLoopSchedule, NoDriftOverLongRuns) {
    // A third of a microsecond does not divide evenly: computed from i, the error stays under
    // a nanosecond instead of accumulating.
    const OpenLoopSchedule s(3'000'000, 0);
    EXPECT_EQ(s.due_at(3'000'000), 1'000'000'000u);
    EXPECT_EQ(s.due_at(300'000'000), 100'000'000'000u);
    EXPECT_EQ(s.due_at(1), 333u);
    EXPECT_EQ(s.due_at(2), 667u);
}

TEST(OpenLoopSchedule, DueByCountsWhatFellDue) {
    const OpenLoopSchedule s(1'000, 1'000'000);  // 1 ms apart from t = 1 ms
    EXPECT_EQ(s.due_by(0, 100), 0u);
    EXPECT_EQ(s.due_by(999'999, 100), 0u);
    EXPECT_EQ(s.due_by(1'000'000, 100), 1u);  // message 0 is due exactly now
    EXPECT_EQ(s.due_by(1'999'999, 100), 1u);
    EXPECT_EQ(s.due_by(2'000'000, 100), 2u);
    EXPECT_EQ(s.due_by(50'500'000, 100), 50u);
    EXPECT_EQ(s.due_by(1'000'000'000, 100), 100u);  // capped at the total
}

TEST(OpenLoopSchedule, DueByAgreesWithDueAtAroundEveryMessage) {
    const OpenLoopSchedule s(3'000'000, 17);
    for (std::uint64_t i = 0; i < 10'000; ++i) {
        const auto t = s.due_at(i);
        ASSERT_EQ(s.due_by(t, 1'000'000), i + 1) << i;
        ASSERT_EQ(s.due_by(t - 1, 1'000'000), i) << i;
    }
}

TEST(OpenLoopSchedule, LateGeneratorKeepsTheScheduleNotItsOwnPace) {
    // A generator that wakes 5 ms late finds five messages due at once, and each keeps its
    // own scheduled time: latency measured from those times includes the 5 ms.
    const OpenLoopSchedule s(1'000, 0);
    EXPECT_EQ(s.due_by(4'000'000, 1000), 5u);
    EXPECT_EQ(s.due_at(4), 4'000'000u);
    EXPECT_EQ(s.due_at(0), 0u);
}

TEST(OpenLoopSchedule, UnlimitedRateMakesEverythingDueAtStart) {
    const OpenLoopSchedule s(0, 1'000);
    EXPECT_EQ(s.rate(), 0.0);
    EXPECT_EQ(s.due_at(12345), 1'000u);
    EXPECT_EQ(s.due_by(999, 50), 0u);
    EXPECT_EQ(s.due_by(1'000, 50), 50u);
}

}  // namespace
}  // namespace edgeflow::perf
