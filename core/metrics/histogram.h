// LatencyHistogram: a fixed-bucket histogram of durations in nanoseconds, written from any
// number of threads without locks or allocation, read at any time from any thread.
//
// Buckets are log-linear: every power of two from 2^min_exponent ns up is split into
// sub_buckets equal parts, so a value's bucket is within 1/sub_buckets (12.5%) of it; values
// below the first bound share bucket 0 and values above the last share the final one. A record
// is one relaxed fetch_add on its bucket plus one on the sum. The count is the sum of the
// buckets, so a snapshot is always self-consistent in count and buckets; the sum may trail the
// buckets by the records in flight. Quantiles interpolate linearly inside a bucket.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

namespace edgeflow {

/// Steady-clock time in nanoseconds: the clock of Message::ingest_ns and of every latency.
inline std::uint64_t steady_now_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

class LatencyHistogram {
public:
    static constexpr int min_exponent = 6;   ///< first bound: 64 ns
    static constexpr int max_exponent = 37;  ///< last bound: 2^37 ns, about 137 s
    static constexpr int sub_bits = 3;
    static constexpr int sub_buckets = 1 << sub_bits;
    static constexpr std::size_t bucket_count =
        1 + static_cast<std::size_t>(max_exponent - min_exponent) * sub_buckets + 1;

    /// Bucket of a value: 0 below 2^min_exponent, the last at or above 2^max_exponent.
    static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
        if (ns < (std::uint64_t{1} << min_exponent)) {
            return 0;
        }
        if (ns >= (std::uint64_t{1} << max_exponent)) {
            return bucket_count - 1;
        }
        const int exponent = std::bit_width(ns) - 1;  // 2^exponent <= ns
        const auto sub =
            static_cast<std::size_t>((ns >> (exponent - sub_bits)) & (sub_buckets - 1));
        return 1 + static_cast<std::size_t>(exponent - min_exponent) * sub_buckets + sub;
    }

    /// Lowest value of bucket `i` (inclusive), in ns.
    static constexpr std::uint64_t lower_bound(std::size_t i) noexcept {
        if (i == 0) {
            return 0;
        }
        const std::size_t k = i - 1;
        const int exponent = min_exponent + static_cast<int>(k / sub_buckets);
        const std::uint64_t base = std::uint64_t{1} << exponent;
        return base + (base >> sub_bits) * (k % sub_buckets);
    }
    /// Highest value of bucket `i` (exclusive), in ns.
    static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
        return i + 1 < bucket_count ? lower_bound(i + 1) : std::uint64_t{1} << (max_exponent + 1);
    }

    void record(std::uint64_t ns) noexcept {
        buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
        sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    }
    /// Counts one value into its bucket only; add the sum with add_sum() (once per batch).
    void record_bucket(std::uint64_t ns) noexcept {
        buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    }
    void add_sum(std::uint64_t ns) noexcept { sum_ns_.fetch_add(ns, std::memory_order_relaxed); }

    /// A copy to read from: counts per bucket and the sum.
    struct Snapshot {
        std::array<std::uint64_t, bucket_count> buckets{};
        std::uint64_t sum_ns = 0;
        std::uint64_t count = 0;

        /// The value below which a fraction `q` (0..1) of the recorded values lie; 0 if empty.
        double quantile_ns(double q) const noexcept;
        /// Adds another snapshot's counts (for a histogram over several runs or stages).
        void merge(const Snapshot& other) noexcept;
    };
    Snapshot snapshot() const noexcept;
    /// Subtracts `earlier` from this snapshot: what was recorded between the two.
    static Snapshot difference(const Snapshot& later, const Snapshot& earlier) noexcept;

private:
    std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
    std::atomic<std::uint64_t> sum_ns_{0};
};

inline LatencyHistogram::Snapshot LatencyHistogram::snapshot() const noexcept {
    Snapshot s;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
        s.count += s.buckets[i];
    }
    s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
    return s;
}

inline LatencyHistogram::Snapshot LatencyHistogram::difference(const Snapshot& later,
                                                               const Snapshot& earlier) noexcept {
    Snapshot d;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        d.buckets[i] = later.buckets[i] - earlier.buckets[i];
        d.count += d.buckets[i];
    }
    d.sum_ns = later.sum_ns - earlier.sum_ns;
    return d;
}

inline void LatencyHistogram::Snapshot::merge(const Snapshot& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) {
        buckets[i] += other.buckets[i];
    }
    count += other.count;
    sum_ns += other.sum_ns;
}

inline double LatencyHistogram::Snapshot::quantile_ns(double q) const noexcept {
    if (count == 0) {
        return 0;
    }
    const double rank = q * static_cast<double>(count);
    std::uint64_t below = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (buckets[i] == 0) {
            continue;
        }
        if (static_cast<double>(below + buckets[i]) >= rank) {
            const double into =
                (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
            const auto lo = static_cast<double>(lower_bound(i));
            const auto hi = static_cast<double>(upper_bound(i));
            return lo + (hi - lo) * into;
        }
        below += buckets[i];
    }
    return static_cast<double>(upper_bound(bucket_count - 1));
}

}  // namespace edgeflow
