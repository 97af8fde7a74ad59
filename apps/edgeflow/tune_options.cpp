// edgeflow tune: its --help text and its options.
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

const char* const tune_help =
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

}  // namespace edgeflow::app::tune
