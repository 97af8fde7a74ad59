// FlowGraph: batches put through the oneTBB graph and batches run inline by the calling thread
// come out of on_done in the order they went in, and an inline batch never touches a worker.
#include "core/graph/flow_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <mutex>
#include <thread>
#include <vector>

namespace edgeflow {
namespace {

// Records, per batch, the thread that processed it and the scratch slot it was given; the
// sharded variant also records every shard it was called for.
struct ThreadLog {
    std::mutex mutex;
    std::vector<std::thread::id> threads;  // indexed by the batch's id (its capacity)
    std::vector<unsigned> workers;
    std::vector<std::vector<unsigned>> shards;

    explicit ThreadLog(std::size_t batches)
        : threads(batches), workers(batches, ~0u), shards(batches) {}
};

template <StageShape Shape>
struct RecordingStage {
    static constexpr std::string_view kind = "recording";
    static constexpr StageShape shape = Shape;
    ThreadLog* log;

    void process(Batch& batch, StageContext& ctx) noexcept {
        std::lock_guard lock(log->mutex);
        const std::size_t id = batch.capacity();
        log->threads[id] = std::this_thread::get_id();
        log->workers[id] = ctx.worker;
        log->shards[id].push_back(ctx.shard);
    }
};

class FlowGraphTest : public testing::Test {
protected:
    static constexpr std::size_t workers = 2;
    static constexpr std::size_t batch_count = 6;
    static constexpr unsigned inline_slot = workers + 1;

    FlowGraphTest() : stateless_log_(batch_count), sharded_log_(batch_count) {
        stages_.push_back(make_stage(RecordingStage<StageShape::stateless>{&stateless_log_}));
        stages_.push_back(make_stage(RecordingStage<StageShape::sharded>{&sharded_log_}));
        // A batch's capacity is its id in the logs (and never changes).
        for (std::size_t i = 0; i < batch_count; ++i) {
            batches_.push_back(std::make_unique<Batch>(i));
        }
    }

    std::vector<std::unique_ptr<AnyStage>> stages_;
    ThreadLog stateless_log_;
    ThreadLog sharded_log_;
    std::vector<std::unique_ptr<Batch>> batches_;
};

TEST_F(FlowGraphTest, InlineBatchesKeepTheirPlaceAmongPutOnesAndRunOnTheCaller) {
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, workers + 1);
    tbb::task_arena arena(static_cast<int>(workers + 1), 1);
    std::vector<std::size_t> done;  // on_done runs serially
    std::vector<bool> idle_before(batch_count);
    arena.execute([&] {
        FlowGraph graph(stages_, workers + 1, 3,
                        [&done](Batch* batch) { done.push_back(batch->capacity()); });
        EXPECT_TRUE(graph.idle());
        // put, put, (wait) inline, put, (wait) inline, inline
        std::uint64_t sequence = 0;
        const auto put = [&](std::size_t id) {
            batches_[id]->sequence = sequence++;
            graph.put(batches_[id].get());
        };
        put(0);
        put(1);
        graph.wait();
        idle_before[2] = graph.idle();
        graph.run_inline(batches_[2].get(), inline_slot);
        put(3);
        graph.wait();
        idle_before[4] = graph.idle();
        graph.run_inline(batches_[4].get(), inline_slot);
        graph.run_inline(batches_[5].get(), inline_slot);
        EXPECT_TRUE(graph.idle());
    });
    EXPECT_THAT(done, testing::ElementsAre(0, 1, 2, 3, 4, 5));
    EXPECT_TRUE(idle_before[2]);
    EXPECT_TRUE(idle_before[4]);

    const auto me = std::this_thread::get_id();
    for (std::size_t id : {2, 4, 5}) {
        EXPECT_EQ(stateless_log_.threads[id], me) << "batch " << id;
        EXPECT_EQ(sharded_log_.threads[id], me) << "batch " << id;
        EXPECT_EQ(stateless_log_.workers[id], inline_slot) << "batch " << id;
        EXPECT_EQ(sharded_log_.workers[id], inline_slot) << "batch " << id;
        // Every shard of the section, one after another.
        EXPECT_THAT(sharded_log_.shards[id], testing::ElementsAre(0, 1, 2)) << "batch " << id;
    }
    for (std::size_t id : {0, 1, 3}) {
        // Through the graph: a slot of the arena, never the inline one.
        EXPECT_LT(stateless_log_.workers[id], inline_slot) << "batch " << id;
        EXPECT_LT(sharded_log_.workers[id], inline_slot) << "batch " << id;
        EXPECT_THAT(sharded_log_.shards[id], testing::UnorderedElementsAre(0, 1, 2))
            << "batch " << id;
    }
}

TEST_F(FlowGraphTest, NotIdleWhileABatchIsInsideTheGraph) {
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, workers + 1);
    tbb::task_arena arena(static_cast<int>(workers + 1), 1);
    std::mutex gate;
    bool idle_inside = true;
    FlowGraph* graph_ptr = nullptr;
    arena.execute([&] {
        // on_done looks at idle() while its own batch is still counted in the graph.
        FlowGraph graph(stages_, workers + 1, 1, [&](Batch*) {
            std::lock_guard lock(gate);
            idle_inside = graph_ptr->idle();
        });
        graph_ptr = &graph;
        batches_[0]->sequence = 0;
        graph.put(batches_[0].get());
        graph.wait();
        EXPECT_TRUE(graph.idle());
    });
    EXPECT_FALSE(idle_inside);
}

}  // namespace
}  // namespace edgeflow
