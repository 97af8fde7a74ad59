// The parts of `edgeflow tune`: its options, the sweep it plans, one measured run of the
// pipeline, and the runtime block it prints and writes. Single-threaded (the command's thread);
// each measured run starts and stops an Engine of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/metrics/histogram.h"
#include "core/runtime/cpu_layout.h"

namespace edgeflow::app::tune {

extern const char* const tune_help;

struct TuneOptions {
    std::string_view config;
    std::string_view endpoints;
    std::string_view input;
    std::string_view write;
    std::string_view log_level;
    double p99_ns = 0;  ///< 0: no bound
    double seconds = 2;
    double load = 0.5;
    std::vector<std::uint64_t> workers;
    std::vector<std::uint64_t> batch_sizes{16, 64, 256};
    std::vector<IdleStrategy> idle{IdleStrategy::spin, IdleStrategy::yield, IdleStrategy::block};
    bool help = false;
};

/// One point of the sweep.
struct Setting {
    RuntimeConfig runtime;
    std::string layout;  ///< "shared" or "split"
};

struct Measured {
    Setting setting;
    double throughput = 0;  ///< messages/s at full speed
    double p50_ns = 0;
    double p99_ns = 0;
    double p999_ns = 0;
    std::uint64_t samples = 0;  ///< latency samples
    std::string error;          ///< why it could not be measured
};

/// One run of the pipeline under `runtime`: messages/s over the measured part, and the latency
/// recorded meanwhile. `rate` 0 is full speed.
struct PhaseResult {
    double throughput = 0;
    LatencyHistogram::Snapshot latency;
    std::string error;
};

std::optional<double> parse_duration_ns(std::string_view text);

std::optional<std::vector<std::uint64_t>> parse_numbers(std::string_view text, std::uint64_t min,
                                                        std::uint64_t max);

bool parse_tune_args(std::span<const std::string_view> args, TuneOptions& options);

/// The sweep, in the order it runs.
std::vector<Setting> plan_sweep(const RuntimeConfig& base, const TuneOptions& options,
                                const CpuList& allowed, const CpuTopology& topology);

std::string describe(const Setting& s);

std::string format_ns(double ns);

std::string format_duration(double seconds);

PhaseResult run_phase(const TuneOptions& options, const RuntimeConfig& runtime, double rate,
                      double seconds);

/// The runtime block for `runtime` under a comment line: the same key table parse_runtime reads
/// (core/config/runtime_config.h), so every setting round-trips.
std::string runtime_block(const RuntimeConfig& r, const std::string& comment);

}  // namespace edgeflow::app::tune
