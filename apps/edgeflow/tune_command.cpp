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
#include "core/log.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/engine.h"
#include "core/runtime/scheduler_guard.h"
#include "io/file/file_sink.h"
#include "io/file/file_source.h"

namespace edgeflow::app {

namespace {
constexpr const char* tune_help =
    R"(Usage: edgeflow tune -c PIPELINE.yaml --input SAMPLE.jsonl [--p99 DURATION]
                     [--seconds S] [--write FILE] [--workers LIST] [--batch-sizes LIST]
                     [--idle LIST] [--load FRACTION] [--endpoints FILE] [--log-level LEVEL]

Finds the runtime settings under which a pipeline runs fastest on this machine. The pipeline
is loaded as `edgeflow run` loads it, then run in this process once per setting, with its
sources replaced by one file source looping over SAMPLE.jsonl (JSON Lines envelopes) and its
destinations by null ones: nothing is written and no broker is contacted.

The sweep covers, within the CPUs this process may run on (its affinity: run it where the
pipeline will run, with the same CPU set):
  - worker counts (--workers, default 1 up to the number of allowed CPUs);
  - CPU layouts: workers and I/O threads sharing every allowed CPU, and, with fewer workers
    than CPUs, workers on CPUs of their own with the I/O threads on the rest;
  - workers floating over their CPUs and pinned one per CPU (siblings apart and together
    when the CPUs have hyperthread siblings);
  - batch sizes (--batch-sizes, default 16,64,256);
  - idle strategies (--idle, default spin,yield,block).
The file's other runtime settings (queue capacities, max payload) are kept.

Each setting runs for S seconds (--seconds, default 2, fractions allowed): the first half at
full speed, which gives the throughput, the second half at --load (default 0.5) of that
throughput on an open-loop schedule, which gives the latency percentiles from ingest to the
destinations. Progress goes to standard error: the setting, how many are left and the time
remaining.

Then it prints the settings ranked by throughput, and the best runtime block: the highest
throughput whose p99 meets --p99 (e.g. 50us, 2ms; any p99 without it). --write FILE writes
that block to FILE, to replace the pipeline's runtime block.

Options:
  -c, --config FILE      the pipeline file, or a Dataflow resource (see `edgeflow check`)
  --endpoints FILE       endpoint and dataset documents a Dataflow resource refers to
  --input FILE           sample messages, one JSON Lines envelope per line
  --p99 DURATION         the latency the best setting must meet at its p99 (ns, us, ms, s)
  --seconds S            time per setting (default 2)
  --write FILE           write the best runtime block to FILE
  --workers LIST         worker counts to try, e.g. 1,2
  --batch-sizes LIST     batch sizes to try, e.g. 32,128
  --idle LIST            idle strategies to try: spin, yield, block
  --load FRACTION        rate of the latency half, as a fraction of the throughput (0.05-1)
  --log-level LEVEL      debug, info, warn, error or off (default warn)
  -h, --help             this help

Exit codes: 0 a best setting was found, 1 no setting met --p99 (or none ran), 2 bad
arguments, 3 configuration error.
)";

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

std::optional<double> parse_duration_ns(std::string_view text) {
    double value = 0;
    std::size_t used = 0;
    try {
        value = std::stod(std::string(text), &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(used);
    double scale = 0;
    if (unit == "ns") {
        scale = 1;
    } else if (unit == "us" || unit == "µs") {
        scale = 1e3;
    } else if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "s") {
        scale = 1e9;
    }
    if (scale == 0 || !(value > 0)) {
        return std::nullopt;
    }
    return value * scale;
}

std::optional<std::vector<std::uint64_t>> parse_numbers(std::string_view text, std::uint64_t min,
                                                        std::uint64_t max) {
    std::vector<std::uint64_t> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string item(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        std::size_t used = 0;
        std::uint64_t value = 0;
        try {
            value = std::stoull(item, &used);
        } catch (const std::exception&) {
            return std::nullopt;
        }
        if (used != item.size() || value < min || value > max) {
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), value) == out.end()) {
            out.push_back(value);
        }
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

bool parse_tune_args(std::span<const std::string_view> args, TuneOptions& options) {
    const auto fail = [](const std::string& text) {
        std::fprintf(stderr, "edgeflow tune: %s (see --help)\n", text.c_str());
        return false;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view name = args[i];
        std::string_view value;
        bool has_value = false;
        if (const auto eq = name.find('=');
            name.starts_with("--") && eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        if (name == "-h" || name == "--help") {
            options.help = true;
            continue;
        }
        static constexpr std::string_view with_value[] = {
            "-c",      "--config",  "--endpoints",   "--input", "--p99",  "--seconds",
            "--write", "--workers", "--batch-sizes", "--idle",  "--load", "--log-level"};
        if (std::find(std::begin(with_value), std::end(with_value), name) == std::end(with_value)) {
            return fail("unknown argument '" + std::string(args[i]) + "'");
        }
        if (!has_value) {
            if (i + 1 >= args.size()) {
                return fail(std::string(name) + " needs a value");
            }
            value = args[++i];
        }
        const std::string text(value);
        if (name == "-c" || name == "--config") {
            options.config = value;
        } else if (name == "--endpoints") {
            options.endpoints = value;
        } else if (name == "--input") {
            options.input = value;
        } else if (name == "--write") {
            options.write = value;
        } else if (name == "--log-level") {
            options.log_level = value;
        } else if (name == "--p99") {
            auto ns = parse_duration_ns(value);
            if (!ns) {
                return fail("--p99 must be a duration such as 50us, 2ms or 0.5s, not '" + text +
                            "'");
            }
            options.p99_ns = *ns;
        } else if (name == "--seconds") {
            char* end = nullptr;
            const double s = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !(s >= 0.1) || s > 3600) {
                return fail("--seconds must be a number from 0.1 to 3600, not '" + text + "'");
            }
            options.seconds = s;
        } else if (name == "--load") {
            char* end = nullptr;
            const double f = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !(f >= 0.05) || f > 1) {
                return fail("--load must be a fraction from 0.05 to 1, not '" + text + "'");
            }
            options.load = f;
        } else if (name == "--workers") {
            auto list = parse_numbers(value, 1, 256);
            if (!list) {
                return fail("--workers must list whole numbers from 1 to 256, not '" + text + "'");
            }
            options.workers = *list;
        } else if (name == "--batch-sizes") {
            auto list = parse_numbers(value, 1, 4096);
            if (!list) {
                return fail("--batch-sizes must list whole numbers from 1 to 4096, not '" + text +
                            "'");
            }
            options.batch_sizes = *list;
        } else if (name == "--idle") {
            options.idle.clear();
            std::string_view rest = value;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                const std::string_view item = rest.substr(0, comma);
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                if (item == "spin") {
                    options.idle.push_back(IdleStrategy::spin);
                } else if (item == "yield") {
                    options.idle.push_back(IdleStrategy::yield);
                } else if (item == "block") {
                    options.idle.push_back(IdleStrategy::block);
                } else {
                    return fail("--idle must list spin, yield or block, not '" + text + "'");
                }
            }
            if (options.idle.empty()) {
                return fail("--idle must list spin, yield or block");
            }
        }
    }
    if (options.help) {
        return true;
    }
    if (options.config.empty()) {
        return fail("-c PIPELINE.yaml is required");
    }
    if (options.input.empty()) {
        return fail("--input SAMPLE.jsonl is required");
    }
    return true;
}

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

/// The sweep, in the order it runs.
std::vector<Setting> plan_sweep(const RuntimeConfig& base, const TuneOptions& options,
                                const CpuList& allowed, const CpuTopology& topology) {
    std::vector<std::uint64_t> worker_counts = options.workers;
    if (worker_counts.empty()) {
        for (std::uint64_t w = 1; w <= allowed.size(); ++w) {
            worker_counts.push_back(w);
        }
    }
    bool siblings = false;
    for (const int a : allowed) {
        for (const int b : allowed) {
            siblings = siblings || (a != b && topology.core(a) == topology.core(b));
        }
    }
    std::vector<Setting> out;
    for (const std::uint64_t workers : worker_counts) {
        // Layouts: everything shared, and — with CPUs to spare — workers on their own CPUs
        // (the last ones, a core's siblings together) and I/O on the rest.
        std::vector<std::pair<std::string, RuntimeConfig>> layouts;
        RuntimeConfig shared = base;
        shared.workers = workers;
        shared.cpus = CpuSpec{};
        shared.io_cpus = CpuSpec{};
        layouts.emplace_back("shared", shared);
        if (workers < allowed.size()) {
            RuntimeConfig split = shared;
            split.cpus.automatic = false;
            split.cpus.cpus.assign(allowed.end() - static_cast<std::ptrdiff_t>(workers),
                                   allowed.end());
            layouts.emplace_back("split", split);
        }
        for (const auto& [layout, config] : layouts) {
            for (const int pin : {0, 1}) {
                std::vector<SiblingPolicy> policies{SiblingPolicy::apart};
                if (pin == 1 && siblings) {
                    policies.push_back(SiblingPolicy::together);
                }
                for (const SiblingPolicy policy : policies) {
                    for (const std::uint64_t batch : options.batch_sizes) {
                        for (const IdleStrategy idle : options.idle) {
                            Setting s{config, layout};
                            s.runtime.pin = pin == 1;
                            s.runtime.siblings = policy;
                            s.runtime.batch_size = batch;
                            s.runtime.idle = idle;
                            out.push_back(std::move(s));
                        }
                    }
                }
            }
        }
    }
    return out;
}

std::string describe(const Setting& s) {
    const auto layout = plan_cpu_layout(s.runtime);
    std::string out = std::to_string(s.runtime.workers) + " worker(s)";
    if (layout) {
        out += " on " + format_cpu_list(layout->worker_cpus) + ", I/O on " +
               format_cpu_list(layout->io_cpus);
    }
    out += s.runtime.pin ? ", pinned" : ", floating";
    if (s.runtime.pin && s.runtime.siblings == SiblingPolicy::together) {
        out += " (siblings together)";
    }
    out += ", batch " + std::to_string(s.runtime.batch_size) + ", idle " +
           std::string(to_string(s.runtime.idle));
    return out;
}

std::string format_ns(double ns) {
    char text[32];
    if (ns < 1e3) {
        std::snprintf(text, sizeof text, "%.0fns", ns);
    } else if (ns < 1e6) {
        std::snprintf(text, sizeof text, "%.1fus", ns / 1e3);
    } else if (ns < 1e9) {
        std::snprintf(text, sizeof text, "%.2fms", ns / 1e6);
    } else {
        std::snprintf(text, sizeof text, "%.2fs", ns / 1e9);
    }
    return text;
}

std::string format_duration(double seconds) {
    const auto total = static_cast<long>(std::ceil(seconds));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    return text;
}

/// One run of the pipeline under `runtime`: messages/s over the measured part, and the latency
/// recorded meanwhile. `rate` 0 is full speed.
struct PhaseResult {
    double throughput = 0;
    LatencyHistogram::Snapshot latency;
    std::string error;
};

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

}  // namespace

int tune_command(std::span<const std::string_view> args) {
    TuneOptions options;
    if (!parse_tune_args(args, options)) {
        return 2;
    }
    if (options.help) {
        std::fputs(tune_help, stdout);
        return 0;
    }
    if (options.log_level.empty()) {
        set_log_level(LogLevel::warn);
    } else if (auto level = parse_log_level(options.log_level)) {
        set_log_level(*level);
    } else {
        std::fprintf(stderr,
                     "edgeflow tune: --log-level must be debug, info, warn, error or off\n");
        return 2;
    }
    const std::string input(options.input);
    if (std::FILE* file = std::fopen(input.c_str(), "rb")) {
        std::fclose(file);
    } else {
        std::fprintf(stderr, "edgeflow tune: cannot open --input '%s': %s\n", input.c_str(),
                     std::strerror(errno));
        return 2;
    }
    const std::string path(options.config);
    ConfigErrors errors(path);
    auto loaded = load_pipeline(path, errors, options.endpoints);
    if (!loaded) {
        print_load_errors(path, errors);
        return 3;
    }
    for (const auto& feed : loaded->dataset_feeds) {
        std::fprintf(stderr,
                     "edgeflow tune: dataset '%s' is loaded from MQTT, which tune does not "
                     "contact: it is empty here\n",
                     feed->name().c_str());
    }
    RuntimeConfig base = loaded->config.runtime;
    // No HTTP endpoint is served while tuning; the block keeps what the file said.
    const CpuList allowed = allowed_cpus();
    const std::vector<Setting> sweep = plan_sweep(base, options, allowed, CpuTopology::read());
    std::fprintf(stderr,
                 "edgeflow tune: %zu setting(s) on CPUs %s, %.1f s each (about %s in all)\n",
                 sweep.size(), format_cpu_list(allowed).c_str(), options.seconds,
                 format_duration(options.seconds * static_cast<double>(sweep.size())).c_str());

    std::vector<Measured> results;
    const SchedulerGuard scheduler;  // waits for the engines' workers when tune returns
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < sweep.size(); ++i) {
        const Setting& setting = sweep[i];
        const double spent =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double left =
            i == 0 ? options.seconds * static_cast<double>(sweep.size())
                   : spent / static_cast<double>(i) * static_cast<double>(sweep.size() - i);
        std::fprintf(stderr, "[%zu/%zu] %s — %zu left after this, about %s remaining\n", i + 1,
                     sweep.size(), describe(setting).c_str(), sweep.size() - i - 1,
                     format_duration(left).c_str());
        Measured m;
        m.setting = setting;
        const PhaseResult full = run_phase(options, setting.runtime, 0, options.seconds / 2);
        if (!full.error.empty()) {
            m.error = full.error;
        } else {
            m.throughput = full.throughput;
            const PhaseResult paced = run_phase(
                options, setting.runtime, full.throughput * options.load, options.seconds / 2);
            if (!paced.error.empty()) {
                m.error = paced.error;
            } else {
                m.p50_ns = paced.latency.quantile_ns(0.5);
                m.p99_ns = paced.latency.quantile_ns(0.99);
                m.p999_ns = paced.latency.quantile_ns(0.999);
                m.samples = paced.latency.count;
            }
        }
        if (m.error.empty()) {
            std::fprintf(stderr, "        %.0f messages/s, p50 %s, p99 %s\n", m.throughput,
                         format_ns(m.p50_ns).c_str(), format_ns(m.p99_ns).c_str());
        } else {
            std::fprintf(stderr, "        failed: %s\n", m.error.c_str());
        }
        results.push_back(std::move(m));
    }

    std::vector<std::size_t> order(results.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return results[a].throughput > results[b].throughput;
    });
    const auto meets = [&](const Measured& m) {
        return m.error.empty() && m.throughput > 0 &&
               (options.p99_ns == 0 || m.p99_ns <= options.p99_ns);
    };
    std::printf("%4s %7s %-7s %-7s %-5s %-8s %5s %-5s %12s %9s %9s %9s %s\n", "rank", "workers",
                "cpus", "io_cpus", "pin", "siblings", "batch", "idle", "messages/s", "p50", "p99",
                "p99.9", options.p99_ns > 0 ? "meets p99" : "");
    std::optional<std::size_t> best;
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
        const Measured& m = results[order[rank]];
        const RuntimeConfig& r = m.setting.runtime;
        const auto layout = plan_cpu_layout(r);
        const std::string cpus = layout ? format_cpu_list(layout->worker_cpus) : "?";
        const std::string io = layout ? format_cpu_list(layout->io_cpus) : "?";
        if (!best && meets(m)) {
            best = order[rank];
        }
        if (!m.error.empty()) {
            std::printf("%4zu %7llu %-7s %-7s %-5s %-8s %5llu %-5s %12s  failed: %s\n", rank + 1,
                        static_cast<unsigned long long>(r.workers), cpus.c_str(), io.c_str(),
                        r.pin ? "yes" : "no",
                        r.pin ? std::string(to_string(r.siblings)).c_str() : "-",
                        static_cast<unsigned long long>(r.batch_size),
                        std::string(to_string(r.idle)).c_str(), "-", m.error.c_str());
            continue;
        }
        std::printf(
            "%4zu %7llu %-7s %-7s %-5s %-8s %5llu %-5s %12.0f %9s %9s %9s %s\n", rank + 1,
            static_cast<unsigned long long>(r.workers), cpus.c_str(), io.c_str(),
            r.pin ? "yes" : "no", r.pin ? std::string(to_string(r.siblings)).c_str() : "-",
            static_cast<unsigned long long>(r.batch_size), std::string(to_string(r.idle)).c_str(),
            m.throughput, format_ns(m.p50_ns).c_str(), format_ns(m.p99_ns).c_str(),
            format_ns(m.p999_ns).c_str(), options.p99_ns > 0 ? (meets(m) ? "yes" : "no") : "");
    }
    std::printf(
        "\nthroughput at full speed; latency from ingest to the destinations at %.0f%% of "
        "that rate\n",
        options.load * 100);
    if (!best) {
        if (options.p99_ns > 0) {
            std::printf("\nno setting met p99 <= %s\n", format_ns(options.p99_ns).c_str());
        } else {
            std::printf("\nno setting ran\n");
        }
        return 1;
    }
    const Measured& m = results[*best];
    char comment[200];
    std::snprintf(comment, sizeof comment,
                  "edgeflow tune on CPUs %s: %.0f messages/s, p99 %s at %.0f%% load",
                  format_cpu_list(allowed).c_str(), m.throughput, format_ns(m.p99_ns).c_str(),
                  options.load * 100);
    const std::string block = runtime_block(m.setting.runtime, comment);
    std::printf("\nbest%s:\n%s",
                options.p99_ns > 0 ? (" with p99 <= " + format_ns(options.p99_ns)).c_str() : "",
                block.c_str());
    if (!options.write.empty()) {
        const std::string out_path(options.write);
        std::ofstream out(out_path, std::ios::trunc);
        out << block;
        out.close();
        if (!out) {
            std::fprintf(stderr, "edgeflow tune: cannot write '%s': %s\n", out_path.c_str(),
                         std::strerror(errno));
            return 2;
        }
        std::printf("written to %s\n", out_path.c_str());
    }
    return 0;
}

}  // namespace edgeflow::app
