#include "core/worker_local.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace edgeflow {
namespace {

TEST(WorkerLocal, StartsWithOneSlotSoAStageRunsWithoutAGraph) {
    WorkerLocal<int> local;
    ASSERT_EQ(local.size(), 1u);
    local[0] = 7;
    EXPECT_EQ(local[0], 7);
}

TEST(WorkerLocal, GrowKeepsWhatSlotsHoldAndInitialisesOnlyNewOnes) {
    int made = 0;
    WorkerLocal<std::string> local([&made](std::string& s) {
        ++made;
        s = "fresh";
    });
    EXPECT_EQ(made, 1);
    local[0] = "used";
    local.grow(3);
    EXPECT_EQ(local.size(), 3u);
    EXPECT_EQ(made, 3);
    EXPECT_EQ(local[0], "used");  // a second prepare() must not reset counters or buffers
    EXPECT_EQ(local[2], "fresh");
    local.grow(2);  // never shrinks
    EXPECT_EQ(local.size(), 3u);
    std::string all;
    local.for_each([&all](const std::string& s) { all += s + ","; });
    EXPECT_EQ(all, "used,fresh,fresh,");
}

TEST(WorkerLocal, SlotsDoNotShareACacheLine) {
    WorkerLocal<std::uint64_t> local;
    local.grow(4);
    for (std::size_t i = 0; i < local.size(); ++i) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&local[i]) % 64, 0u) << i;
    }
}

}  // namespace
}  // namespace edgeflow
