#include "apps/edgeflow/align.h"

#include <algorithm>
#include <optional>

#include "apps/edgeflow/json_diff.h"

namespace edgeflow::app::diff {
namespace {

/// Myers' O((N+M)D) diff of expected[a0, a0+n) against received[b0, b0+m): the shortest edit
/// script as steps, or nullopt when it needs more than max_alignment_edits edits.
std::optional<std::vector<Step>> shortest_edits(const std::vector<ComparedMessage>& expected,
                                                std::size_t a0, long n,
                                                const std::vector<ComparedMessage>& received,
                                                std::size_t b0, long m) {
    const auto equal = [&](long x, long y) {
        return expected[a0 + static_cast<std::size_t>(x)].same_as(
            received[b0 + static_cast<std::size_t>(y)]);
    };
    const long limit = std::min(n + m, max_alignment_edits);
    const long offset = limit + 1;
    std::vector<long> v(static_cast<std::size_t>(2 * limit + 3), 0);
    const auto at = [&](std::vector<long>& row, long k) -> long& {
        return row[static_cast<std::size_t>(offset + k)];
    };
    std::vector<std::vector<long>> trace;
    long found = -1;
    for (long d = 0; d <= limit && found < 0; ++d) {
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && at(v, k - 1) < at(v, k + 1))) ? at(v, k + 1)
                                                                          : at(v, k - 1) + 1;
            long y = x - k;
            while (x < n && y < m && equal(x, y)) {
                ++x;
                ++y;
            }
            at(v, k) = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
        trace.push_back(v);
    }
    if (found < 0) {
        return std::nullopt;
    }
    std::vector<Step> steps;
    long x = n;
    long y = m;
    for (long d = found; d > 0; --d) {
        auto& row = trace[static_cast<std::size_t>(d - 1)];
        const long k = x - y;
        const long prev_k =
            (k == -d || (k != d && at(row, k - 1) < at(row, k + 1))) ? k + 1 : k - 1;
        const long prev_x = at(row, prev_k);
        const long prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) {
            steps.push_back(Step::same);
            --x;
            --y;
        }
        steps.push_back(prev_k == k + 1 ? Step::unexpected : Step::missing);
        x = prev_x;
        y = prev_y;
    }
    while (x > 0 && y > 0) {
        steps.push_back(Step::same);
        --x;
        --y;
    }
    std::reverse(steps.begin(), steps.end());
    return steps;
}

}  // namespace

/// How the received stream lines up with the expected one.
std::vector<Step> align(const std::vector<ComparedMessage>& expected,
                        const std::vector<ComparedMessage>& received) {
    std::size_t prefix = 0;
    while (prefix < expected.size() && prefix < received.size() &&
           expected[prefix].same_as(received[prefix])) {
        ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix < expected.size() - prefix && suffix < received.size() - prefix &&
           expected[expected.size() - 1 - suffix].same_as(received[received.size() - 1 - suffix])) {
        ++suffix;
    }
    const std::size_t n = expected.size() - prefix - suffix;
    const std::size_t m = received.size() - prefix - suffix;
    std::vector<Step> steps(prefix, Step::same);
    auto middle = shortest_edits(expected, prefix, static_cast<long>(n), received, prefix,
                                 static_cast<long>(m));
    if (middle) {
        steps.insert(steps.end(), middle->begin(), middle->end());
    } else {
        for (std::size_t i = 0; i < std::min(n, m); ++i) {
            if (expected[prefix + i].same_as(received[prefix + i])) {
                steps.push_back(Step::same);
            } else {
                steps.push_back(Step::missing);
                steps.push_back(Step::unexpected);
            }
        }
        steps.insert(steps.end(), n - std::min(n, m), Step::missing);
        steps.insert(steps.end(), m - std::min(n, m), Step::unexpected);
    }
    steps.insert(steps.end(), suffix, Step::same);
    return steps;
}

}  // namespace edgeflow::app::diff
