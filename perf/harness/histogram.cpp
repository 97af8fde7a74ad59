#include "perf/harness/histogram.h"

#include <algorithm>
#include <cmath>

namespace edgeflow::perf {

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    if (other.total_ == 0) {
        return;
    }
    for (std::size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += other.counts_[i];
    }
    min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    total_ += other.total_;
    sum_ += other.sum_;
}

void LatencyHistogram::clear() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    min_ = 0;
    max_ = 0;
    sum_ = 0.0;
}

std::uint64_t LatencyHistogram::percentile(double p) const noexcept {
    if (total_ == 0) {
        return 0;
    }
    p = std::clamp(p, 0.0, 100.0);
    // The rank of the value asked for, 1-based: p = 0 asks for the smallest.
    // p = 99.9 is not exact in binary: 99.9% of 1000 computes as 999.0000000000001, whose
    // ceiling would skip a rank. A relative tolerance far below one rank absorbs that.
    const double exact = p / 100.0 * static_cast<double>(total_);
    auto rank = static_cast<std::uint64_t>(std::ceil(exact - 1e-9 * std::max(exact, 1.0)));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return std::clamp(highest_in(i), min_, max_);
        }
    }
    return max_;
}

}  // namespace edgeflow::perf
