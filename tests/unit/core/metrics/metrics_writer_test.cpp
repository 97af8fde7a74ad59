// The Prometheus text a scrape produces, and the latency histogram behind it.
#include "core/metrics/metrics_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/metrics/histogram.h"

namespace edgeflow {
namespace {

using testing::HasSubstr;

TEST(MetricsWriter, GroupsSamplesOfOneNameUnderOneHeader) {
    MetricsWriter w;
    w.counter("edgeflow_stage_in_total", "Messages in", {{"stage", "parse"}}, 10);
    w.gauge("edgeflow_workers", "Workers", {}, 2);
    w.counter("edgeflow_stage_in_total", "Messages in", {{"stage", "route"}}, 7);
    EXPECT_EQ(w.text(),
              "# HELP edgeflow_stage_in_total Messages in\n"
              "# TYPE edgeflow_stage_in_total counter\n"
              "edgeflow_stage_in_total{stage=\"parse\"} 10\n"
              "edgeflow_stage_in_total{stage=\"route\"} 7\n"
              "# HELP edgeflow_workers Workers\n"
              "# TYPE edgeflow_workers gauge\n"
              "edgeflow_workers 2\n");
}

TEST(MetricsWriter, EscapesLabelValues) {
    MetricsWriter w;
    w.gauge("g", "help with \\ and\nnewline", {{"a", "quote\" back\\ nl\n"}, {"b", "x"}}, 0.5);
    EXPECT_THAT(w.text(), HasSubstr("# HELP g help with \\\\ and\\nnewline\n"));
    EXPECT_THAT(w.text(), HasSubstr("g{a=\"quote\\\" back\\\\ nl\\n\",b=\"x\"} 0.5\n"));
}

TEST(MetricsWriter, HistogramBucketsAreCumulativeInSeconds) {
    LatencyHistogram h;
    h.record(100);        // below 128 ns
    h.record(1000);       // ~1 us
    h.record(3'000'000);  // 3 ms
    MetricsWriter w;
    w.histogram("lat_seconds", "Latency", {{"stage", "parse"}}, h.snapshot());
    const std::string text = w.text();
    EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{stage=\"parse\",le=\"1.28e-07\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{stage=\"parse\",le=\"1.024e-06\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{stage=\"parse\",le=\"0.004194304\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{stage=\"parse\",le=\"+Inf\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_sum{stage=\"parse\"} 0.0030011\n"));
    EXPECT_THAT(text, HasSubstr("lat_seconds_count{stage=\"parse\"} 3\n"));
}

TEST(LatencyHistogram, BucketsCoverTheRangeInOrder) {
    EXPECT_EQ(LatencyHistogram::bucket_of(0), 0u);
    EXPECT_EQ(LatencyHistogram::bucket_of(63), 0u);
    EXPECT_EQ(LatencyHistogram::bucket_of(64), 1u);
    EXPECT_EQ(LatencyHistogram::bucket_of(~std::uint64_t{0}), LatencyHistogram::bucket_count - 1);
    for (std::size_t i = 1; i + 1 < LatencyHistogram::bucket_count; ++i) {
        const auto lo = LatencyHistogram::lower_bound(i);
        EXPECT_EQ(LatencyHistogram::bucket_of(lo), i);
        EXPECT_EQ(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound(i) - 1), i);
        EXPECT_LT(lo, LatencyHistogram::upper_bound(i));
    }
}

TEST(LatencyHistogram, QuantilesAreWithinABucket) {
    LatencyHistogram h;
    for (std::uint64_t ns = 1; ns <= 100'000; ++ns) {
        h.record(ns * 10);  // uniform from 10 ns to 1 ms
    }
    const auto s = h.snapshot();
    EXPECT_EQ(s.count, 100'000u);
    EXPECT_NEAR(s.quantile_ns(0.5), 500'000, 500'000 * 0.125);
    EXPECT_NEAR(s.quantile_ns(0.99), 990'000, 990'000 * 0.125);
    const auto later = h.snapshot();
    EXPECT_EQ(LatencyHistogram::difference(later, s).count, 0u);
    EXPECT_EQ(LatencyHistogram::Snapshot{}.quantile_ns(0.99), 0);
}

}  // namespace
}  // namespace edgeflow
