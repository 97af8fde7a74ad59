// FlowGraph: the oneTBB flow graph that runs the stages over batches.
//
//   put() ─► stage 1 ─► stage 2 ─► … ─► sequencer (by Batch::sequence) ─► on_done (serial)
//
// Stateless stages are `unlimited` function nodes sharing one stage instance; batches may pass
// each other there, so the sequencer restores dispatch order before the serial exit, which is
// what keeps per-topic order end to end. A keyed stage (state per key) is a `serial` node
// behind a sequencer of its own, so it sees every batch once, in dispatch order.
//
// A run of consecutive sharded stages is one section: a `serial` node behind its own sequencer
// that, for each batch, runs every stage of the run in turn — begin_batch() on the node's
// thread, then process() once per shard, the shards in parallel (tbb::parallel_for) — and
// finally merges what the shards emitted into the batch. Each shard's state has one writer at a
// time and sees its keys' messages in arrival order; no locks are taken.
//
// run_inline() is the other way in: while no batch is in the graph, a small batch may be run
// by the calling thread, stage after stage, without waking a oneTBB worker (at a few hundred
// messages a second a wake-up, and the worker's spinning afterwards, cost many times the work).
// It needs no sequence number: with the graph idle, every earlier batch has already passed
// on_done, and nothing is put meanwhile, so order is kept.
//
// Node bodies hold a pointer to the stage, never state (TBB copies bodies). Built and waited
// on inside the engine's task_arena; put() may be called from a thread outside the arena (it
// only spawns a task). Must be destroyed inside that arena.
#pragma once

#include <oneapi/tbb/flow_graph.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "core/batch.h"
#include "core/stage.h"

namespace edgeflow {

class FlowGraph {
public:
    /// `on_done` runs serially, in sequence order, for each batch that leaves the last stage.
    /// `worker_slots`: the arena's thread slots; every stage is prepared for that many
    /// (AnyStage::prepare). `shards` is the number of shards of the sharded stages (at least 1).
    FlowGraph(const std::vector<std::unique_ptr<AnyStage>>& stages, std::size_t worker_slots,
              std::size_t shards, std::function<void(Batch*)> on_done);
    ~FlowGraph();

    /// Hands a batch to the first stage. Sequences must be 0, 1, 2, ... with no gaps (batches
    /// run inline take none).
    void put(Batch* batch);
    /// Blocks until every batch put so far has reached on_done.
    void wait();

    /// True when every batch put so far has returned from on_done: stage state written by the
    /// workers is then visible to the caller.
    bool idle() const noexcept { return in_graph_.load(std::memory_order_acquire) == 0; }
    /// Runs `batch` through every stage on the calling thread, sharded sections one shard after
    /// another, then on_done. Only while idle(), from the one thread that puts batches;
    /// `worker` is a scratch slot no graph thread uses.
    void run_inline(Batch* batch, unsigned worker) noexcept;
    /// run_inline without on_done: the caller delivers the batch itself.
    void run_stages(Batch* batch, unsigned worker) noexcept;

private:
    using StageNode = tbb::flow::function_node<Batch*, Batch*>;
    /// One step of a batch's way through the stages: a stage, or a section of sharded ones.
    struct Step {
        AnyStage* stage = nullptr;
        std::vector<AnyStage*> section;
    };
    std::vector<Step> steps_;
    unsigned shards_ = 1;
    std::atomic<std::int64_t> in_graph_{0};
    tbb::flow::graph graph_;
    std::vector<std::unique_ptr<StageNode>> stage_nodes_;
    std::vector<std::unique_ptr<tbb::flow::sequencer_node<Batch*>>> stage_orders_;
    tbb::flow::receiver<Batch*>* entry_ = nullptr;
    std::unique_ptr<tbb::flow::sequencer_node<Batch*>> sequencer_;
    std::unique_ptr<tbb::flow::function_node<Batch*>> exit_;
    std::function<void(Batch*)> on_done_;
};

/// Runs one batch through a section of sharded stages, as the graph's section node does; for
/// tests and benchmarks that drive stages without a graph. Shards run one after another.
void run_sharded_section(const std::vector<AnyStage*>& section, Batch& batch, unsigned worker,
                         unsigned shards);

}  // namespace edgeflow
