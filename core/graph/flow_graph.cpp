#include "core/graph/flow_graph.h"

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

}  // namespace

FlowGraph::FlowGraph(const std::vector<std::unique_ptr<AnyStage>>& stages, std::size_t worker_slots,
                     std::function<void(Batch*)> on_done)
    : on_done_(std::move(on_done)) {
    // Each stage is a function node; a keyed stage runs serially behind a sequencer of its
    // own, so it sees batches in dispatch order (per-key order for its state) while stateless
    // stages around it stay parallel.
    tbb::flow::sender<Batch*>* previous = nullptr;
    for (const auto& stage : stages) {
        AnyStage* s = stage.get();
        const bool keyed = s->shape() == StageShape::keyed;
        auto node = std::make_unique<StageNode>(
            graph_, keyed ? tbb::flow::serial : tbb::flow::unlimited,
            [s, worker_slots](Batch* batch) noexcept {
                StageContext ctx{worker_slot(worker_slots), s->counters};
                const std::uint64_t started = steady_now_ns();
                s->process(*batch, ctx);
                s->batch_latency.record(steady_now_ns() - started);
                return batch;
            });
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
    exit_ = std::make_unique<tbb::flow::function_node<Batch*>>(graph_, tbb::flow::serial,
                                                               [this](Batch* batch) noexcept {
                                                                   on_done_(batch);
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
    entry_->try_put(batch);
}

void FlowGraph::wait() {
    graph_.wait_for_all();
}

}  // namespace edgeflow
