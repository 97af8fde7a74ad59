// edgeflow_perf: the in-process half of the end-to-end harness. Each command prints one JSON
// object on stdout (scripts/bench collects them).
//
//   edgeflow_perf inprocess -c PIPELINE [--rate R] [--seconds S] [--warmup S] [--workers W]
//                 [--batch B]
//       Loads the pipeline as `edgeflow run` does (parse_pipeline, then build_stages: whatever
//       stages the file lists run), replaces its sources by one OpenLoopSource releasing the
//       reference workload at R messages/s (0: as fast as the engine takes them) and its
//       destinations by LatencySinks, and reports latency from each message's scheduled time
//       to its arrival at the sink, throughput, CPU per message and peak RSS.
//   edgeflow_perf limits [--seconds S]
//       The same messages through the limit loops: bare simdjson On-Demand, the hand-fused
//       reference pipeline (full), and its stateless part.
//   edgeflow_perf dataset           the devices dataset (JSON Lines)
//   edgeflow_perf sample [--count N]  the first N messages as JSON Lines envelopes
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/config/yaml_loader.h"
#include "core/runtime/engine.h"
#include "io/envelope.h"
#include "perf/harness/fused.h"
#include "perf/harness/histogram.h"
#include "perf/harness/open_loop_source.h"
#include "perf/harness/workload.h"
#include "perf/loadgen/tool_options.h"
#include "stages/registry.h"

namespace edgeflow::perf {
namespace {

constexpr std::string_view usage_text =
    R"(Usage: edgeflow_perf inprocess|limits|dataset|sample [options]

  inprocess -c PIPELINE [--rate R] [--seconds S] [--warmup S] [--workers W] [--batch B]
            [--quantum-us Q]
      The pipeline loaded as `edgeflow run` loads it, its sources replaced by an open-loop
      source of the reference workload at R messages/s (0, the default: as fast as the engine
      takes them) and its destinations by latency sinks. Prints latency from each message's
      scheduled time, throughput, CPU per message (by thread) and peak RSS as one JSON object.
      --warmup S is run first and not recorded (default 1); --seconds S is measured (default
      5); --workers and --batch override the pipeline's runtime block; --quantum-us is the
      source's shortest sleep (default 20).
  limits [--seconds S]
      The same messages through the limit loops: bare simdjson On-Demand, the hand-fused
      reference work (full) and its stateless part (default 2 s each).
  dataset
      The devices dataset, as JSON Lines.
  sample [--count N]
      The first N messages (default 100) as JSON Lines envelopes.
)";

std::uint64_t process_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto ns = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000 +
               static_cast<std::uint64_t>(t.tv_usec) * 1000;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024.0;
        }
    }
    return 0.0;
}

// CPU time of each live thread of this process, summed by thread name, in ns (schedstat).
std::map<std::string, std::uint64_t> thread_cpu_ns() {
    std::map<std::string, std::uint64_t> by_name;
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
        std::ifstream comm(task.path() / "comm");
        std::ifstream schedstat(task.path() / "schedstat");
        std::string name;
        std::uint64_t ns = 0;
        if (std::getline(comm, name) && (schedstat >> ns)) {
            by_name[name] += ns;
        }
    }
    return by_name;
}

double us(std::uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

std::string percentiles_json(const LatencyHistogram& h) {
    char buffer[320];
    std::snprintf(buffer, sizeof buffer,
                  "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
                  "\"max_us\":%.1f,\"mean_us\":%.1f",
                  us(h.percentile(50)), us(h.percentile(90)), us(h.percentile(99)),
                  us(h.percentile(99.9)), us(h.max()), h.mean() / 1000.0);
    return buffer;
}

int inprocess(int argc, const char* const* argv) {
    std::string path;
    double rate = 0;
    double seconds = 5;
    double warmup = 1;
    double quantum_us = 20;
    std::uint64_t workers = 0;  // 0: as the pipeline says
    std::uint64_t batch = 0;
    if (const auto code = exit_code_of(parse_tool_options(
            "edgeflow_perf inprocess", usage_text, argc, argv,
            {text_option("-c", path), number_option("--rate", rate, 0, 1e9),
             number_option("--seconds", seconds, 0.1, 86400),
             number_option("--warmup", warmup, 0, 3600),
             number_option("--quantum-us", quantum_us, 1, 1e6),
             whole_option("--workers", workers, std::uint64_t{1}, std::uint64_t{256}),
             whole_option("--batch", batch, std::uint64_t{1}, std::uint64_t{4096})}))) {
        return *code;
    }
    if (path.empty()) {
        std::fputs("edgeflow_perf inprocess: -c PIPELINE is required\n", stderr);
        return 2;
    }

    ConfigErrors errors{path};
    auto documents = load_yaml_documents_file(path, errors);
    if (!documents) {
        std::fputs(errors.to_string().c_str(), stderr);
        return 1;
    }
    PipelineConfig config = parse_pipeline(documents->front(), errors);
    if (workers != 0) {
        config.runtime.workers = workers;
    }
    if (batch != 0) {
        config.runtime.batch_size = batch;
    }
    auto dead_letters = std::make_shared<DeadLetterCounts>();
    auto built = build_stages(config, dead_letters, errors);
    auto& stages = built.stages;
    const std::vector<bool> emitted_only = built.emitted_only;
    if (!errors.empty()) {
        std::fputs(errors.to_string().c_str(), stderr);
        return 1;
    }
    std::string stage_list;
    for (const auto& stage : stages) {
        if (!stage_list.empty()) {
            stage_list += ',';
        }
        stage_list += stage->kind();
    }

    const FactoryWorkload workload;
    // At an unlimited rate the source stops after the run's duration instead of a count.
    const auto count =
        static_cast<std::uint64_t>(rate > 0 ? rate * (seconds + warmup) : 100'000'000.0);
    auto source = std::make_unique<OpenLoopSource>("open_loop", workload, rate, count);
    source->set_quantum(static_cast<std::uint64_t>(quantum_us * 1000));
    if (rate <= 0) {
        source->set_duration(static_cast<std::uint64_t>((seconds + warmup) * 1e9));
    }
    OpenLoopSource* source_view = source.get();
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::move(source));
    std::vector<std::unique_ptr<Sink>> sinks;
    std::vector<LatencySink*> sink_views;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        const auto& d = config.destinations[i];
        auto sink = std::make_unique<LatencySink>(d.name, i, d.dead_letter);
        sink_views.push_back(sink.get());
        sinks.push_back(std::move(sink));
    }

    const std::uint64_t cpu_before = process_cpu_ns();
    Engine engine(config, std::move(stages), std::move(sources), std::move(sinks), dead_letters);
    if (auto status = engine.start(); !status) {
        std::fprintf(stderr, "edgeflow_perf: cannot start: %s\n", status.message().c_str());
        return 1;
    }
    const OpenLoopSchedule& schedule = source_view->schedule();
    const std::uint64_t warm_until =
        rate > 0 ? schedule.due_at(static_cast<std::uint64_t>(rate * warmup)) : 0;
    for (auto* sink : sink_views) {
        sink->record_from(warm_until);
    }
    const std::uint64_t wall_start = steady_now_ns();
    const auto threads_at_start = thread_cpu_ns();
    while (!engine.sources_exhausted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Read before stop(): the engine's threads are gone after it.
    const auto threads_before = threads_at_start;
    const auto threads_after = thread_cpu_ns();
    const Status stopped = engine.stop();
    const std::uint64_t cpu_after = process_cpu_ns();

    // Latency and delivery are measured on the first destination that is neither the
    // dead-letter one nor reserved for emitted messages (the enriched messages, one per input).
    // Messages the stages emit themselves (events) are counted, not timed: they have no
    // scheduled time.
    LatencyHistogram latency;
    std::uint64_t delivered = 0, dead = 0, emitted = 0, last = 0;
    bool primary_seen = false;
    for (auto* sink : sink_views) {
        if (sink->is_dead_letter()) {
            dead += sink->received();
        } else if (!primary_seen && !emitted_only[sink->index_in_pipeline()]) {
            primary_seen = true;
            latency.merge(sink->latency());
            delivered = sink->received();
            last = sink->last_arrival_ns();
        } else {
            emitted += sink->received();
        }
    }
    const std::uint64_t sent = source_view->counters.received.load();
    const std::uint64_t first =
        rate > 0 ? schedule.start_ns() : std::max(schedule.start_ns(), wall_start);
    const double elapsed_s = last > first ? static_cast<double>(last - first) / 1e9 : 0.0;
    const double achieved = elapsed_s > 0 ? static_cast<double>(delivered + dead) / elapsed_s : 0;
    const double cpu_us = static_cast<double>(cpu_after - cpu_before) / 1000.0 /
                          static_cast<double>(std::max<std::uint64_t>(sent, 1));
    const double source_cpu_us = static_cast<double>(source_view->cpu_ns()) / 1000.0 /
                                 static_cast<double>(std::max<std::uint64_t>(sent, 1));
    // Where the CPU went, per message, by thread name (oneTBB workers share one name).
    std::string threads = "{";
    for (const auto& [name, ns] : threads_after) {
        const auto it = threads_before.find(name);
        const std::uint64_t used = ns - (it == threads_before.end() ? 0 : std::min(ns, it->second));
        char item[128];
        std::snprintf(item, sizeof item, "%s\"%s\":%.3f", threads.size() > 1 ? "," : "",
                      name.c_str(),
                      static_cast<double>(used) / 1000.0 /
                          static_cast<double>(std::max<std::uint64_t>(sent, 1)));
        threads += item;
    }
    threads += '}';
    std::printf(
        "{\"mode\":\"inprocess\",\"pipeline\":\"%.*s\",\"stages\":\"%s\",\"rate\":%.0f,"
        "\"workers\":%zu,\"batch\":%llu,\"sent\":%llu,\"delivered\":%llu,\"dead\":%llu,"
        "\"emitted\":%llu,"
        "\"seconds\":%.3f,\"achieved\":%.0f,%s,\"recorded\":%llu,\"source_lag_p99_us\":%.1f,"
        "\"cpu_us_per_msg\":%.3f,\"source_cpu_us_per_msg\":%.3f,\"engine_cpu_us_per_msg\":%.3f,"
        "\"rss_mb\":%.1f,\"thread_cpu_us_per_msg\":%s,\"ok\":%s}\n",
        static_cast<int>(path.size()), path.data(), stage_list.c_str(), rate,
        config.effective_workers(), static_cast<unsigned long long>(config.runtime.batch_size),
        static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
        static_cast<unsigned long long>(dead), static_cast<unsigned long long>(emitted), elapsed_s,
        achieved, percentiles_json(latency).c_str(),
        static_cast<unsigned long long>(latency.count()), us(source_view->lag().percentile(99)),
        cpu_us, source_cpu_us, cpu_us - source_cpu_us, peak_rss_mb(), threads.c_str(),
        stopped && delivered + dead == sent ? "true" : "false");
    return stopped ? 0 : 1;
}

// Messages rendered once, with simdjson padding, for the limit loops.
struct Rendered {
    explicit Rendered(const FactoryWorkload& workload, std::size_t count) {
        topics.resize(count);
        payloads.resize(count);
        std::string topic, payload;
        for (std::size_t i = 0; i < count; ++i) {
            workload.render(i, 1'700'000'000'000'000'000ULL + i * 1000, topic, payload);
            topics[i] = topic;
            assign_padded(payloads[i], payload);
        }
    }
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
};

template <typename Body>
double measure_rate(const Rendered& messages, double seconds, Body&& body) {
    using clock = std::chrono::steady_clock;
    // Warm: one pass over a tenth of the messages.
    for (std::size_t i = 0; i < messages.payloads.size() / 10; ++i) {
        body(i);
    }
    const auto start = clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    std::uint64_t n = 0;
    std::size_t i = 0;
    while (true) {
        for (int k = 0; k < 1024; ++k) {
            body(i);
            ++n;
            if (++i == messages.payloads.size()) {
                i = 0;
            }
        }
        if (clock::now() >= end) {
            break;
        }
    }
    return static_cast<double>(n) / std::chrono::duration<double>(clock::now() - start).count();
}

int limits(int argc, const char* const* argv) {
    double seconds = 2;
    if (const auto code =
            exit_code_of(parse_tool_options("edgeflow_perf limits", usage_text, argc, argv,
                                            {number_option("--seconds", seconds, 0.1, 3600)}))) {
        return *code;
    }
    const FactoryWorkload workload;
    const Rendered messages(workload, 200'000);
    std::uint64_t sink = 0;
    SimdjsonLoop bare;
    const double simdjson_rate = measure_rate(messages, seconds, [&](std::size_t i) {
        const std::string& p = messages.payloads[i];
        sink += bare.visit(p, p.capacity());
    });
    FusedPipeline stateless(workload, true);
    const double stateless_rate = measure_rate(messages, seconds, [&](std::size_t i) {
        const std::string& p = messages.payloads[i];
        sink += stateless.process(messages.topics[i], p, p.capacity());
    });
    FusedPipeline full(workload, false);
    const double full_rate = measure_rate(messages, seconds, [&](std::size_t i) {
        const std::string& p = messages.payloads[i];
        sink += full.process(messages.topics[i], p, p.capacity());
    });
    std::size_t bytes = 0;
    for (const auto& p : messages.payloads) {
        bytes += p.size();
    }
    std::printf(
        "{\"mode\":\"limits\",\"simdjson_rate\":%.0f,\"fused_stateless_rate\":%.0f,"
        "\"fused_full_rate\":%.0f,\"fused_events_per_msg\":%.4f,\"errors\":%llu,"
        "\"mean_payload_bytes\":%.1f,\"check\":%llu}\n",
        simdjson_rate, stateless_rate, full_rate,
        static_cast<double>(full.events()) / (full_rate * seconds + 20'000.0),
        static_cast<unsigned long long>(stateless.errors() + full.errors()),
        static_cast<double>(bytes) / static_cast<double>(messages.payloads.size()),
        static_cast<unsigned long long>(sink % 1000));
    return stateless.errors() + full.errors() == 0 ? 0 : 1;
}

int dataset() {
    std::fputs(FactoryWorkload().dataset_jsonl().c_str(), stdout);
    return 0;
}

int sample(int argc, const char* const* argv) {
    std::uint64_t count = 100;
    if (const auto code = exit_code_of(parse_tool_options(
            "edgeflow_perf sample", usage_text, argc, argv,
            {whole_option("--count", count, std::uint64_t{1}, std::uint64_t{1} << 40)}))) {
        return *code;
    }
    const FactoryWorkload workload;
    std::string topic, payload, line;
    for (std::uint64_t i = 0; i < count; ++i) {
        workload.render(i, 0, topic, payload);
        line.assign("{\"topic\":\"").append(topic).append("\",\"payload\":");
        line.append(payload).append("}\n");
        std::fputs(line.c_str(), stdout);
    }
    return 0;
}

}  // namespace
}  // namespace edgeflow::perf

int main(int argc, char** argv) {
    using namespace edgeflow::perf;
    const std::string_view command = argc >= 2 ? argv[1] : "";
    // Each command reads its options from argv[2..]; argv[1], the command, stands in for the
    // program name.
    const int command_argc = argc - 1;
    const char* const* command_argv = argv + 1;
    if (command == "inprocess") {
        return inprocess(command_argc, command_argv);
    }
    if (command == "limits") {
        return limits(command_argc, command_argv);
    }
    if (command == "dataset") {
        return dataset();
    }
    if (command == "sample") {
        return sample(command_argc, command_argv);
    }
    if (command == "-h" || command == "--help") {
        std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
        return 0;
    }
    std::fprintf(stderr, "edgeflow_perf: %s\n%.*s",
                 command.empty() ? "a command is required"
                                 : ("unknown command '" + std::string(command) + "'").c_str(),
                 static_cast<int>(usage_text.size()), usage_text.data());
    return 2;
}
