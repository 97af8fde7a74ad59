#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>

#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/http_endpoint.h"
#include "apps/edgeflow/pipeline_loader.h"
#include "core/log.h"
#include "core/runtime/engine.h"
#include "core/runtime/readiness.h"
#include "core/runtime/scheduler_guard.h"
#include "core/runtime/thread_placement.h"

namespace edgeflow::app {

namespace {
constexpr const char* run_help =
    R"(Usage: edgeflow run -c PIPELINE.yaml [--endpoints FILE] [--log-level LEVEL]

Runs a pipeline. Reference datasets kept on MQTT are loaded first, then the state of lkv
stages persisted as retained snapshots is read back, and only then does ingest start. Stops on
SIGINT or SIGTERM: ingest stops, everything in flight is delivered
to the destinations, the stage summary is printed, and the exit code is 0. When every source
is finite (files without `loop`) it stops by itself once they are exhausted.

Threads are placed as the runtime block says (workers, cpus, io_cpus, pin; a CPU this process
may not run on is a start-up error) and the layout is logged at start. While it runs, HTTP on
runtime.http.listen (default 127.0.0.1:9464, `off` to disable) serves /metrics (Prometheus
text), /healthz and /readyz (200 once the engine runs and every MQTT source is connected and
subscribed, every MQTT destination connected, every MQTT dataset loaded; 503 before). See
docs/operations.md.

Options:
  -c, --config FILE     the pipeline file, or an Azure IoT Operations Dataflow resource (see
                        `edgeflow check` and docs/dataflow-resources.md)
  --endpoints FILE      endpoint and dataset documents for a Dataflow's references
  --log-level LEVEL     debug, info, warn, error or off (default: runtime.log_level, else
                        info); logs are JSON lines on stderr
  -h, --help            this help

Exit codes: 0 stopped cleanly, 1 configuration or start-up error (a disabled Dataflow
included), or a destination that failed to flush, 2 bad arguments.
)";

bool writes_stdout(const PipelineConfig& config) {
    for (const auto& d : config.destinations) {
        const ConfigNode* path = d.node.find("path");
        if (d.kind == "file" && path != nullptr && path->scalar == "-") {
            return true;
        }
    }
    return false;
}

}  // namespace

int run_command(std::span<const std::string_view> args) {
    const auto parsed = parse_common(args, "run", run_help);
    if (parsed.exit_code) {
        return *parsed.exit_code;
    }
    const CommonOptions& options = parsed.options;
    if (!options.log_level.empty()) {
        auto level = parse_log_level(options.log_level);
        if (!level) {
            std::fprintf(stderr,
                         "edgeflow run: --log-level must be debug, info, warn, error or off\n");
            return 2;
        }
        set_log_level(*level);
    }

    // Block the stop signals before any thread starts, so every thread inherits the mask and
    // only this thread receives them (through sigtimedwait below).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // Destroyed last: waits for the engine's worker threads to end.
    const SchedulerGuard scheduler;
    // Outlives everything that sets its conditions (the loaded pipeline included).
    Readiness readiness;
    const std::string path(options.config);
    ConfigErrors errors(path);
    auto loaded = load_pipeline(path, errors, options.endpoints);
    if (!loaded) {
        print_load_errors(path, errors);
        return 1;
    }
    if (!loaded->disabled.empty()) {
        std::fprintf(stderr, "%s\n", loaded->disabled.c_str());
        return 1;
    }
    const PipelineConfig& config = loaded->config;
    if (options.log_level.empty() && !config.runtime.log_level.empty()) {
        set_log_level(parse_log_level(config.runtime.log_level).value_or(LogLevel::info));
    }
    std::FILE* summary_out = writes_stdout(config) ? stderr : stdout;
    // The layout is planned again by the engine; planned here first so that a CPU outside the
    // allowed set fails before anything connects.
    auto layout = plan_cpu_layout(config.runtime);
    if (!layout) {
        log_error("engine", "cannot start: " + layout.error());
        return 1;
    }

    ReadinessCondition* running = readiness.add("engine/running");
    for (auto& feed : loaded->dataset_feeds) {
        feed->add_readiness(readiness);
    }
    for (auto& stage : loaded->stages) {
        stage->add_readiness(readiness);
    }
    for (auto& source : loaded->sources) {
        source->add_readiness(readiness);
    }
    for (auto& sink : loaded->sinks) {
        sink->add_readiness(readiness);
    }
    HttpEndpoint http(readiness);
    if (config.runtime.http.enabled) {
        if (auto status = http.start(config.runtime.http, layout->io_cpus); !status) {
            if (config.runtime.http.explicit_listen) {
                log_error("engine", "cannot start: " + status.message());
                return 1;
            }
            // The default address: another edgeflow on this host may hold it. Run without.
            log_warn("http", status.message() + "; running without the HTTP endpoint");
        }
    }
    // Reference data first: messages must not meet a dataset that has not arrived yet.
    for (auto& feed : loaded->dataset_feeds) {
        const Status started = run_on_cpus(layout->io_cpus, "ef-io", [&] { return feed->start(); });
        if (!started) {
            log_error("dataset",
                      "cannot start dataset '" + feed->name() + "': " + started.message());
            return 1;
        }
    }
    // Then the state kept on the broker: no message may meet a store not yet read back.
    std::vector<ReadinessCondition*> hydrated;
    for (auto& loader : loaded->snapshot_loaders) {
        hydrated.push_back(readiness.add("lkv/" + loader->name() + "/hydrated"));
    }
    for (std::size_t i = 0; i < loaded->snapshot_loaders.size(); ++i) {
        auto& loader = loaded->snapshot_loaders[i];
        // Its connection thread inherits the I/O CPUs from the thread that starts it.
        if (auto status = run_on_cpus(layout->io_cpus, "ef-io", [&] { return loader->load(); });
            !status) {
            log_error("lkv", "cannot read back lkv '" + loader->name() + "': " + status.message());
            return 1;
        }
        log_info("lkv", "lkv '" + loader->name() + "': " + std::to_string(loader->loaded()) +
                            " key(s) read back from retained snapshots" +
                            (loader->rejected() > 0
                                 ? ", " + std::to_string(loader->rejected()) + " not loaded"
                                 : std::string()));
        hydrated[i]->set(true);
    }
    Engine engine(config, std::move(loaded->stages), std::move(loaded->sources),
                  std::move(loaded->sinks), loaded->dead_letters);
    if (auto status = engine.start(); !status) {
        log_error("engine", "cannot start: " + status.message());
        return 1;
    }
    http.attach(&engine);
    running->set(true);

    const timespec poll{0, 50'000'000};
    std::string stop_reason = "sources exhausted";
    while (true) {
        const int signal = sigtimedwait(&stop_signals, nullptr, &poll);
        if (signal == SIGINT || signal == SIGTERM) {
            stop_reason = signal == SIGINT ? "SIGINT" : "SIGTERM";
            break;
        }
        if (engine.sources_exhausted()) {
            break;
        }
    }
    log_info("engine", "stopping (" + stop_reason + "): draining in-flight messages");
    running->set(false);
    const Status stopped = engine.stop();
    for (auto& feed : loaded->dataset_feeds) {
        feed->stop();
    }
    http.stop();
    std::fputs(engine.summary().c_str(), summary_out);
    std::fflush(summary_out);
    if (!stopped) {
        log_error("engine", stopped.message());
        return 1;
    }
    return 0;
}

}  // namespace edgeflow::app
