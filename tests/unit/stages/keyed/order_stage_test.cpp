#include "stages/keyed/order_stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/stateful.h"

namespace edgeflow {
namespace {

using test::SectionRun;

EventTimeConfig config(std::int64_t lateness_ms, LatePolicy late = LatePolicy::dead_letter,
                       ClockMode clock = ClockMode::wall, std::uint64_t max_keys = 1000) {
    EventTimeConfig c;
    c.allowed_lateness_ms = lateness_ms;
    c.late = late;
    c.clock = clock;
    c.max_keys = max_keys;
    return c;
}

std::vector<DeadLetterReason> reasons(const SectionRun& run) {
    std::vector<DeadLetterReason> out;
    for (const Message* m : run.last()) {
        out.push_back(m->dead_letter);
    }
    return out;
}

constexpr auto ok = DeadLetterReason::none;
constexpr auto late = DeadLetterReason::late_data;

TEST(OrderStage, LateDataGoesToDeadLetter) {
    auto stage = make_stage(OrderStage(config(5000), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "k", 10'000);
    run.add("t", "{}", "k", 4999);  // older than 10 s - 5 s
    run.add("t", "{}", "k", 5000);  // exactly at the limit: in time
    run.add("t", "{}", "j", 0);     // another key has its own newest time
    EXPECT_TRUE(run.run(1).empty());
    EXPECT_EQ(reasons(run), (std::vector<DeadLetterReason>{ok, late, ok, ok}));
    const Message& rejected = *run.last()[1];
    EXPECT_EQ(rejected.dead_letter_stage, "order");
    EXPECT_FALSE(rejected.dead_letter_detail.empty());
    EXPECT_EQ(load(stage->counters.in), 4u);
    EXPECT_EQ(load(stage->counters.out), 3u);
    EXPECT_EQ(load(stage->counters.errors), 1u);
    EXPECT_EQ(load(stage->counters.dropped), 0u);
    EXPECT_EQ(stage->state(), "keys: 2, late: 1, evicted keys: 0");
}

TEST(OrderStage, LateDataIsDroppedWhenThePolicySaysSo) {
    auto stage = make_stage(OrderStage(config(5000, LatePolicy::drop), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "k", 10'000);
    run.add("t", "{}", "k", 1000);
    run.run(1);
    const Message& dropped = *run.last()[1];
    EXPECT_TRUE(dropped.dropped);
    EXPECT_FALSE(dropped.dead());
    EXPECT_EQ(load(stage->counters.in), 2u);
    EXPECT_EQ(load(stage->counters.out), 1u);
    EXPECT_EQ(load(stage->counters.errors), 0u);
    EXPECT_EQ(load(stage->counters.dropped), 1u);
}

TEST(OrderStage, OutOfOrderWithinLatenessPassesAndTheNewestStays) {
    auto stage = make_stage(OrderStage(config(5000), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "k", 10'000);
    run.add("t", "{}", "k", 6000);
    run.add("t", "{}", "k", 5500);  // still measured against 10 s, not 6 s
    run.add("t", "{}", "k", 4000);
    run.run(1);
    EXPECT_EQ(reasons(run), (std::vector<DeadLetterReason>{ok, ok, ok, late}));

    // The newest moves forward across batches.
    run.add("t", "{}", "k", 20'000);
    run.add("t", "{}", "k", 14'999);
    run.run(2);
    EXPECT_EQ(reasons(run), (std::vector<DeadLetterReason>{ok, late}));
}

TEST(OrderStage, RejectedMessagesAreLeftAlone) {
    auto stage = make_stage(OrderStage(config(0), 1));
    SectionRun run({stage.get()}, 1);
    Message& bad = run.add("t", "{}", "k", 50'000);
    bad.reject(DeadLetterReason::event_time_invalid, "partition", "no time");
    run.add("t", "{}", "k", 1000);
    run.run(1);
    EXPECT_EQ(bad.dead_letter, DeadLetterReason::event_time_invalid);
    EXPECT_EQ(reasons(run)[1], ok);  // the rejected message set no newest time
    EXPECT_EQ(load(stage->counters.in), 1u);
}

TEST(OrderStage, EachShardJudgesItsOwnKeys) {
    auto stage = make_stage(OrderStage(config(1000), 2));
    const std::string a = test::key_on_shard("k", 0, 2);
    const std::string b = test::key_on_shard("k", 1, 2);
    SectionRun run({stage.get()}, 2);
    run.add("t", "{}", a, 10'000);
    run.add("t", "{}", b, 2000);
    run.add("t", "{}", a, 8000);
    run.add("t", "{}", b, 500);
    run.add("t", "{}", b, 1500);
    run.run(1);
    EXPECT_EQ(reasons(run), (std::vector<DeadLetterReason>{ok, ok, late, late, ok}));
    EXPECT_EQ(load(stage->counters.in), 5u);
    EXPECT_EQ(load(stage->counters.errors), 2u);
}

TEST(OrderStage, AnEvictedKeyStartsOver) {
    auto stage =
        make_stage(OrderStage(config(1000, LatePolicy::dead_letter, ClockMode::wall, 1), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "a", 10'000);
    run.add("t", "{}", "b", 0);  // evicts a
    run.add("t", "{}", "a", 0);  // a is new again: nothing to be late against
    run.run(1);
    EXPECT_EQ(reasons(run), (std::vector<DeadLetterReason>{ok, ok, ok}));
    EXPECT_EQ(stage->state(), "keys: 1, late: 0, evicted keys: 2");
}

TEST(OrderStage, EventClockIsTheRunningMaximumOfEventTimes) {
    auto stage =
        make_stage(OrderStage(config(60'000, LatePolicy::dead_letter, ClockMode::event), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "a", 1000);
    run.add("t", "{}", "b", 3000);
    run.add("t", "{}", "a", 2000);
    Message& rejected = run.add("t", "{}", "c", 900'000);
    rejected.reject(DeadLetterReason::event_time_invalid, "partition", "no time");
    run.run(123);
    std::vector<std::int64_t> clocks;
    for (const Message* m : run.last()) {
        clocks.push_back(m->clock_ms);
    }
    // A rejected message does not move the clock.
    EXPECT_EQ(clocks, (std::vector<std::int64_t>{1000, 3000, 3000, 3000}));

    run.add("t", "{}", "a", 2500);
    run.add("t", "{}", "b", 4000);
    run.run(123);
    EXPECT_EQ(run.last()[0]->clock_ms, 3000);  // never goes back
    EXPECT_EQ(run.last()[1]->clock_ms, 4000);
}

TEST(OrderStage, WallClockStampsEveryMessageWithTheBatchClock) {
    auto stage = make_stage(OrderStage(config(1000), 1));
    SectionRun run({stage.get()}, 1);
    run.add("t", "{}", "a", 1000);
    run.add("t", "{}", "b", 0);
    run.run(1);
    const std::int64_t clock = run.last()[0]->clock_ms;
    EXPECT_GT(clock, 1'600'000'000'000);  // the wall clock, not the batch's placeholder
    EXPECT_EQ(run.last()[1]->clock_ms, clock);
}

}  // namespace
}  // namespace edgeflow
