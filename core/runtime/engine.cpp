#include "core/runtime/engine.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "core/log.h"
#include "core/runtime/memory_plan.h"

namespace edgeflow {
namespace {

constexpr std::int64_t idle_wait_us = 20'000;  // how long idle threads sleep between checks
// How often an idle engine sends an empty batch through the stateful stages, so their timers
// fire: the resolution of `stale` and of windows closing on processing time.
constexpr auto tick_interval = std::chrono::milliseconds(100);

std::size_t total_batches(const PipelineConfig& config) {
    return engine_batches(config);  // the figure `check` sizes memory by (memory_plan.h)
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void name_thread(std::thread& thread, const char* name) {
    pthread_setname_np(thread.native_handle(), name);
}

std::string format_row(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string format_row(const char* format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    return line;
}

// The `stage` label of each stage: its name, or its kind; a second one of the same gets "-2".
std::vector<std::string> label_stages(const std::vector<std::unique_ptr<AnyStage>>& stages) {
    std::vector<std::string> labels;
    for (const auto& stage : stages) {
        std::string label = stage->name.empty() ? std::string(stage->kind()) : stage->name;
        std::size_t same = 1;
        for (const auto& earlier : labels) {
            same += earlier == label || earlier.starts_with(label + "-") ? 1 : 0;
        }
        labels.push_back(same == 1 ? label : label + "-" + std::to_string(same));
    }
    return labels;
}

}  // namespace

Engine::Engine(const PipelineConfig& config, std::vector<std::unique_ptr<AnyStage>> stages,
               std::vector<std::unique_ptr<Source>> sources,
               std::vector<std::unique_ptr<Sink>> sinks,
               std::shared_ptr<DeadLetterCounts> dead_letters)
    : config_(config),
      workers_(config.effective_workers()),
      batch_size_(config.runtime.batch_size),
      stages_(std::move(stages)),
      sources_(std::move(sources)),
      sinks_(std::move(sinks)),
      dead_letters_(std::move(dead_letters)),
      free_batches_(2 * total_batches(config) + 64),
      ingest_(config.runtime.ingest_queue.capacity + 256),
      ingest_space_(static_cast<ssize_t>(config.runtime.ingest_queue.capacity)),
      egress_(2 * total_batches(config) + 64),
      egress_token_(egress_),
      stage_labels_(label_stages(stages_)),
      has_sharded_stages_(std::any_of(stages_.begin(), stages_.end(), [](const auto& stage) {
          return stage->shape() == StageShape::sharded;
      })) {}

Engine::~Engine() {
    if (started_) {
        static_cast<void>(stop());
    }
}

Status Engine::start() {
    auto layout = plan_cpu_layout(config_.runtime);
    if (!layout) {
        return layout.status();
    }
    layout_ = std::move(*layout);
    workers_ = layout_.workers;

    const std::size_t batches = total_batches(config_);
    // Every message is in exactly one place: the ingest queue, a batch, or a source's hands.
    const std::size_t pool_size = engine_messages(config_, sources_.size());
    messages_ = std::make_unique<MessagePool>(pool_size, config_.destinations.size());
    batch_storage_.reserve(batches);
    for (std::size_t i = 0; i < batches; ++i) {
        batch_storage_.push_back(std::make_unique<Batch>(batch_size_, config_.destinations.size(),
                                                         config_.effective_shards(),
                                                         config_.runtime.max_emitted_per_batch));
        batch_storage_.back()->set_listener(this);
        free_batches_.enqueue(batch_storage_.back().get());
    }

    // Sinks and sources start their threads (MQTT connections, file readers) from a thread
    // bound to the I/O CPUs: those threads inherit its affinity.
    const Status sinks_started = run_on_cpus(layout_.io_cpus, "ef-io", [&]() -> Status {
        for (auto& sink : sinks_) {
            if (auto status = sink->start(signals_); !status) {
                for (auto& s : sinks_) {
                    static_cast<void>(s->close());
                }
                return Status::error("destination '" + sink->name() + "': " + status.message());
            }
        }
        return Status::ok();
    });
    if (!sinks_started) {
        return sinks_started;
    }

    // oneTBB caps its worker pool at the machine's concurrency unless told otherwise; the
    // arena gets exactly `workers` threads plus one slot for the dispatcher to submit from.
    parallelism_ = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, workers_ + 1);
    arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(workers_ + 1), 1);
    arena_->initialize();
    placement_ = std::make_unique<WorkerPlacement>(*arena_, layout_);
    placement_->observe(true);
    // Scratch for every arena slot and for the dispatch thread (the slot after them), which
    // runs small batches itself.
    inline_slot_ = static_cast<unsigned>(workers_ + 1);
    for (const auto& stage : stages_) {
        stage->prepare(inline_slot_ + 1);
    }
    arena_->execute([&] {
        graph_ = std::make_unique<FlowGraph>(stages_, workers_ + 1, config_.effective_shards(),
                                             [this](Batch* batch) { on_graph_done(batch); });
    });

    inline_batch_ = config_.runtime.inline_batch;
    // A source holds back at most this many acquired messages; under half the ingest queue, so
    // that a source waiting for room always leaves some for the dispatcher to free.
    burst_limit_ = std::min<std::size_t>({static_cast<std::size_t>(inline_batch_), batch_size_,
                                          config_.runtime.ingest_queue.capacity / 2});

    started_at_ = std::chrono::steady_clock::now();
    started_ = true;
    dispatcher_ = std::thread([this] {
        bind_current_thread(layout_.io_cpus);
        dispatch_loop();
    });
    name_thread(dispatcher_, "ef-dispatch");
    egress_thread_ = std::thread([this] {
        bind_current_thread(layout_.io_cpus);
        egress_loop();
    });
    name_thread(egress_thread_, "ef-egress");

    const Status sources_started = run_on_cpus(layout_.io_cpus, "ef-io", [&]() -> Status {
        for (std::size_t i = 0; i < sources_.size(); ++i) {
            if (auto status = sources_[i]->start(*this); !status) {
                for (std::size_t j = 0; j < i; ++j) {
                    sources_[j]->stop();
                }
                return Status::error("source '" + sources_[i]->name() + "': " + status.message());
            }
        }
        return Status::ok();
    });
    if (!sources_started) {
        static_cast<void>(stop());
        return sources_started;
    }
    log_info("engine",
             "pipeline '" + config_.name + "' started: " + std::to_string(sources_.size()) +
                 " source(s), " + std::to_string(stages_.size()) + " stage(s), " +
                 std::to_string(sinks_.size()) + " destination(s), " + std::to_string(workers_) +
                 " worker(s), batch " + std::to_string(batch_size_) + ", idle " +
                 std::string(to_string(config_.runtime.idle)));
    log_info("runtime", "CPU layout: " + layout_.describe());
    return Status::ok();
}

bool Engine::sources_exhausted() const noexcept {
    return std::all_of(sources_.begin(), sources_.end(),
                       [](const auto& s) { return s->finite() && s->exhausted(); });
}

Status Engine::stop() {
    if (!started_.exchange(false)) {
        return Status::ok();
    }
    signals_.stopping = true;
    // Sources stop taking input but stay connected until the sinks have closed: what is in
    // flight is still acknowledged to its broker as it is delivered.
    for (auto& source : sources_) {
        source->pause();
    }
    sources_stopped_ = true;
    if (dispatcher_.joinable()) {
        dispatcher_.join();
    }
    if (egress_thread_.joinable()) {
        egress_thread_.join();
    }
    arena_->execute([&] {
        graph_->wait();
        graph_.reset();
    });
    Status result;
    for (auto& sink : sinks_) {
        if (auto status = sink->close(); !status && result) {
            result = Status::error("destination '" + sink->name() + "': " + status.message());
        }
    }
    for (auto& source : sources_) {
        source->stop();
    }
    stopped_at_ = std::chrono::steady_clock::now();
    return result;
}

Message* Engine::acquire() noexcept {
    const bool drop_oldest = config_.runtime.ingest_queue.when_full == FullPolicy::drop_oldest;
    // Counts this source in `waiting` from its first wait until it returns.
    struct WaitGauge {
        std::atomic<int>& waiting;
        bool counted = false;
        ~WaitGauge() {
            if (counted) {
                waiting.fetch_sub(1, std::memory_order_relaxed);
            }
        }
    } gauge{ingest_counters_.waiting};
    while (!aborting_.load(std::memory_order_relaxed)) {
        if (ingest_space_.tryWait()) {
            Message* message = messages_->take();
            EDGEFLOW_ASSERT(message != nullptr);  // the pool is sized for a full queue
            return message;
        }
        if (drop_oldest) {
            Message* oldest = nullptr;
            if (ingest_.try_dequeue(oldest)) {
                // Its queue slot passes to the new message, so the depth stays the same.
                ingest_counters_.dropped.fetch_add(1, std::memory_order_relaxed);
                ingest_counters_.depth.add(-1);
                if (oldest->ack_pending) {
                    // Dropped by the policy the user chose, and counted: acknowledged, or the
                    // source's acknowledgements behind it would wait for it for ever.
                    const PendingAck ack{oldest->source, oldest->ack_token};
                    sources_[oldest->source]->acknowledge({&ack, 1});
                }
                oldest->reset();
                return oldest;
            }
        }
        if (!gauge.counted) {
            ingest_counters_.waits.fetch_add(1, std::memory_order_relaxed);
            ingest_counters_.waiting.fetch_add(1, std::memory_order_relaxed);
            gauge.counted = true;
        }
        if (ingest_space_.wait(idle_wait_us)) {
            Message* message = messages_->take();
            EDGEFLOW_ASSERT(message != nullptr);
            return message;
        }
    }
    return nullptr;
}

void Engine::submit(Message* message) noexcept {
    ingest_counters_.depth.add(1);
    if (!ingest_.try_enqueue(message)) {
        // A source thread's first enqueue creates its producer, which try_enqueue may refuse;
        // enqueue allocates it once. Counted so a steady stream of these would show.
        ingest_counters_.slow_enqueues.fetch_add(1, std::memory_order_relaxed);
        ingest_.enqueue(message);
    }
}

void Engine::give_back(Message* message) noexcept {
    messages_->put(message);
    ingest_space_.signal(1);
}

void Engine::lock_run() noexcept {
    // Held for one batch's stages at most (a burst of inline_batch messages); a short spin.
    while (!try_lock_run()) {
        while (run_lock_.load(std::memory_order_relaxed)) {
            cpu_relax();
        }
    }
}

void Engine::submit_burst(std::span<Message* const> messages) noexcept {
    if (messages.empty()) {
        return;
    }
    if (messages.size() <= burst_limit_ && run_to_completion(messages)) {
        return;
    }
    for (Message* message : messages) {
        submit(message);
    }
}

bool Engine::run_to_completion(std::span<Message* const> messages) noexcept {
    // Cheap looks first: under load something is always queued or in flight.
    if (batches_in_flight_.load(std::memory_order_acquire) != 0 ||
        ingest_counters_.depth.depth.load(std::memory_order_acquire) != 0 || !try_lock_run()) {
        return false;
    }
    Batch* batch = nullptr;
    // Under the lock nothing can be put meanwhile: with nothing queued and nothing in flight,
    // every earlier message has left the sinks, so this burst keeps its place in the order.
    if (batches_in_flight_.load(std::memory_order_acquire) != 0 ||
        ingest_counters_.depth.depth.load(std::memory_order_acquire) != 0 || !graph_->idle() ||
        !free_batches_.try_dequeue(batch)) {
        unlock_run();
        return false;
    }
    std::copy(messages.begin(), messages.end(), batch->data());
    batch->set_size(messages.size());
    batches_in_flight_.fetch_add(1, std::memory_order_relaxed);
    graph_->run_stages(batch, inline_slot_);
    deliver(batch);
    ingest_space_.signal(static_cast<ssize_t>(messages.size()));
    completed_batches_.fetch_add(1, std::memory_order_relaxed);
    unlock_run();
    return true;
}

template <typename Ready>
bool Engine::spin_until(Ready ready) const noexcept {
    const IdleStrategy idle = config_.runtime.idle;
    if (idle == IdleStrategy::block || config_.runtime.spin_us == 0) {
        return false;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(config_.runtime.spin_us);
    for (unsigned round = 1;; ++round) {
        if (ready()) {
            return true;
        }
        if (idle == IdleStrategy::yield) {
            sched_yield();
        } else {
            cpu_relax();
        }
        // Reading the clock costs more than a pause: look at it every 64 rounds.
        if (round % 64 == 0 && std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
    }
}

void Engine::dispatch_loop() {
    moodycamel::ConsumerToken token(ingest_);
    Batch* batch = nullptr;
    auto last_dispatch = std::chrono::steady_clock::now();
    while (true) {
        if (batch == nullptr && !free_batches_.wait_dequeue_timed(batch, idle_wait_us)) {
            continue;  // the graph and egress hold every batch: backpressure
        }
        const bool last_round = sources_stopped_.load(std::memory_order_acquire);
        std::size_t n = ingest_.try_dequeue_bulk(token, batch->data(), batch->capacity());
        const auto take = [&] {
            n = ingest_.try_dequeue_bulk(token, batch->data(), batch->capacity());
            return n != 0;
        };
        if (n == 0 && !spin_until(take)) {
            n = ingest_.wait_dequeue_bulk_timed(token, batch->data(), batch->capacity(),
                                                idle_wait_us);
        }
        if (n == 0) {
            // Sources stopped before this round began and the queue is empty: all delivered.
            if (last_round) {
                break;
            }
            // Stateful stages keep time even when nothing arrives (a device that went silent
            // must still raise its stale event): an empty batch every tick_interval lets them.
            const auto now = std::chrono::steady_clock::now();
            if (!has_sharded_stages_ || now - last_dispatch < tick_interval) {
                continue;
            }
        }
        last_dispatch = std::chrono::steady_clock::now();
        // From here until the batch is in the graph no source runs a burst to completion: it
        // would overtake these messages.
        lock_run();
        ingest_space_.signal(static_cast<ssize_t>(n));
        ingest_counters_.depth.add(-static_cast<std::int64_t>(n));
        batch->set_size(n);
        batches_in_flight_.fetch_add(1, std::memory_order_relaxed);
        if (n <= inline_batch_ && graph_->idle()) {
            // A trickle: run it here rather than wake a worker for it (see FlowGraph).
            graph_->run_inline(batch, inline_slot_);
            inline_batches_.fetch_add(1, std::memory_order_relaxed);
        } else {
            batch->sequence = next_sequence_++;
            graph_->put(batch);
        }
        unlock_run();
        batch = nullptr;
    }
    if (batch != nullptr) {
        free_batches_.enqueue(batch);
    }
    dispatch_done_.store(true, std::memory_order_release);
}

void Engine::on_graph_done(Batch* batch) {
    // Runs serially in sequence order; the egress queue holds at most the batch pool, for which
    // it was sized, so try_enqueue has room.
    egress_depth_.add(static_cast<std::int64_t>(batch->size()));
    const bool queued = egress_.try_enqueue(egress_token_, batch);
    EDGEFLOW_ASSERT(queued);
    if (!queued) {
        egress_.enqueue(egress_token_, batch);
    }
}

void Engine::egress_loop() {
    moodycamel::ConsumerToken token(egress_);
    Batch* batch = nullptr;
    while (true) {
        if (!egress_.try_dequeue(token, batch) &&
            !spin_until([&] { return egress_.try_dequeue(token, batch); }) &&
            !egress_.wait_dequeue_timed(token, batch, idle_wait_us)) {
            if (dispatch_done_.load(std::memory_order_acquire) &&
                batches_in_flight_.load(std::memory_order_acquire) == 0) {
                break;
            }
            continue;
        }
        egress_depth_.add(-static_cast<std::int64_t>(batch->size()));
        deliver(batch);
    }
}

void Engine::deliver(Batch* batch) noexcept {
    batch->begin_delivery();
    // Durable state (lkv persist) is written behind: a batch that left changes unsaved opens
    // (or joins) a group, and the first batch after it that left none closes it, its snapshots
    // holding every change before. Called in dispatch order, one batch at a time.
    if (batch->state_unsaved() || open_group_ != nullptr) {
        if (open_group_ == nullptr) {
            open_group_ = take_group();
        }
        DeliveryGroup* group = open_group_;
        const bool closes = !batch->state_unsaved();
        {
            const std::lock_guard lock(group->mutex);
            ++group->pending;
            group->closed = closes;
        }
        if (closes) {
            open_group_ = nullptr;
        }
        batch->group = group;
    }
    for (auto& sink : sinks_) {
        sink->write(*batch);
    }
    // End-to-end latency: one clock read per batch, one bucket add per message, one sum add
    // per batch.
    const std::uint64_t now = steady_now_ns();
    std::uint64_t sum = 0;
    for (Message* message : *batch) {
        if (message->ingest_ns != 0 && !message->dropped) {
            const std::uint64_t ns = now > message->ingest_ns ? now - message->ingest_ns : 0;
            end_to_end_.record_bucket(ns);
            sum += ns;
        }
        if (!message->emitted) {  // emitted messages belong to the batch
            if (message->ack_pending) {
                batch->keep_ack(message->source, message->ack_token);
            }
            messages_->put(message);
        }
    }
    end_to_end_.add_sum(sum);
    batches_in_flight_.fetch_sub(1, std::memory_order_release);
    batch->release(true);  // the engine's own hold: the sinks have written
}

void Engine::delivered(Batch& batch) noexcept {
    // Everything the batch produced is safe: its inputs are acknowledged, unless an output was
    // given up, or they wait for their group (durable state not yet written).
    DeliveryGroup* group = batch.group;
    if (group == nullptr) {
        if (!batch.abandoned()) {
            acknowledge(batch.acks());
        }
        batch.clear();
        free_batches_.enqueue(&batch);
        return;
    }
    bool complete = false;
    {
        const std::lock_guard lock(group->mutex);
        const auto acks = batch.acks();
        group->acks.insert(group->acks.end(), acks.begin(), acks.end());
        group->abandoned = group->abandoned || batch.abandoned();
        complete = --group->pending == 0 && group->closed;
    }
    batch.clear();
    free_batches_.enqueue(&batch);
    if (complete) {
        // No batch refers to it any more: this thread owns it.
        if (!group->abandoned) {
            acknowledge(group->acks);
        }
        group->acks.clear();
        group->closed = false;
        group->abandoned = false;
        const std::lock_guard lock(groups_mutex_);
        free_groups_.push_back(group);
    }
}

void Engine::acknowledge(std::span<const PendingAck> acks) noexcept {
    // Mostly one source's, in arrival order: one call per run of the same source.
    std::size_t begin = 0;
    for (std::size_t i = 1; i <= acks.size(); ++i) {
        if (i == acks.size() || acks[i].source != acks[begin].source) {
            sources_[acks[begin].source]->acknowledge(acks.subspan(begin, i - begin));
            begin = i;
        }
    }
}

DeliveryGroup* Engine::take_group() {
    const std::lock_guard lock(groups_mutex_);
    if (free_groups_.empty()) {
        // At most one per batch in flight: allocated while the engine warms up.
        groups_.push_back(std::make_unique<DeliveryGroup>());
        return groups_.back().get();
    }
    DeliveryGroup* group = free_groups_.back();
    free_groups_.pop_back();
    return group;
}

void Engine::metrics(MetricsWriter& w) const {
    for (const auto& s : sources_) {
        const MetricsWriter::Labels labels = {{"source", s->name()}, {"kind", s->kind()}};
        w.counter("edgeflow_source_messages_total", "Messages a source handed to the engine",
                  labels, static_cast<double>(load(s->counters.received)));
        w.counter("edgeflow_source_rejected_total",
                  "Input a source could not frame as a message (sent on as dead letters)", labels,
                  static_cast<double>(load(s->counters.rejected)));
    }
    const auto queue = [&](std::string_view name, const DepthGauge& depth, double capacity) {
        w.gauge("edgeflow_queue_depth", "Messages waiting in a queue now", {{"queue", name}},
                static_cast<double>(depth.depth.load(std::memory_order_relaxed)));
        w.gauge("edgeflow_queue_high_water", "Most messages a queue has held since start",
                {{"queue", name}},
                static_cast<double>(depth.high_water.load(std::memory_order_relaxed)));
        w.gauge("edgeflow_queue_capacity", "Messages a queue holds at most", {{"queue", name}},
                capacity);
    };
    queue("ingest", ingest_counters_.depth,
          static_cast<double>(config_.runtime.ingest_queue.capacity));
    queue("egress", egress_depth_,
          static_cast<double>(engine_egress_batches(config_) * config_.runtime.batch_size));
    w.counter("edgeflow_queue_dropped_total", "Messages a full queue discarded (drop_oldest)",
              {{"queue", "ingest"}}, static_cast<double>(load(ingest_counters_.dropped)));
    w.counter("edgeflow_queue_full_waits_total", "Times a source waited for room in a full queue",
              {{"queue", "ingest"}}, static_cast<double>(load(ingest_counters_.waits)));
    w.gauge("edgeflow_batches_in_flight", "Batches between the dispatcher and the sinks", {},
            static_cast<double>(batches_in_flight_.load(std::memory_order_relaxed)));
    w.counter("edgeflow_batches_inline_total",
              "Batches the dispatch thread ran itself while the graph was idle "
              "(runtime.inline_batch)",
              {}, static_cast<double>(load(inline_batches_)));
    w.counter("edgeflow_batches_run_to_completion_total",
              "Bursts a source's thread ran through the stages and into the destinations itself "
              "while nothing else was in flight (runtime.inline_batch)",
              {}, static_cast<double>(load(completed_batches_)));
    for (std::size_t i = 0; i < stages_.size() && i < stage_labels_.size(); ++i) {
        const AnyStage& st = *stages_[i];
        const MetricsWriter::Labels labels = {{"stage", stage_labels_[i]}};
        w.counter("edgeflow_stage_in_total", "Messages a stage received", labels,
                  static_cast<double>(load(st.counters.in)));
        w.counter("edgeflow_stage_out_total", "Messages a stage passed on", labels,
                  static_cast<double>(load(st.counters.out)));
        w.counter("edgeflow_stage_errors_total", "Messages a stage rejected (dead letters)", labels,
                  static_cast<double>(load(st.counters.errors)));
        w.counter("edgeflow_stage_dropped_total", "Messages a stage discarded by policy (filters)",
                  labels, static_cast<double>(load(st.counters.dropped)));
        w.histogram("edgeflow_stage_batch_seconds", "Time a stage took per batch", labels,
                    st.batch_latency.snapshot());
    }
    for (std::size_t i = 0; i < stages_.size() && i < stage_labels_.size(); ++i) {
        stages_[i]->metrics(w, stage_labels_[i]);
    }
    w.histogram("edgeflow_end_to_end_latency_seconds",
                "Time from a message's ingest to its write by the destinations", {},
                end_to_end_.snapshot());
    for (const auto& s : sinks_) {
        const MetricsWriter::Labels labels = {{"destination", s->name()}, {"kind", s->kind()}};
        w.counter("edgeflow_destination_messages_total",
                  "Messages handed to a destination's file or broker", labels,
                  static_cast<double>(load(s->counters.written)));
        w.counter("edgeflow_destination_failed_total", "Messages a destination could not write",
                  labels, static_cast<double>(load(s->counters.failed)));
    }
    for (std::size_t r = 1; r < dead_letter_reason_count; ++r) {
        w.counter("edgeflow_dead_letters_total", "Rejected messages by reason",
                  {{"reason", to_string(static_cast<DeadLetterReason>(r))}},
                  static_cast<double>(load(dead_letters_->by_reason[r])));
    }
    w.counter("edgeflow_dead_letters_discarded_total",
              "Rejected messages discarded for want of a dead_letter destination", {},
              static_cast<double>(load(dead_letters_->discarded)));
    for (const auto& s : sources_) {
        s->metrics(w);
    }
    for (const auto& s : sinks_) {
        s->metrics(w);
    }
    // The layout: which thread runs on which CPUs.
    for (const int cpu : layout_.allowed) {
        w.gauge("edgeflow_cpu_allowed", "1 for each CPU this process may run on",
                {{"cpu", std::to_string(cpu)}}, 1);
    }
    w.gauge("edgeflow_workers", "Flow-graph worker threads", {}, static_cast<double>(workers_));
    w.gauge("edgeflow_workers_pinned", "1 when each worker is bound to one CPU", {},
            layout_.pinned ? 1 : 0);
    const std::string io = format_cpu_list(layout_.io_cpus);
    for (std::size_t i = 0; i < workers_; ++i) {
        w.gauge("edgeflow_thread_cpus", "1 for each thread and the CPUs it is bound to",
                {{"thread", "ef-worker-" + std::to_string(i)},
                 {"cpus", format_cpu_list(layout_.cpus_of_worker(i))}},
                1);
    }
    for (const char* thread : {"ef-dispatch", "ef-egress", "ef-io"}) {
        w.gauge("edgeflow_thread_cpus", "1 for each thread and the CPUs it is bound to",
                {{"thread", thread}, {"cpus", io}}, 1);
    }
    if (placement_ != nullptr) {
        w.counter("edgeflow_worker_placement_failures_total",
                  "Worker threads the kernel refused to bind to their CPUs", {},
                  static_cast<double>(placement_->failures()));
    }
}

std::string Engine::summary() const {
    const auto end = stopped_at_ > started_at_ ? stopped_at_ : std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(end - started_at_).count();
    std::string out = format_row("edgeflow summary: %.3f s, %zu worker(s), batch %zu\n", seconds,
                                 workers_, batch_size_);
    out += format_row("  %-10s %-24s %12s %12s %12s %12s\n", "", "name", "in", "out", "errors",
                      "dropped");
    std::uint64_t received = 0;
    for (const auto& s : sources_) {
        received += load(s->counters.received);
        out += format_row("  %-10s %-24s %12s %12" PRIu64 " %12" PRIu64 " %12s  %s\n", "source",
                          (s->name() + " (" + std::string(s->kind()) + ")").c_str(), "",
                          load(s->counters.received), load(s->counters.rejected), "",
                          s->state().c_str());
    }
    out += format_row("  %-10s %-24s %12s %12s %12s %12" PRIu64 "  high water %" PRId64
                      " of %" PRIu64 ", sources waited %" PRIu64 " time(s)\n",
                      "queue", "ingest", "", "", "", load(ingest_counters_.dropped),
                      ingest_counters_.depth.high_water.load(),
                      config_.runtime.ingest_queue.capacity, load(ingest_counters_.waits));
    for (std::size_t i = 0; i < stages_.size(); ++i) {
        const AnyStage* st = stages_[i].get();
        out += format_row("  %-10s %-24s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
                          "stage", stage_labels_[i].c_str(), load(st->counters.in),
                          load(st->counters.out), load(st->counters.errors),
                          load(st->counters.dropped));
        if (const std::string state = st->state(); !state.empty()) {
            out += "             " + state + "\n";
        }
    }
    for (const auto& s : sinks_) {
        const std::string label = s->name() + " (" + std::string(s->kind()) + ")";
        out += format_row("  %-10s %-24s %12s %12" PRIu64 " %12" PRIu64 " %12s  %s\n", "sink",
                          label.c_str(), "", load(s->counters.written), load(s->counters.failed),
                          "", s->state().c_str());
    }
    std::string reasons;
    for (std::size_t r = 1; r < dead_letter_reason_count; ++r) {
        const auto count = load(dead_letters_->by_reason[r]);
        if (count > 0) {
            reasons += " " + std::string(to_string(static_cast<DeadLetterReason>(r))) + "=" +
                       std::to_string(count);
        }
    }
    if (!reasons.empty()) {
        out += "  dead letters:" + reasons;
        if (load(dead_letters_->discarded) > 0) {
            out += " (" + std::to_string(load(dead_letters_->discarded)) +
                   " discarded: no dead_letter destination)";
        }
        out += "\n";
    }
    out += format_row("  throughput: %.0f messages/s\n", seconds > 0 ? received / seconds : 0.0);
    return out;
}

}  // namespace edgeflow
