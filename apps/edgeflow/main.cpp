// edgeflow: an edge dataflow engine. MQTT in → oneTBB flow graph → MQTT out.
#include <cstdio>
#include <string_view>
#include <vector>

#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/version.h"

namespace {

constexpr std::string_view usage =
    R"(edgeflow — an edge dataflow engine: MQTT in, a oneTBB flow graph, MQTT out

Usage:
  edgeflow run    -c PIPELINE.yaml [--log-level LEVEL]   run a pipeline until stopped or done
  edgeflow check  -c PIPELINE.yaml                       validate a pipeline, print what it would run
  edgeflow test   -c PIPELINE.yaml --input IN.jsonl --expect EXPECTED.jsonl
                                                         check a pipeline's output for given input
  edgeflow record --broker URI --topic FILTER -o OUT.jsonl [--count N] [--seconds S]
                                                         write live MQTT traffic as envelopes
  edgeflow tune   -c PIPELINE.yaml --input SAMPLE.jsonl [--p99 50us] [--seconds N] [--write FILE]
                                                         find the fastest runtime settings here
  edgeflow COMMAND --help                                help on one command
  edgeflow --version

A pipeline file names its sources (mqtt, file), destinations (mqtt, file, null, and an
optional dead_letter one), the stages between them (transform: Azure IoT Operations data-flow
map, filter and datasets rules), datasets and runtime settings (threads, CPUs, pinning,
batching, the HTTP endpoint with /metrics, /healthz and /readyz); see examples/,
docs/configuration.md, docs/transforms.md and docs/operations.md. -c also takes an Azure IoT
Operations Dataflow resource (docs/dataflow-resources.md).
)";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        std::fputs(usage.data(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::printf("edgeflow %s\n", edgeflow::app::version);
        return 0;
    }
    const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (args[0] == "run") {
        return edgeflow::app::run_command(rest);
    }
    if (args[0] == "check") {
        return edgeflow::app::check_command(rest);
    }
    if (args[0] == "test") {
        return edgeflow::app::test_command(rest);
    }
    if (args[0] == "record") {
        return edgeflow::app::record_command(rest);
    }
    if (args[0] == "tune") {
        return edgeflow::app::tune_command(rest);
    }
    std::fprintf(stderr, "edgeflow: unknown command '%.*s'\n\n%s", static_cast<int>(args[0].size()),
                 args[0].data(), usage.data());
    return 2;
}
