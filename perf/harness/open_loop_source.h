// OpenLoopSource: a memory source that releases the reference workload on an open-loop
// schedule, for in-process runs of the engine.
//
// Messages are rendered once, at construction, into a ring of `ring_size` (FactoryWorkload::
// render); when message i falls due (OpenLoopSchedule) the thread copies entry i % ring_size
// into a pooled message and writes i's own timestamp over the entry's, so event time still
// advances 1 ms per message and the stateful stages see no late data. The limit loops read
// pre-rendered messages too: rendering each message on the fly cost about 1 µs of the two
// cores the engine is measured on, more than a tenth of its budget at peak. The `seq` and
// `sent` fields repeat with the ring; in-process latency comes from Message::ingest_ns.
//
// Each message's Message::ingest_ns is its *scheduled* time, not the time it got there: when
// the engine holds the source back (ingest queue full) or the thread wakes late, that delay
// counts in every latency measured from ingest_ns. Between due times the thread sleeps (timer
// slack 1 ns), at least `quantum` at a time: at high rates it wakes once per quantum and sends
// what fell due meanwhile back to back (each message keeps its own scheduled time, so the wait
// counts), instead of paying a wake-up per message. How late each message was submitted is
// recorded separately (lag()), so the source's own share can be told apart. Finite: exhausted
// once `count` messages are submitted.
//
// Threads: start() and stop() from the controlling thread; lag() and cpu_ns() after stop().
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/endpoint.h"
#include "perf/harness/histogram.h"
#include "perf/harness/schedule.h"
#include "perf/harness/workload.h"

namespace edgeflow::perf {

std::uint64_t steady_now_ns() noexcept;

class OpenLoopSource final : public Source {
public:
    /// `rate` messages/s (0: as fast as the engine takes them), `count` messages in all, the
    /// first due `lead_ns` after start().
    OpenLoopSource(std::string name, const FactoryWorkload& workload, double rate,
                   std::uint64_t count, std::uint64_t lead_ns = 20'000'000,
                   std::size_t ring_size = 16384);
    ~OpenLoopSource() override;

    std::string_view kind() const noexcept override { return "open_loop"; }
    Status start(IngestPort& port) override;
    void stop() noexcept override;
    bool finite() const noexcept override { return true; }
    bool exhausted() const noexcept override { return done_.load(std::memory_order_acquire); }

    /// Shortest sleep between releases (default 20 µs). Before start().
    void set_quantum(std::uint64_t ns) noexcept { quantum_ns_ = ns; }
    /// Stops releasing `ns` after the first message was due, even short of `count` (for runs
    /// at an unlimited rate). Before start().
    void set_duration(std::uint64_t ns) noexcept { duration_ns_ = ns; }

    const OpenLoopSchedule& schedule() const noexcept { return schedule_; }
    /// Submission time minus scheduled time, per message.
    const LatencyHistogram& lag() const noexcept { return lag_; }
    /// CPU time the source's thread used (copying messages out of the ring, handing them in).
    std::uint64_t cpu_ns() const noexcept { return cpu_ns_; }

private:
    void run(IngestPort& port);

    /// One pre-rendered message; `timestamp` is where its 13 timestamp digits start (npos: none).
    struct Rendered {
        std::string topic;
        std::string payload;
        std::size_t timestamp = std::string::npos;
    };
    std::vector<Rendered> ring_;
    double rate_;
    std::uint64_t count_;
    std::uint64_t lead_ns_;
    std::uint64_t duration_ns_ = 0;
    std::uint64_t quantum_ns_ = 20'000;
    OpenLoopSchedule schedule_{0, 0};
    LatencyHistogram lag_;
    std::uint64_t cpu_ns_ = 0;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> done_{false};
};

/// A destination that records each message's latency, now minus Message::ingest_ns, when the
/// engine's egress thread hands it the batch. Messages scheduled before `record_from_ns` are
/// counted but not recorded (warm-up).
class LatencySink final : public Sink {
public:
    LatencySink(std::string name, std::size_t index, bool dead_letter);

    std::string_view kind() const noexcept override { return "latency"; }
    Status start(const EngineSignals&) override { return Status::ok(); }
    void write(const Batch& batch) noexcept override;
    Status close() override { return Status::ok(); }

    void record_from(std::uint64_t ns) noexcept { record_from_ns_ = ns; }
    bool is_dead_letter() const noexcept { return dead_letter(); }
    std::size_t index_in_pipeline() const noexcept { return index(); }
    const LatencyHistogram& latency() const noexcept { return latency_; }
    std::uint64_t received() const noexcept { return received_.load(std::memory_order_acquire); }
    std::uint64_t last_arrival_ns() const noexcept { return last_ns_; }

private:
    LatencyHistogram latency_;
    std::uint64_t record_from_ns_ = 0;
    std::uint64_t last_ns_ = 0;
    std::atomic<std::uint64_t> received_{0};
};

}  // namespace edgeflow::perf
