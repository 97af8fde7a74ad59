#include "core/runtime/engine.h"

#include <pthread.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "core/log.h"

namespace edgeflow {
namespace {

constexpr std::int64_t idle_wait_us = 20'000;  // how long idle threads sleep between checks
// How often an idle engine sends an empty batch through the stateful stages, so their timers
// fire: the resolution of `stale` and of windows closing on processing time.
constexpr auto tick_interval = std::chrono::milliseconds(100);

std::size_t egress_batches(const PipelineConfig& config) {
    const auto batch = config.runtime.batch_size;
    return std::max<std::size_t>(1, (config.runtime.egress_queue.capacity + batch - 1) / batch);
}

std::size_t total_batches(const PipelineConfig& config) {
    return config.effective_in_flight_batches() + egress_batches(config);
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
      has_sharded_stages_(std::any_of(stages_.begin(), stages_.end(), [](const auto& stage) {
          return stage->shape() == StageShape::sharded;
      })) {}

Engine::~Engine() {
    if (started_) {
        static_cast<void>(stop());
    }
}

Status Engine::start() {
    const std::size_t batches = total_batches(config_);
    // Every message is in exactly one place: the ingest queue, a batch, or a source's hands.
    const std::size_t pool_size =
        config_.runtime.ingest_queue.capacity + batches * batch_size_ + sources_.size() + 1;
    messages_ = std::make_unique<MessagePool>(pool_size, config_.destinations.size());
    batch_storage_.reserve(batches);
    for (std::size_t i = 0; i < batches; ++i) {
        batch_storage_.push_back(std::make_unique<Batch>(batch_size_, config_.destinations.size(),
                                                         config_.effective_shards(),
                                                         config_.runtime.max_emitted_per_batch));
        free_batches_.enqueue(batch_storage_.back().get());
    }

    for (auto& sink : sinks_) {
        if (auto status = sink->start(signals_); !status) {
            for (auto& s : sinks_) {
                static_cast<void>(s->close());
            }
            return Status::error("destination '" + sink->name() + "': " + status.message());
        }
    }

    // oneTBB caps its worker pool at the machine's concurrency unless told otherwise; the
    // arena gets exactly `workers` threads plus one slot for the dispatcher to submit from.
    parallelism_ = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, workers_ + 1);
    arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(workers_ + 1), 1);
    arena_->execute([&] {
        graph_ = std::make_unique<FlowGraph>(stages_, workers_ + 1, config_.effective_shards(),
                                             [this](Batch* batch) { on_graph_done(batch); });
    });

    started_at_ = std::chrono::steady_clock::now();
    started_ = true;
    dispatcher_ = std::thread([this] { dispatch_loop(); });
    name_thread(dispatcher_, "ef-dispatch");
    egress_thread_ = std::thread([this] { egress_loop(); });
    name_thread(egress_thread_, "ef-egress");

    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (auto status = sources_[i]->start(*this); !status) {
            for (std::size_t j = 0; j < i; ++j) {
                sources_[j]->stop();
            }
            static_cast<void>(stop());
            return Status::error("source '" + sources_[i]->name() + "': " + status.message());
        }
    }
    log_info("engine",
             "pipeline '" + config_.name + "' started: " + std::to_string(sources_.size()) +
                 " source(s), " + std::to_string(stages_.size()) + " stage(s), " +
                 std::to_string(sinks_.size()) + " destination(s), " + std::to_string(workers_) +
                 " worker(s), batch " + std::to_string(batch_size_));
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
    for (auto& source : sources_) {
        source->stop();
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
    messages_->put_from_any_thread(message);
    ingest_space_.signal(1);
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
        const std::size_t n =
            ingest_.wait_dequeue_bulk_timed(token, batch->data(), batch->capacity(), idle_wait_us);
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
        ingest_space_.signal(static_cast<ssize_t>(n));
        ingest_counters_.depth.add(-static_cast<std::int64_t>(n));
        batch->set_size(n);
        batch->sequence = next_sequence_++;
        batches_in_flight_.fetch_add(1, std::memory_order_relaxed);
        graph_->put(batch);
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
    const bool queued = egress_.try_enqueue(egress_token_, batch);
    EDGEFLOW_ASSERT(queued);
    if (!queued) {
        egress_.enqueue(egress_token_, batch);
    }
}

void Engine::egress_loop() {
    Batch* batch = nullptr;
    while (true) {
        if (!egress_.wait_dequeue_timed(batch, idle_wait_us)) {
            if (dispatch_done_.load(std::memory_order_acquire) &&
                batches_in_flight_.load(std::memory_order_acquire) == 0) {
                break;
            }
            continue;
        }
        for (auto& sink : sinks_) {
            sink->write(*batch);
        }
        for (Message* message : *batch) {
            if (!message->emitted) {  // emitted messages belong to the batch
                messages_->put(message);
            }
        }
        batch->clear();
        free_batches_.enqueue(batch);
        batches_in_flight_.fetch_sub(1, std::memory_order_release);
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
    for (const auto& st : stages_) {
        out += format_row("  %-10s %-24s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
                          "stage", std::string(st->kind()).c_str(), load(st->counters.in),
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
