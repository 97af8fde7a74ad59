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

namespace edgeflow::app {

using namespace tune;

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
