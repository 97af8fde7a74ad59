// LatencyHistogram: a log-linear histogram of non-negative integer values (nanoseconds here),
// in the manner of HdrHistogram: exact below 2^precision_bits, then every power-of-two range
// split into 2^precision_bits equal buckets, so a recorded value is known to within
// 1/2^precision_bits of itself (0.8 % with 7 bits) over the whole 64-bit range.
//
// percentile() returns the highest value that falls in the bucket holding the requested rank
// (clamped to the largest value recorded): a conservative answer, never below the true value.
//
// One thread records; merge() combines histograms of several threads afterwards. The counter
// array (about 60 KB) is allocated once, in the constructor; record() never allocates.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace edgeflow::perf {

class LatencyHistogram {
public:
    static constexpr unsigned precision_bits = 7;
    static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << precision_bits;
    static constexpr std::size_t bucket_count = (64 - precision_bits + 1) * sub_buckets;

    LatencyHistogram() : counts_(bucket_count, 0) {}

    /// Index of the bucket that holds `value`.
    static std::size_t bucket_of(std::uint64_t value) noexcept {
        if (value < sub_buckets) {
            return static_cast<std::size_t>(value);
        }
        const unsigned top = static_cast<unsigned>(std::bit_width(value)) - 1;  // >= bits
        const unsigned shift = top - precision_bits;
        return static_cast<std::size_t>(sub_buckets + shift * sub_buckets +
                                        ((value >> shift) - sub_buckets));
    }
    /// Smallest value that falls in bucket `index`.
    static std::uint64_t lowest_in(std::size_t index) noexcept {
        if (index < sub_buckets) {
            return index;
        }
        const std::uint64_t shift = (index - sub_buckets) / sub_buckets;
        const std::uint64_t sub = (index - sub_buckets) % sub_buckets;
        return (sub_buckets + sub) << shift;
    }
    /// Largest value that falls in bucket `index`.
    static std::uint64_t highest_in(std::size_t index) noexcept {
        if (index + 1 >= bucket_count) {
            return UINT64_MAX;
        }
        return lowest_in(index + 1) - 1;
    }

    void record(std::uint64_t value) noexcept { record_n(value, 1); }
    void record_n(std::uint64_t value, std::uint64_t n) noexcept {
        if (n == 0) {
            return;
        }
        counts_[bucket_of(value)] += n;
        if (total_ == 0 || value < min_) {
            min_ = value;
        }
        if (value > max_) {
            max_ = value;
        }
        total_ += n;
        sum_ += static_cast<double>(value) * static_cast<double>(n);
    }
    void merge(const LatencyHistogram& other) noexcept;
    void clear() noexcept;

    std::uint64_t count() const noexcept { return total_; }
    std::uint64_t min() const noexcept { return min_; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept { return total_ == 0 ? 0.0 : sum_ / static_cast<double>(total_); }
    /// The value at percentile `p` (0 to 100): the highest value of the bucket that holds the
    /// ceil(p% of count)-th smallest value, clamped to max(). 0 when empty.
    std::uint64_t percentile(double p) const noexcept;

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    double sum_ = 0.0;
};

}  // namespace edgeflow::perf
