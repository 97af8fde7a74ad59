// Engine: one running pipeline — sources, ingest queue, flow graph, egress queue, sinks.
//
//   sources ─► IngestPort ─► ingest queue ─► dispatcher thread (batches) ─► FlowGraph
//     ─► egress queue ─► egress thread ─► sinks ─► messages and batches back to their pools
//
// Threads: each source's own (an MQTT connection's event loop, a file reader), `ef-dispatch`,
// `ef-egress`, and the `workers` oneTBB threads of the engine's task_arena (`ef-worker-N`). start()
// plans the CPU layout (core/runtime/cpu_layout.h): workers are bound to their CPUs by an observer
// as they enter the arena; the dispatch and egress threads run on the I/O CPUs, and sinks and
// sources are started from a thread (`ef-io`) bound to the I/O CPUs, so the threads they create
// inherit that affinity. Everything is bounded: the ingest queue by its capacity (full policy:
// block or drop_oldest, counted), the graph and egress queue by the batch pool, and messages by
// the message pool, all allocated in start().
//
// Run to completion: a source that read a burst of at most `runtime.inline_batch` messages
// hands it over whole (submit_burst). When nothing is queued or in flight, the source's own
// thread runs it through the stages and writes it to the sinks: at a trickle no message crosses
// to the dispatch or egress thread. Otherwise the burst is queued. A batch of at most
// `inline_batch` messages that the dispatch thread forms while the graph is idle it runs itself
// (FlowGraph::run_inline), not a worker's wake-up and spin per batch. Under load batches fill
// up or find the graph busy, and go to the workers. Order holds because only the holder of the
// run lock puts batches into the stages, and a burst runs to completion only when every earlier
// batch has left the sinks.
//
// The dispatch and egress threads wait on an empty queue as `runtime.idle` says: spin or yield
// for up to `spin_us`, then block. Latency is recorded per stage (per batch, by the graph) and
// end to end (per message, from Message::ingest_ns to the sinks' write, in the egress thread)
// into fixed-bucket histograms: relaxed atomic adds, no allocation, no lock.
//
// Acknowledgement after delivery: a message a source marked ack_pending keeps its token in its
// batch (the message itself goes back to the pool); the batch is held (Batch::hold) by every
// output a sink confirms later, and when the last is released the engine hands the tokens back
// to their sources (Source::acknowledge) and reuses the batch. With durable state written
// behind (lkv persist), batches that left changes unsaved wait in a DeliveryGroup until a later
// batch's snapshots hold them.
//
// Lifecycle, from one controlling thread: start(), then stop() (graceful: sources pause, the
// ingest queue drains through the graph, sinks flush and close while the sources acknowledge
// what they confirm, then the sources stop). summary() may be called at any time from any
// thread.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/endpoint.h"
#include "core/graph/flow_graph.h"
#include "core/metrics/histogram.h"
#include "core/metrics/metrics_writer.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/message_pool.h"
#include "core/runtime/thread_placement.h"
#include "core/stage.h"

namespace edgeflow {

struct IngestCounters {
    DepthGauge depth;
    std::atomic<std::uint64_t> dropped{0};        ///< removed by the drop_oldest policy
    std::atomic<std::uint64_t> waits{0};          ///< times a source waited for room (block policy)
    std::atomic<int> waiting{0};                  ///< sources waiting for room right now
    std::atomic<std::uint64_t> slow_enqueues{0};  ///< enqueues that had to allocate
};

/// The engine's queues wait as `runtime.idle` says (Engine::spin_until) and nothing more: the
/// queue's own semaphore would otherwise spin 10,000 rounds before every block, which at low
/// rates is most of the dispatch and egress threads' CPU time, whatever `idle` says.
struct EngineQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
    static const int MAX_SEMA_SPINS = 0;
};

/// Batches whose inputs wait for the same snapshot of durable state (Batch::state_unsaved): a run
/// of batches that left changes unsaved, closed by the first batch after them that left none.
/// Their acknowledgements go out when every batch of the run has been delivered.
struct DeliveryGroup {
    std::mutex mutex;
    std::vector<PendingAck> acks;  ///< of the batches delivered so far
    std::size_t pending = 0;       ///< batches of the group not yet delivered
    bool closed = false;           ///< a batch that left nothing unsaved joined it
    bool abandoned = false;        ///< an output of one of them was given up
};

class Engine final : private IngestPort, private DeliveryListener {
public:
    /// The engine prepares `stages` (AnyStage::prepare) for its threads: the workers, the
    /// arena's reserved slot and the dispatch thread each use a scratch slot of their own.
    Engine(const PipelineConfig& config, std::vector<std::unique_ptr<AnyStage>> stages,
           std::vector<std::unique_ptr<Source>> sources, std::vector<std::unique_ptr<Sink>> sinks,
           std::shared_ptr<DeadLetterCounts> dead_letters);
    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Plans the CPU layout, opens the sinks, starts the threads, then the sources. On failure
    /// (a CPU outside the allowed set, a sink or source that cannot start) everything started
    /// is stopped again and the Status says what failed.
    Status start();
    /// True when every source is finite and has delivered everything.
    bool sources_exhausted() const noexcept;
    /// Graceful stop: no more ingest, everything in flight reaches the sinks, sinks close.
    /// Returns the first sink close error, if any.
    Status stop();

    /// The stage summary: per source, queue, stage and sink counters.
    std::string summary() const;

    const std::vector<std::unique_ptr<AnyStage>>& stages() const noexcept { return stages_; }
    const std::vector<std::unique_ptr<Source>>& sources() const noexcept { return sources_; }
    const std::vector<std::unique_ptr<Sink>>& sinks() const noexcept { return sinks_; }
    const IngestCounters& ingest() const noexcept { return ingest_counters_; }
    const DeadLetterCounts& dead_letters() const noexcept { return *dead_letters_; }
    /// Batches the dispatch thread ran itself while the graph was idle (`runtime.inline_batch`).
    std::uint64_t inline_batches() const noexcept { return load(inline_batches_); }
    /// Bursts a source's thread ran to completion (submit_burst), stages and sinks included.
    std::uint64_t run_to_completion_batches() const noexcept { return load(completed_batches_); }
    /// The CPU layout in effect (after start()).
    const CpuLayout& layout() const noexcept { return layout_; }
    /// Time from ingest to the sinks' write, per message (filtered messages excluded).
    LatencyHistogram::Snapshot end_to_end_latency() const noexcept {
        return end_to_end_.snapshot();
    }
    /// Adds every engine metric to a scrape: sources, stages (and what each stage exports),
    /// queues, sinks, dead letters, latency histograms and the CPU layout. Any thread, any time
    /// after start().
    void metrics(MetricsWriter& writer) const;

private:
    // IngestPort
    Message* acquire() noexcept override;
    void submit(Message* message) noexcept override;
    void give_back(Message* message) noexcept override;
    void submit_burst(std::span<Message* const> messages) noexcept override;
    std::size_t burst_limit() const noexcept override { return burst_limit_; }

    /// Runs a source's burst through the stages and into the sinks on the calling thread, when
    /// nothing else is queued or in flight; false (nothing done) otherwise.
    bool run_to_completion(std::span<Message* const> messages) noexcept;
    /// Takes the run lock: the right to put batches into the stages. Held by the dispatch
    /// thread from taking messages off the ingest queue until the batch is in the graph, and by
    /// a source thread running a burst to completion.
    void lock_run() noexcept;
    bool try_lock_run() noexcept { return !run_lock_.exchange(true, std::memory_order_acquire); }
    void unlock_run() noexcept { run_lock_.store(false, std::memory_order_release); }
    /// What the egress thread does with a finished batch: write it to every sink, record
    /// end-to-end latency, return its messages to their pool and keep their acknowledgements
    /// in the batch until its outputs are safe (delivered).
    void deliver(Batch* batch) noexcept;
    /// DeliveryListener: every output of `batch` is safe. Acknowledges its inputs to their
    /// sources and returns it to the pool. Any thread.
    void delivered(Batch& batch) noexcept override;
    /// Hands acknowledgements to their sources, one call per run of the same source.
    void acknowledge(std::span<const PendingAck> acks) noexcept;
    /// A clean group for deliver(), from those kept for reuse.
    DeliveryGroup* take_group();

    void dispatch_loop();
    void egress_loop();
    /// Spins or yields (per runtime.idle) up to spin_us until `ready()`; false when it did not
    /// become ready (or the idle strategy is block).
    template <typename Ready>
    bool spin_until(Ready ready) const noexcept;
    void on_graph_done(Batch* batch);

    PipelineConfig config_;
    std::size_t workers_;
    std::size_t batch_size_;
    std::vector<std::unique_ptr<AnyStage>> stages_;
    std::vector<std::unique_ptr<Source>> sources_;
    std::vector<std::unique_ptr<Sink>> sinks_;
    std::shared_ptr<DeadLetterCounts> dead_letters_;

    std::unique_ptr<MessagePool> messages_;
    std::vector<std::unique_ptr<Batch>> batch_storage_;
    moodycamel::BlockingConcurrentQueue<Batch*, EngineQueueTraits> free_batches_;
    moodycamel::BlockingConcurrentQueue<Message*, EngineQueueTraits> ingest_;
    moodycamel::LightweightSemaphore ingest_space_;
    moodycamel::BlockingConcurrentQueue<Batch*, EngineQueueTraits> egress_;
    // The graph's exit node runs on whichever worker is free, one at a time. Without one
    // explicit producer, each worker thread would be its own producer, and the queue keeps
    // order only per producer: batches would overtake each other here.
    moodycamel::ProducerToken egress_token_;
    IngestCounters ingest_counters_;
    DepthGauge egress_depth_;  ///< messages in the egress queue
    EngineSignals signals_;
    CpuLayout layout_;
    LatencyHistogram end_to_end_;
    std::vector<std::string> stage_labels_;  ///< `stage` label of each stage's metrics

    std::unique_ptr<tbb::global_control> parallelism_;
    std::unique_ptr<tbb::task_arena> arena_;
    std::unique_ptr<WorkerPlacement> placement_;
    std::unique_ptr<FlowGraph> graph_;

    std::thread dispatcher_;
    std::thread egress_thread_;
    std::atomic<bool> started_{false};
    std::atomic<bool> sources_stopped_{false};
    std::atomic<bool> dispatch_done_{false};
    std::atomic<bool> aborting_{false};
    std::atomic<std::int64_t> batches_in_flight_{0};
    std::uint64_t inline_batch_ = 0;  ///< runtime.inline_batch, or 0 when there is no slot
    unsigned inline_slot_ = 0;        ///< the dispatch thread's scratch slot
    std::atomic<std::uint64_t> inline_batches_{0};
    std::atomic<std::uint64_t> completed_batches_{0};  ///< run to completion by a source thread
    std::atomic<bool> run_lock_{false};
    std::size_t burst_limit_ = 0;
    std::uint64_t next_sequence_ = 0;
    DeliveryGroup* open_group_ = nullptr;  ///< the run deliver() is adding to; its thread only
    std::mutex groups_mutex_;              ///< guards groups_ and free_groups_
    std::vector<std::unique_ptr<DeliveryGroup>> groups_;
    std::vector<DeliveryGroup*> free_groups_;
    bool has_sharded_stages_ = false;
    std::chrono::steady_clock::time_point started_at_;
    std::chrono::steady_clock::time_point stopped_at_;
};

}  // namespace edgeflow
