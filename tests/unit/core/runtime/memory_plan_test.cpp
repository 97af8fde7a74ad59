// MemoryPlan: what the configured bounds cost, at start and with every bound full; the budget
// and the runtime.memory_limit key.
#include "core/runtime/memory_plan.h"

#include <gtest/gtest.h>

#include "core/config/runtime_config.h"
#include "core/config/yaml_loader.h"

namespace edgeflow {
namespace {

// A stateful stage of the kind the plan counts emitted-event room for.
struct ShardedStage {
    static constexpr std::string_view kind = "sharded";
    static constexpr StageShape shape = StageShape::sharded;
    void process(Batch& /*batch*/, StageContext& /*ctx*/) noexcept {}
    MemoryBound memory() const { return {1000, 5000, "keys"}; }
};

PipelineConfig config_with(std::uint64_t emitted, std::uint64_t shards, std::uint64_t batch) {
    PipelineConfig config;
    config.destinations.resize(2);
    config.runtime.workers = 2;
    config.runtime.max_emitted_per_batch = emitted;
    config.runtime.shards = shards;
    config.runtime.batch_size = batch;
    return config;
}

const MemoryPlan::Item* find(const MemoryPlan& plan, std::string_view prefix) {
    for (const auto& item : plan.items) {
        if (item.what.starts_with(prefix)) {
            return &item;
        }
    }
    return nullptr;
}

TEST(MemoryPlan, EmittedRoomCostsNothingAtStartAndIsCountedInFull) {
    std::vector<std::unique_ptr<AnyStage>> stages;
    stages.push_back(make_stage(ShardedStage{}));
    const PipelineConfig small = config_with(256, 2, 64);
    const PipelineConfig huge = config_with(65536, 16, 1);
    const MemoryPlan a = MemoryPlan::of(small, stages, 1);
    const MemoryPlan b = MemoryPlan::of(huge, stages, 1);
    const auto* room = find(b, "emitted-event room");
    ASSERT_NE(room, nullptr);
    EXPECT_EQ(room->at_start, 0u);
    const std::uint64_t slots = engine_batches(huge) * 16 * 65536;
    EXPECT_GE(room->at_most, slots * (sizeof(Message) + 1024));
    EXPECT_GT(b.at_most, std::uint64_t{20} << 30);  // beyond any edge box
    EXPECT_LT(a.at_most, std::uint64_t{1} << 30);
    // The stage's own bound is part of the sum, and the sum is of every item.
    const auto* keys = find(a, "sharded: keys");
    ASSERT_NE(keys, nullptr);
    EXPECT_EQ(keys->at_most, 5000u);
    std::uint64_t sum = 0;
    for (const auto& item : a.items) {
        sum += item.at_most;
    }
    EXPECT_EQ(a.at_most, sum);
    EXPECT_EQ(a.describe().size(), a.items.size());
}

TEST(MemoryPlan, WithoutStatefulStagesThereIsNoEmittedRoom) {
    const MemoryPlan plan = MemoryPlan::of(config_with(65536, 16, 1), {}, 1);
    EXPECT_EQ(find(plan, "emitted-event room"), nullptr);
    const auto* pool = find(plan, "message pool");
    ASSERT_NE(pool, nullptr);
    const PipelineConfig config = config_with(65536, 16, 1);
    EXPECT_EQ(pool->at_start,
              engine_messages(config, 1) * (sizeof(Message) + 2 * sizeof(std::string)));
}

RuntimeConfig runtime_of(const std::string& value, std::string* error = nullptr) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text("runtime:\n  memory_limit: " + value + "\n", errors);
    EXPECT_TRUE(node.has_value());
    RuntimeConfig runtime;
    parse_runtime(*node->find("runtime"), runtime, errors);
    if (error != nullptr) {
        *error = errors.to_string();
    } else {
        EXPECT_TRUE(errors.empty()) << errors.to_string();
    }
    return runtime;
}

TEST(MemoryLimit, SizesAutoAndNone) {
    EXPECT_EQ(runtime_of("512Mi").memory_limit, 512ULL << 20);
    EXPECT_EQ(runtime_of("2G").memory_limit, 2'000'000'000ULL);
    EXPECT_EQ(runtime_of("3Gi").memory_limit, 3ULL << 30);
    EXPECT_EQ(runtime_of("1048576").memory_limit, 1ULL << 20);
    const RuntimeConfig none = runtime_of("none");
    EXPECT_EQ(none.memory_limit, 0u);
    EXPECT_FALSE(none.memory_limit_auto);
    EXPECT_FALSE(memory_budget(none).bytes.has_value());
    const RuntimeConfig set = runtime_of("512Mi");
    EXPECT_EQ(memory_budget(set).bytes.value_or(0), 512ULL << 20);
    EXPECT_EQ(memory_budget(set).from, "runtime.memory_limit");
    EXPECT_TRUE(runtime_of("auto").memory_limit_auto);
    for (const char* bad : {"12", "1.5Gi", "lots", "10Qi", "-1Gi", "[1]"}) {
        std::string error;
        runtime_of(bad, &error);
        EXPECT_NE(error.find("auto, none, or a size in bytes"), std::string::npos) << bad;
    }
}

TEST(MemoryLimit, BytesAreWrittenReadably) {
    EXPECT_EQ(format_bytes(512), "512 B");
    EXPECT_EQ(format_bytes(1536), "1.50 KiB");
    EXPECT_EQ(format_bytes(std::uint64_t{3} << 30), "3.00 GiB");
    EXPECT_EQ(format_bytes(std::uint64_t{200} << 20), "200.0 MiB");
}

}  // namespace
}  // namespace edgeflow
