#include "core/graph/flow_graph.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>

namespace edgeflow {
namespace {

// Worker slot of the calling thread inside the arena, clamped into [0, slots).
unsigned worker_slot(std::size_t slots) noexcept {
    const int index = tbb::this_task_arena::current_thread_index();
    if (index < 0) {
        return 0;
    }
    return static_cast<unsigned>(std::min<std::size_t>(static_cast<std::size_t>(index), slots - 1));
}

// Below this many messages a batch's shards run on one thread: a parallel_for costs more
// than it saves on a small batch.
constexpr std::size_t parallel_shards_min_batch = 32;

// One batch through a section: each stage in turn, its shards in parallel when `parallel` and
// the batch is large enough; `worker` gives the calling thread's scratch slot.
template <typename WorkerOf>
void run_section(const std::vector<AnyStage*>& section, Batch& batch, unsigned shards,
                 bool parallel, WorkerOf worker) noexcept {
    const auto run_shard = [&](AnyStage& stage, unsigned shard) noexcept {
        StageContext ctx{worker(), stage.counters, shard, shards};
        stage.process(batch, ctx);
    };
    for (AnyStage* stage : section) {
        const std::uint64_t started = steady_now_ns();
        stage->begin_batch(batch);
        if (!parallel || shards == 1 || batch.size() < parallel_shards_min_batch) {
            for (unsigned shard = 0; shard < shards; ++shard) {
                run_shard(*stage, shard);
            }
        } else {
            tbb::parallel_for(0u, shards, [&](unsigned shard) { run_shard(*stage, shard); });
        }
        stage->end_batch(batch);
        stage->batch_latency.record(steady_now_ns() - started);
    }
    batch.merge_emitted();
}

// One batch through one (unsharded) stage, timed.
void run_stage(AnyStage& stage, Batch& batch, unsigned worker) noexcept {
    StageContext ctx{worker, stage.counters};
    const std::uint64_t started = steady_now_ns();
    stage.process(batch, ctx);
    stage.batch_latency.record(steady_now_ns() - started);
}

}  // namespace

void run_sharded_section(const std::vector<AnyStage*>& section, Batch& batch, unsigned worker,
                         unsigned shards) {
    run_section(section, batch, shards, false, [worker] { return worker; });
}

FlowGraph::FlowGraph(const std::vector<std::unique_ptr<AnyStage>>& stages, std::size_t worker_slots,
                     std::size_t shards, std::function<void(Batch*)> on_done)
    : on_done_(std::move(on_done)) {
    // Each stage is a function node; a keyed stage runs serially behind a sequencer of its
    // own, so it sees batches in dispatch order (per-key order for its state) while stateless
    // stages around it stay parallel. A run of sharded stages becomes one section node.
    const auto shard_count = static_cast<unsigned>(std::max<std::size_t>(1, shards));
    shards_ = shard_count;
    for (const auto& stage : stages) {
        stage->prepare(worker_slots);
    }
    tbb::flow::sender<Batch*>* previous = nullptr;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        AnyStage* s = stages[i].get();
        const bool sharded = s->shape() == StageShape::sharded;
        const bool keyed = s->shape() == StageShape::keyed || sharded;
        std::unique_ptr<StageNode> node;
        if (sharded) {
            std::vector<AnyStage*> section;
            for (; i < stages.size() && stages[i]->shape() == StageShape::sharded; ++i) {
                section.push_back(stages[i].get());
            }
            --i;
            steps_.push_back(Step{nullptr, section});
            node = std::make_unique<StageNode>(
                graph_, tbb::flow::serial,
                [section, worker_slots, shard_count](Batch* batch) noexcept {
                    run_section(section, *batch, shard_count, true,
                                [worker_slots] { return worker_slot(worker_slots); });
                    return batch;
                });
        } else {
            steps_.push_back(Step{s, {}});
            node = std::make_unique<StageNode>(graph_,
                                               keyed ? tbb::flow::serial : tbb::flow::unlimited,
                                               [s, worker_slots](Batch* batch) noexcept {
                                                   run_stage(*s, *batch, worker_slot(worker_slots));
                                                   return batch;
                                               });
        }
        tbb::flow::receiver<Batch*>* entry = node.get();
        if (keyed) {
            auto order = std::make_unique<tbb::flow::sequencer_node<Batch*>>(
                graph_,
                [](Batch* const& batch) { return static_cast<std::size_t>(batch->sequence); });
            tbb::flow::make_edge(*order, *node);
            entry = order.get();
            stage_orders_.push_back(std::move(order));
        }
        if (previous != nullptr) {
            tbb::flow::make_edge(*previous, *entry);
        } else {
            entry_ = entry;
        }
        previous = node.get();
        stage_nodes_.push_back(std::move(node));
    }
    sequencer_ = std::make_unique<tbb::flow::sequencer_node<Batch*>>(
        graph_, [](Batch* const& batch) { return static_cast<std::size_t>(batch->sequence); });
    exit_ = std::make_unique<tbb::flow::function_node<Batch*>>(
        graph_, tbb::flow::serial, [this](Batch* batch) noexcept {
            on_done_(batch);
            in_graph_.fetch_sub(1, std::memory_order_release);
            return tbb::flow::continue_msg();
        });
    if (previous != nullptr) {
        tbb::flow::make_edge(*previous, *sequencer_);
    } else {
        entry_ = sequencer_.get();
    }
    tbb::flow::make_edge(*sequencer_, *exit_);
}

FlowGraph::~FlowGraph() {
    graph_.wait_for_all();
}

void FlowGraph::put(Batch* batch) {
    in_graph_.fetch_add(1, std::memory_order_relaxed);
    entry_->try_put(batch);
}

void FlowGraph::run_inline(Batch* batch, unsigned worker) noexcept {
    run_stages(batch, worker);
    on_done_(batch);
}

void FlowGraph::run_stages(Batch* batch, unsigned worker) noexcept {
    for (const Step& step : steps_) {
        if (step.stage == nullptr) {
            run_section(step.section, *batch, shards_, false, [worker] { return worker; });
            continue;
        }
        run_stage(*step.stage, *batch, worker);
    }
}

void FlowGraph::wait() {
    graph_.wait_for_all();
}

}  // namespace edgeflow
