// Counters shared between the thread that moves data and the threads that report it.
//
// Writers add per batch with relaxed atomics (no ordering needed: they are statistics); readers
// take a snapshot at any time from any thread. Nothing here allocates after construction.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace edgeflow {

/// One stage's accounting. The invariant is in == out + errors + dropped.
struct StageCounters {
    std::atomic<std::uint64_t> in{0};
    std::atomic<std::uint64_t> out{0};
    std::atomic<std::uint64_t> errors{0};   ///< sent to dead letter
    std::atomic<std::uint64_t> dropped{0};  ///< discarded by policy

    void add(std::uint64_t in_count, std::uint64_t out_count, std::uint64_t error_count,
             std::uint64_t dropped_count = 0) noexcept {
        in.fetch_add(in_count, std::memory_order_relaxed);
        out.fetch_add(out_count, std::memory_order_relaxed);
        errors.fetch_add(error_count, std::memory_order_relaxed);
        dropped.fetch_add(dropped_count, std::memory_order_relaxed);
    }
};

/// A gauge that remembers its highest value.
struct DepthGauge {
    std::atomic<std::int64_t> depth{0};
    std::atomic<std::int64_t> high_water{0};

    void add(std::int64_t delta) noexcept {
        const auto now = depth.fetch_add(delta, std::memory_order_relaxed) + delta;
        auto seen = high_water.load(std::memory_order_relaxed);
        while (now > seen &&
               !high_water.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
        }
    }
};

inline std::uint64_t load(const std::atomic<std::uint64_t>& counter) noexcept {
    return counter.load(std::memory_order_relaxed);
}

}  // namespace edgeflow

namespace edgeflow {

/// Dead letters by reason (index = DeadLetterReason), and those with nowhere to go.
/// Room for every DeadLetterReason (core/message.h checks that it is enough).
inline constexpr std::size_t max_dead_letter_reasons = 16;

struct DeadLetterCounts {
    std::atomic<std::uint64_t> by_reason[max_dead_letter_reasons]{};
    std::atomic<std::uint64_t> discarded{0};  ///< no dead_letter destination configured
};

}  // namespace edgeflow
