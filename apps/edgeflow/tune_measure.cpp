// edgeflow tune: one measured run of the pipeline under a runtime setting.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/pipeline_loader.h"
#include "apps/edgeflow/tune.h"
#include "core/log.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/engine.h"
#include "core/runtime/scheduler_guard.h"
#include "io/file/file_sink.h"
#include "io/file/file_source.h"

namespace edgeflow::app::tune {

PhaseResult run_phase(const TuneOptions& options, const RuntimeConfig& runtime, double rate,
                      double seconds) {
    PhaseResult result;
    const std::string path(options.config);
    ConfigErrors errors(path);
    auto loaded = load_pipeline(path, errors, options.endpoints, &runtime);
    if (!loaded) {
        result.error = errors.to_string();
        return result;
    }
    const PipelineConfig& config = loaded->config;
    FileSourceConfig replay;
    replay.path = std::string(options.input);
    replay.loop = true;
    replay.rate = rate;
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::make_unique<FileSource>(
        config.sources.front().name, 0, std::move(replay), config.runtime.max_payload_bytes));
    std::vector<std::unique_ptr<Sink>> sinks;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        sinks.push_back(std::make_unique<NullSink>(config.destinations[i].name, i,
                                                   config.destinations[i].dead_letter));
    }
    Engine engine(config, std::move(loaded->stages), std::move(sources), std::move(sinks),
                  loaded->dead_letters);
    if (auto status = engine.start(); !status) {
        result.error = status.message();
        return result;
    }
    // The first fifth warms caches, pools and the queues up; the rest is measured.
    const auto warm = std::chrono::duration<double>(seconds * 0.2);
    std::this_thread::sleep_for(warm);
    const Source& source = *engine.sources().front();
    const std::uint64_t received_before = load(source.counters.received);
    const auto latency_before = engine.end_to_end_latency();
    const auto measured_from = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds * 0.8));
    const std::uint64_t received = load(source.counters.received) - received_before;
    const auto latency_after = engine.end_to_end_latency();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_from).count();
    const std::string state = source.state();
    if (auto status = engine.stop(); !status) {
        result.error = status.message();
        return result;
    }
    if (received == 0) {
        result.error = "no messages went through (source: " + state + ")";
        return result;
    }
    result.throughput = static_cast<double>(received) / elapsed;
    result.latency = LatencyHistogram::difference(latency_after, latency_before);
    return result;
}

/// The runtime block for `runtime` under a comment line: the same key table parse_runtime reads
/// (core/config/runtime_config.h), so every setting round-trips.
std::string runtime_block(const RuntimeConfig& r, const std::string& comment) {
    return "# " + comment + "\n" + write_runtime_yaml(r);
}

}  // namespace edgeflow::app::tune
