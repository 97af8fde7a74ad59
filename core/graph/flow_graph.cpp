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
    for (const auto& stage : stages) {
        AnyStage* s = stage.get();
        stage_nodes_.push_back(std::make_unique<StageNode>(
            graph_, tbb::flow::unlimited, [s, worker_slots](Batch* batch) noexcept {
                StageContext ctx{worker_slot(worker_slots), s->counters};
                s->process(*batch, ctx);
                return batch;
            }));
    }
    sequencer_ = std::make_unique<tbb::flow::sequencer_node<Batch*>>(
        graph_, [](Batch* const& batch) { return static_cast<std::size_t>(batch->sequence); });
    exit_ = std::make_unique<tbb::flow::function_node<Batch*>>(graph_, tbb::flow::serial,
                                                               [this](Batch* batch) noexcept {
                                                                   on_done_(batch);
                                                                   return tbb::flow::continue_msg();
                                                               });
    for (std::size_t i = 1; i < stage_nodes_.size(); ++i) {
        tbb::flow::make_edge(*stage_nodes_[i - 1], *stage_nodes_[i]);
    }
    if (!stage_nodes_.empty()) {
        tbb::flow::make_edge(*stage_nodes_.back(), *sequencer_);
    }
    tbb::flow::make_edge(*sequencer_, *exit_);
}

FlowGraph::~FlowGraph() {
    graph_.wait_for_all();
}

void FlowGraph::put(Batch* batch) {
    if (stage_nodes_.empty()) {
        sequencer_->try_put(batch);
        return;
    }
    stage_nodes_.front()->try_put(batch);
}

void FlowGraph::wait() {
    graph_.wait_for_all();
}

}  // namespace edgeflow
