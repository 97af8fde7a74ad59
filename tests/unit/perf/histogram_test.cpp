#include "perf/harness/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace edgeflow::perf {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
    const LatencyHistogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
    EXPECT_EQ(h.percentile(100), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, BucketsAreExactBelowTheSubBucketCount) {
    for (std::uint64_t v = 0; v < LatencyHistogram::sub_buckets; ++v) {
        const auto b = LatencyHistogram::bucket_of(v);
        EXPECT_EQ(LatencyHistogram::lowest_in(b), v);
        EXPECT_EQ(LatencyHistogram::highest_in(b), v);
    }
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedRelativeWidth) {
    // Consecutive buckets touch, and every bucket is narrower than 1/128 of its lowest value.
    for (std::size_t b = 0; b + 1 < LatencyHistogram::bucket_count; ++b) {
        ASSERT_EQ(LatencyHistogram::highest_in(b) + 1, LatencyHistogram::lowest_in(b + 1)) << b;
        const auto low = LatencyHistogram::lowest_in(b);
        const auto width = LatencyHistogram::highest_in(b) - low + 1;
        if (low >= LatencyHistogram::sub_buckets) {
            ASSERT_LE(width * LatencyHistogram::sub_buckets, low) << b;
        }
        ASSERT_EQ(LatencyHistogram::bucket_of(low), b);
        ASSERT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::highest_in(b)), b);
    }
    EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::bucket_count - 1);
}

TEST(LatencyHistogram, PercentilesOfOneToAThousand) {
    LatencyHistogram h;
    for (std::uint64_t v = 1; v <= 1000; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.count(), 1000u);
    EXPECT_EQ(h.min(), 1u);
    EXPECT_EQ(h.max(), 1000u);
    EXPECT_DOUBLE_EQ(h.mean(), 500.5);
    // The 500th value is 500: its bucket [496, 499] or [500, 503] (width 4 above 512 is 8)...
    // whatever the bucket, the answer is its highest value: not below the truth, within 1/128.
    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9}) {
        const auto truth = static_cast<std::uint64_t>(std::ceil(p * 10.0));
        const auto got = h.percentile(p);
        EXPECT_GE(got, truth) << p;
        EXPECT_LE(static_cast<double>(got), static_cast<double>(truth) * (1.0 + 1.0 / 128) + 1)
            << p;
    }
    EXPECT_EQ(h.percentile(100), 1000u);
    EXPECT_EQ(h.percentile(0), 1u);
}

TEST(LatencyHistogram, PercentileIsClampedToTheLargestValue) {
    LatencyHistogram h;
    h.record(1'000'001);  // its bucket reaches above it
    EXPECT_EQ(h.percentile(50), 1'000'001u);
    EXPECT_EQ(h.percentile(99.9), 1'000'001u);
}

TEST(LatencyHistogram, TailRanks) {
    // 999 fast values and one slow one: p99.9 is the 999th value, the slow one is only p100.
    LatencyHistogram h;
    h.record_n(50, 999);
    h.record(10'000'000);
    EXPECT_EQ(h.percentile(99), 50u);
    EXPECT_EQ(h.percentile(99.9), 50u);
    EXPECT_EQ(h.percentile(99.95), 10'000'000u);
    EXPECT_EQ(h.max(), 10'000'000u);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 random(7);
    std::lognormal_distribution<double> latency(10.0, 1.5);
    LatencyHistogram all, a, b;
    for (int i = 0; i < 20000; ++i) {
        const auto v = static_cast<std::uint64_t>(latency(random));
        all.record(v);
        (i % 3 == 0 ? a : b).record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_NEAR(a.mean(), all.mean(), 1e-6 * all.mean());
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
    }
}

TEST(LatencyHistogram, ClearEmptiesIt) {
    LatencyHistogram h;
    h.record(5);
    h.clear();
    EXPECT_EQ(h.count(), 0u);
    h.record(9);
    EXPECT_EQ(h.min(), 9u);
    EXPECT_EQ(h.percentile(50), 9u);
}

}  // namespace
}  // namespace edgeflow::perf
