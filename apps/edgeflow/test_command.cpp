#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "apps/edgeflow/capture_sink.h"
#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/output_diff.h"
#include "apps/edgeflow/pipeline_loader.h"
#include "core/log.h"
#include "core/runtime/engine.h"
#include "core/runtime/scheduler_guard.h"
#include "io/file/file_source.h"

namespace edgeflow::app {

namespace {
constexpr const char* test_help =
    R"(Usage: edgeflow test -c PIPELINE.yaml --input IN.jsonl --expect EXPECTED.jsonl
                     [--endpoints FILE] [--destination NAME] [--log-level LEVEL]

Runs a pipeline on a file of input messages and compares what its destinations receive with
what a file of expected messages says they should.

The pipeline is loaded as `edgeflow run` loads it (the same checks, the same stages), then its
sources are replaced by one file source replaying IN.jsonl (JSON Lines envelopes, full speed,
once) and each destination by an in-memory one of the same name, which computes its topics as
the real one would. Nothing is written to the real destinations and no broker is contacted.
Dead-letter records name the pipeline's first source and the line of IN.jsonl. The ingest
queue blocks when full, so no input is dropped whatever the pipeline's when_full says.

EXPECTED.jsonl holds one message per line, as a file destination writes them, plus the
destination that should receive it:

  {"topic": "enriched/line1/d1", "payload": {"deviceId": "d1"}, "destination": "enriched"}

A line without "destination" belongs to the pipeline's only destination that is not the
dead_letter one (with several, each line must name its own, or use --destination). A
dead-letter line names the dead_letter destination; its payload is the dead-letter record.

Each destination's messages are compared in order: topics exactly, properties as a set,
payloads as JSON values (member order does not matter; 1 and 1.0 differ; strings must match
byte for byte). Each difference is printed on standard output with the path of the value that
differs, then a summary line: "N of M messages match".

Options:
  -c, --config FILE      the pipeline file, or a Dataflow resource (see `edgeflow check`)
  --endpoints FILE       endpoint and dataset documents a Dataflow resource refers to
  --input FILE           input messages, one JSON Lines envelope per line
  --expect FILE          expected messages, one per line
  --destination NAME     check only this destination; lines without "destination" belong
                         to it
  --log-level LEVEL      debug, info, warn, error or off (default warn); logs are JSON lines
                         on stderr
  -h, --help             this help

Exit codes: 0 every destination received exactly what was expected, 1 something differs,
2 bad arguments (including an input or expect file that cannot be read, and a malformed expect
file), 3 configuration error (printed as `edgeflow check` prints it).
)";

// Differing messages written out in full before the rest are only counted.
constexpr std::size_t max_reported = 50;
// Messages a destination keeps beyond what it is expected to receive: enough to show what came
// instead, without holding a flood.
constexpr std::size_t unexpected_kept = 1000;

struct TestOptions {
    std::string_view config;
    std::string_view endpoints;
    std::string_view input;
    std::string_view expect;
    std::string_view destination;
    std::string_view log_level;
    bool help = false;
};

bool parse_test_options(std::span<const std::string_view> args, TestOptions& options) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        const auto value = [&](std::string_view& out) {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "edgeflow test: %.*s needs a value\n",
                             static_cast<int>(arg.size()), arg.data());
                return false;
            }
            out = args[++i];
            return true;
        };
        std::string_view* target = nullptr;
        std::string_view name = arg;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            name = arg.substr(0, eq);
        }
        if (arg == "-h" || arg == "--help") {
            options.help = true;
            continue;
        }
        if (name == "-c" || name == "--config") {
            target = &options.config;
        } else if (name == "--endpoints") {
            target = &options.endpoints;
        } else if (name == "--input") {
            target = &options.input;
        } else if (name == "--expect") {
            target = &options.expect;
        } else if (name == "--destination") {
            target = &options.destination;
        } else if (name == "--log-level") {
            target = &options.log_level;
        } else {
            std::fprintf(stderr, "edgeflow test: unknown argument '%.*s' (see --help)\n",
                         static_cast<int>(arg.size()), arg.data());
            return false;
        }
        if (name.size() < arg.size()) {
            *target = arg.substr(name.size() + 1);
        } else if (!value(*target)) {
            return false;
        }
    }
    if (options.help) {
        return true;
    }
    for (const auto& [given, text] :
         {std::pair{options.config, "-c PIPELINE.yaml"}, std::pair{options.input, "--input FILE"},
          std::pair{options.expect, "--expect FILE"}}) {
        if (given.empty()) {
            std::fprintf(stderr, "edgeflow test: %s is required (see --help)\n", text);
            return false;
        }
    }
    return true;
}

ComparedMessage compared(CapturedMessage& captured) {
    ComparedMessage message;
    message.topic = std::move(captured.topic);
    message.payload = std::move(captured.body);
    for (auto& property : captured.properties) {
        message.properties.emplace_back(std::move(property.key), std::move(property.value));
    }
    std::sort(message.properties.begin(), message.properties.end());
    message.line = captured.source_line;
    return message;
}

}  // namespace

int test_command(std::span<const std::string_view> args) {
    TestOptions options;
    if (!parse_test_options(args, options)) {
        return 2;
    }
    if (options.help) {
        std::fputs(test_help, stdout);
        return 0;
    }
    LogLevel level = LogLevel::warn;
    if (!options.log_level.empty()) {
        auto parsed = parse_log_level(options.log_level);
        if (!parsed) {
            std::fprintf(stderr,
                         "edgeflow test: --log-level must be debug, info, warn, error or off\n");
            return 2;
        }
        level = *parsed;
    }
    set_log_level(level);

    const std::string path(options.config);
    ConfigErrors errors(path);
    auto loaded = load_pipeline(path, errors, options.endpoints, nullptr, /*replay=*/true);
    if (!loaded) {
        print_load_errors(path, errors);
        return 3;
    }
    // A test contacts no broker: a dataset kept from a retained MQTT message stays empty here,
    // so its bindings find no match. Say so rather than let the results look like misses.
    for (const auto& feed : loaded->dataset_feeds) {
        std::fprintf(stderr,
                     "edgeflow test: dataset '%s' is loaded from MQTT, which a test does not "
                     "contact: it is empty here (use a file dataset to test with records)\n",
                     feed->name().c_str());
    }
    PipelineConfig config = loaded->config;
    // A test must see every input message: never let the queue policy drop one.
    config.runtime.ingest_queue.when_full = FullPolicy::block;

    ExpectTargets targets;
    std::vector<std::size_t> outputs;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        targets.destinations.push_back(config.destinations[i].name);
        targets.dead_letter.push_back(config.destinations[i].dead_letter);
        if (!config.destinations[i].dead_letter) {
            outputs.push_back(i);
        }
    }
    if (!options.destination.empty()) {
        const auto at = std::find(targets.destinations.begin(), targets.destinations.end(),
                                  options.destination);
        if (at == targets.destinations.end()) {
            std::string names;
            for (const auto& name : targets.destinations) {
                names += (names.empty() ? "" : ", ") + name;
            }
            std::fprintf(stderr,
                         "edgeflow test: --destination: %s has no destination '%.*s' (it has: "
                         "%s)\n",
                         path.c_str(), static_cast<int>(options.destination.size()),
                         options.destination.data(), names.c_str());
            return 2;
        }
        targets.only = static_cast<std::size_t>(at - targets.destinations.begin());
        targets.default_destination = targets.only;
    } else if (outputs.size() == 1) {
        targets.default_destination = outputs.front();
    }

    const std::string expect_path(options.expect);
    auto expected = read_expectations(expect_path, targets);
    if (!expected) {
        std::fprintf(stderr, "%s\n", expected.error().c_str());
        return 2;
    }
    const std::string input_path(options.input);
    if (std::FILE* input = std::fopen(input_path.c_str(), "rb")) {
        std::fclose(input);
    } else {
        std::fprintf(stderr, "edgeflow test: cannot open --input '%s': %s\n", input_path.c_str(),
                     std::strerror(errno));
        return 2;
    }

    FileSourceConfig replay;
    replay.path = input_path;
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::make_unique<FileSource>(
        config.sources.front().name, 0, std::move(replay), config.runtime.max_payload_bytes));
    std::vector<CaptureSink*> captures;
    std::vector<std::unique_ptr<Sink>> sinks;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        const auto& destination = config.destinations[i];
        auto sink = std::make_unique<CaptureSink>(destination.name, i, destination.dead_letter,
                                                  (*expected)[i].size() + unexpected_kept);
        captures.push_back(sink.get());
        sinks.push_back(std::move(sink));
    }

    const SchedulerGuard scheduler;  // destroyed after the engine: waits for its workers
    Engine engine(config, std::move(loaded->stages), std::move(sources), std::move(sinks),
                  loaded->dead_letters);
    if (auto status = engine.start(); !status) {
        std::fprintf(stderr, "edgeflow test: cannot start: %s\n", status.message().c_str());
        return 2;
    }
    while (!engine.sources_exhausted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (auto status = engine.stop(); !status) {
        std::fprintf(stderr, "edgeflow test: %s\n", status.message().c_str());
    }

    std::vector<DestinationOutputs> results;
    MessageCanonicalizer canonicalizer;
    for (std::size_t i = 0; i < captures.size(); ++i) {
        if (targets.only && *targets.only != i) {
            continue;
        }
        auto& result = results.emplace_back();
        result.name = config.destinations[i].name;
        result.expected = std::move((*expected)[i]);
        result.received_not_kept = captures[i]->not_kept();
        // The engine hands the sink its own JSON, so this holds unless memory ran out above.
        for (auto& captured : captures[i]->take_messages()) {
            auto message = compared(captured);
            if (!canonicalizer.canonicalize(message)) {
                message.canonical = "not JSON: " + message.payload;
                message.hash = std::hash<std::string>{}(message.canonical);
            }
            result.received.push_back(std::move(message));
        }
        if (const auto failed = load(captures[i]->counters.failed); failed > 0) {
            std::fprintf(stderr, "edgeflow test: destination %s could not keep %llu message(s)\n",
                         result.name.c_str(), static_cast<unsigned long long>(failed));
        }
    }
    std::string report;
    const DiffTotals totals = compare_outputs(results, max_reported, report);
    std::fputs(report.c_str(), stdout);
    std::fflush(stdout);
    return totals.all_match() ? 0 : 1;
}

}  // namespace edgeflow::app
