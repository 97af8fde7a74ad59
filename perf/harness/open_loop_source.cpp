#include "perf/harness/open_loop_source.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "io/envelope.h"

namespace edgeflow::perf {

std::uint64_t steady_now_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

namespace {

void sleep_until_ns(std::uint64_t at) noexcept {
    // steady_clock is CLOCK_MONOTONIC on Linux.
    timespec ts{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

std::uint64_t thread_cpu_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000 +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// Writes `value` as exactly `width` decimal digits (leading zeros if it is shorter).
void write_digits(char* at, int width, std::uint64_t value) noexcept {
    for (int d = width - 1; d >= 0; --d) {
        at[d] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

OpenLoopSource::OpenLoopSource(std::string name, const FactoryWorkload& workload, double rate,
                               std::uint64_t count, std::uint64_t lead_ns, std::size_t ring_size)
    : Source(std::move(name)), rate_(rate), count_(count), lead_ns_(lead_ns) {
    constexpr std::string_view key = "\"timestamp\":";
    ring_.resize(std::max<std::size_t>(1, std::min<std::uint64_t>(ring_size, count)));
    for (std::size_t k = 0; k < ring_.size(); ++k) {
        Rendered& r = ring_[k];
        workload.render(k, 0, r.topic, r.payload);
        const std::size_t at = r.payload.find(key);
        if (at != std::string::npos) {
            r.timestamp = at + key.size();
        }
    }
}

OpenLoopSource::~OpenLoopSource() {
    stop();
}

Status OpenLoopSource::start(IngestPort& port) {
    schedule_ = OpenLoopSchedule(rate_, steady_now_ns() + lead_ns_);
    thread_ = std::thread([this, &port] { run(port); });
    pthread_setname_np(thread_.native_handle(), "ef-open-loop");
    return Status::ok();
}

void OpenLoopSource::stop() noexcept {
    stopping_.store(true, std::memory_order_release);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void OpenLoopSource::run(IngestPort& port) {
    // Wake-ups as close to the due time as the kernel can make them.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    const std::uint64_t cpu_start = thread_cpu_ns();
    std::uint64_t i = 0;
    while (i < count_ && !stopping_.load(std::memory_order_acquire)) {
        const std::uint64_t now = steady_now_ns();
        const std::uint64_t due = schedule_.due_by(now, count_);
        if (due == i) {
            sleep_until_ns(std::max(schedule_.due_at(i), now + quantum_ns_));
            continue;
        }
        for (; i < due; ++i) {
            Message* message = port.acquire();
            if (message == nullptr) {
                stopping_.store(true, std::memory_order_release);  // the engine is aborting
                break;
            }
            const std::uint64_t scheduled = schedule_.due_at(i);
            const Rendered& r = ring_[i % ring_.size()];
            message->source = 0;
            message->ingest_ns = scheduled;
            message->qos = 1;
            message->topic.assign(r.topic);
            assign_padded(message->payload, r.payload);
            if (r.timestamp != std::string::npos) {
                // Message i's own event time, FactoryWorkload::epoch_ms + i: 13 digits, as the
                // entry's (until the year 2224).
                write_digits(message->payload.data() + r.timestamp, 13,
                             FactoryWorkload::epoch_ms + i);
            }
            port.submit(message);
            counters.received.fetch_add(1, std::memory_order_relaxed);
            const std::uint64_t at = steady_now_ns();
            lag_.record(at > scheduled ? at - scheduled : 0);
            if (duration_ns_ != 0 && at - schedule_.start_ns() > duration_ns_ &&
                at > schedule_.start_ns()) {
                stopping_.store(true, std::memory_order_release);
                break;
            }
        }
    }
    cpu_ns_ = thread_cpu_ns() - cpu_start;
    done_.store(true, std::memory_order_release);
}

LatencySink::LatencySink(std::string name, std::size_t index, bool dead_letter)
    : Sink(std::move(name), index, dead_letter) {}

void LatencySink::write(const Batch& batch) noexcept {
    const std::uint64_t now = steady_now_ns();
    std::uint64_t n = 0;
    for (const Message* message : batch) {
        if (!wants(*message)) {
            continue;
        }
        ++n;
        if (message->ingest_ns >= record_from_ns_) {
            latency_.record(now > message->ingest_ns ? now - message->ingest_ns : 0);
        }
    }
    if (n > 0) {
        last_ns_ = now;
        counters.written.fetch_add(n, std::memory_order_relaxed);
        received_.fetch_add(n, std::memory_order_release);
    }
}

}  // namespace edgeflow::perf
