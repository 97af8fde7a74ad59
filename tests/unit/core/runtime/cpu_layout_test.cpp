// CPU lists, topology-aware ordering and the layout plan, on made-up machines.
#include "core/runtime/cpu_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace edgeflow {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

// Four cores with two hyperthreads each, numbered as Linux does on most x86 machines: CPU n and
// n + 4 are siblings.
CpuTopology smt_machine() {
    CpuTopology t;
    t.core_of = {0, 1, 2, 3, 0, 1, 2, 3};
    return t;
}

RuntimeConfig runtime_with(std::uint64_t workers, bool pin) {
    RuntimeConfig r;
    r.workers = workers;
    r.pin = pin;
    return r;
}

TEST(CpuList, ParsesNumbersAndRanges) {
    EXPECT_THAT(*parse_cpu_list("0-3,6"), ElementsAre(0, 1, 2, 3, 6));
    EXPECT_THAT(*parse_cpu_list("5,1,1"), ElementsAre(1, 5));
    EXPECT_THAT(*parse_cpu_list(" 2 - 3 "), ElementsAre(2, 3));
}

TEST(CpuList, RejectsMalformedText) {
    for (const char* text : {"", "a", "1-", "-1", "3-1", "1,,2", "1,", "0x1", "100000"}) {
        EXPECT_FALSE(parse_cpu_list(text)) << text;
    }
}

TEST(CpuList, FormatsRuns) {
    EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 6, 8, 9}), "0-3,6,8-9");
    EXPECT_EQ(format_cpu_list({4}), "4");
    EXPECT_EQ(format_cpu_list({}), "");
}

TEST(CpuLayout, SmallMachineSharesEveryCpu) {
    CpuTopology t;
    t.core_of = {0, 1};
    auto layout = plan_cpu_layout(runtime_with(0, false), {0, 1}, t);
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_EQ(layout->workers, 2u);
    EXPECT_THAT(layout->worker_cpus, ElementsAre(0, 1));
    EXPECT_THAT(layout->io_cpus, ElementsAre(0, 1));
    EXPECT_FALSE(layout->pinned);
    EXPECT_THAT(layout->cpus_of_worker(1), ElementsAre(0, 1));
}

TEST(CpuLayout, AutoGivesIoOneWholeCoreOnLargerMachines) {
    auto layout = plan_cpu_layout(runtime_with(0, true), {0, 1, 2, 3, 4, 5, 6, 7}, smt_machine());
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_THAT(layout->io_cpus, ElementsAre(0, 4));  // core 0 with its sibling
    EXPECT_THAT(layout->worker_cpus, ElementsAre(1, 2, 3, 5, 6, 7));
    EXPECT_EQ(layout->workers, 6u);
}

TEST(CpuLayout, SiblingsApartPutsConsecutiveWorkersOnDifferentCores) {
    RuntimeConfig r = runtime_with(4, true);
    r.cpus = {false, {0, 1, 4, 5}};
    r.siblings = SiblingPolicy::apart;
    auto layout = plan_cpu_layout(r, {0, 1, 2, 3, 4, 5, 6, 7}, smt_machine());
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_THAT(layout->worker_cpu, ElementsAre(0, 1, 4, 5));
    EXPECT_THAT(layout->cpus_of_worker(2), ElementsAre(4));
}

TEST(CpuLayout, SiblingsTogetherPutsConsecutiveWorkersOnOneCore) {
    RuntimeConfig r = runtime_with(4, true);
    r.cpus = {false, {0, 1, 4, 5}};
    r.siblings = SiblingPolicy::together;
    auto layout = plan_cpu_layout(r, {0, 1, 2, 3, 4, 5, 6, 7}, smt_machine());
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_THAT(layout->worker_cpu, ElementsAre(0, 4, 1, 5));
}

TEST(CpuLayout, ExplicitCpusLeaveTheRestToIo) {
    RuntimeConfig r = runtime_with(0, true);
    r.cpus = {false, {1}};
    CpuTopology t;
    t.core_of = {0, 1};
    auto layout = plan_cpu_layout(r, {0, 1}, t);
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_EQ(layout->workers, 1u);
    EXPECT_THAT(layout->worker_cpu, ElementsAre(1));
    EXPECT_THAT(layout->io_cpus, ElementsAre(0));
    EXPECT_THAT(layout->describe(), HasSubstr("ef-worker-0 on 1"));
}

TEST(CpuLayout, MoreWorkersThanCpusShareThemInTurn) {
    RuntimeConfig r = runtime_with(3, true);
    r.cpus = {false, {1}};
    CpuTopology t;
    t.core_of = {0, 1};
    auto layout = plan_cpu_layout(r, {0, 1}, t);
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_THAT(layout->worker_cpu, ElementsAre(1, 1, 1));
}

TEST(CpuLayout, CpuOutsideTheAllowedSetIsAnError) {
    RuntimeConfig r = runtime_with(0, true);
    r.cpus = {false, {1, 5, 6}};
    CpuTopology t;
    auto layout = plan_cpu_layout(r, {0, 1}, t);
    ASSERT_FALSE(layout);
    EXPECT_EQ(layout.error(),
              "runtime.cpus: CPU 5-6 are not among the CPUs this process may run on (0-1)");

    RuntimeConfig io;
    io.io_cpus = {false, {3}};
    auto io_layout = plan_cpu_layout(io, {0, 1}, t);
    ASSERT_FALSE(io_layout);
    EXPECT_EQ(io_layout.error(),
              "runtime.io_cpus: CPU 3 is not among the CPUs this process may run on (0-1)");
}

TEST(CpuLayout, ThisProcessCanPlanItsDefaults) {
    auto layout = plan_cpu_layout(RuntimeConfig{});
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_EQ(layout->allowed, allowed_cpus());
    EXPECT_GE(layout->workers, 1u);
}

}  // namespace
}  // namespace edgeflow
