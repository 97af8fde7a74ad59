// MetricsWriter: builds one scrape of the Prometheus text exposition format (version 0.0.4).
//
// Callers add samples — counters, gauges and latency histograms, each with labels — in any
// order; samples of one metric name are grouped under a single # HELP and # TYPE, in the order
// names were first added, so several writers (the engine, each stage, each endpoint) can add to
// the same family. Label values are escaped. Not thread-safe: one writer per scrape. It
// allocates; build it off the hot path (a scrape), never per message.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics/histogram.h"

namespace edgeflow {

struct MetricLabel {
    std::string_view name;
    std::string_view value;
};

class MetricsWriter {
public:
    using Labels = std::initializer_list<MetricLabel>;

    /// A value that only goes up (a name ending in `_total` by convention).
    void counter(std::string_view name, std::string_view help, Labels labels, double value);
    /// A value that goes up and down.
    void gauge(std::string_view name, std::string_view help, Labels labels, double value);
    /// A latency histogram in seconds: cumulative `_bucket{le=...}` at each power of two
    /// nanoseconds, `_sum` and `_count`.
    void histogram(std::string_view name, std::string_view help, Labels labels,
                   const LatencyHistogram::Snapshot& snapshot);

    /// The scrape: every family, its samples, a trailing newline.
    std::string text() const;

private:
    struct Family {
        std::string name;
        std::string help;
        std::string_view type;
        std::string samples;
    };
    Family& family(std::string_view name, std::string_view help, std::string_view type);
    static void append_sample(std::string& out, std::string_view name, Labels labels,
                              std::string_view extra_name, std::string_view extra_value,
                              double value);

    std::vector<Family> families_;
};

}  // namespace edgeflow
