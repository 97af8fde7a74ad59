#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/pipeline_loader.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/memory_plan.h"
#include "io/registry.h"

namespace edgeflow::app {

namespace {
constexpr const char* check_help = R"(Usage: edgeflow check -c PIPELINE.yaml [--endpoints FILE]

Validates a pipeline file without running it: YAML syntax, every block and key (unknown keys
are errors), each source and destination kind's settings, topic templates and filters, and
every transform rule (paths, expressions, function names and arities, regex patterns, dataset
references) — then loads the file datasets.

The file may also be an Azure IoT Operations Dataflow resource (apiVersion
connectivity.iotoperations.azure.com/v1, kind Dataflow), with the DataflowEndpoint, edgeflow
Endpoint and Dataset documents it names in the same multi-document file or in --endpoints FILE.
Every field edgeflow does not support is an error saying why; `note` lines say where the flow
runs differently from AIO. See docs/dataflow-resources.md.

Values may name environment variables as ${env:NAME}; an unset one is a problem. A `warning`
line names each $share/ topic filter of a pipeline that keeps per-key state (the broker would
split a key's messages across instances).

Prints what the pipeline would run and exits 0, or prints one line per problem —
FILE:LINE:COLUMN: KEY: expected WHAT, found WHAT — and exits 1.

Options:
  -c, --config FILE   the pipeline file, or a Dataflow resource
  --endpoints FILE    endpoint and dataset documents for a Dataflow's references
  -h, --help          this help
)";
}  // namespace

int check_command(std::span<const std::string_view> args) {
    const auto parsed = parse_common(args, "check", check_help);
    if (parsed.exit_code) {
        return *parsed.exit_code;
    }
    const CommonOptions& options = parsed.options;
    const std::string path(options.config);
    ConfigErrors errors(path);
    auto loaded = load_pipeline(path, errors, options.endpoints);
    if (!loaded) {
        print_load_errors(path, errors);
        return 1;
    }
    const auto& config = loaded->config;
    std::printf("%s: ok%s%s\n", path.c_str(), config.name.empty() ? "" : " — pipeline ",
                config.name.c_str());
    for (const auto& line : describe_endpoints(config)) {
        std::printf("  %s\n", line.c_str());
    }
    for (const auto& line : describe_delivery(config)) {
        std::printf("  %s\n", line.c_str());
    }
    std::vector<std::string> stateful;
    for (const auto& stage : loaded->stages) {
        const std::string kind(stage->kind());
        // partition and order come with the stateful stages; name those the user wrote.
        if (stage->shape() != StageShape::stateless && kind != "partition" && kind != "order" &&
            std::find(stateful.begin(), stateful.end(), kind) == stateful.end()) {
            stateful.push_back(kind);
        }
    }
    for (const auto& line : describe_shared_subscriptions(config, stateful)) {
        std::printf("  %s\n", line.c_str());
    }
    std::string stages;
    for (const auto& stage : loaded->stages) {
        stages += (stages.empty() ? "" : " → ") + std::string(stage->kind());
    }
    std::printf("  stages      %s\n", stages.c_str());
    for (const auto& stage : loaded->stages) {
        if (const std::string line = stage->describe(); !line.empty()) {
            std::printf("              %s\n", line.c_str());
        }
    }
    std::printf(
        "  runtime     %zu worker(s), batch %llu, %zu batches in flight, ingest queue %llu "
        "(%s when full), egress queue %llu, max payload %llu bytes\n",
        config.effective_workers(), static_cast<unsigned long long>(config.runtime.batch_size),
        config.effective_in_flight_batches(),
        static_cast<unsigned long long>(config.runtime.ingest_queue.capacity),
        config.runtime.ingest_queue.when_full == FullPolicy::block ? "block" : "drop_oldest",
        static_cast<unsigned long long>(config.runtime.egress_queue.capacity),
        static_cast<unsigned long long>(config.runtime.max_payload_bytes));
    if (auto layout = plan_cpu_layout(config.runtime)) {
        std::printf("  threads     %s; idle %s", layout->describe().c_str(),
                    std::string(to_string(config.runtime.idle)).c_str());
        if (config.runtime.idle != IdleStrategy::block) {
            std::printf(" (up to %llu us, then block)",
                        static_cast<unsigned long long>(config.runtime.spin_us));
        }
        if (config.runtime.inline_batch > 0) {
            std::printf(
                "; batches of up to %llu run on the dispatch thread when the stages "
                "are idle",
                static_cast<unsigned long long>(config.runtime.inline_batch));
        }
        std::printf("\n");
    } else {
        std::printf("  note        on this machine `edgeflow run` would not start: %s\n",
                    layout.error().c_str());
    }
    {
        const MemoryPlan plan = MemoryPlan::of(config, loaded->stages, loaded->sources.size());
        const MemoryBudget budget = memory_budget(config.runtime);
        std::printf("  memory      %s at start, up to %s with every bound full; %s\n",
                    format_bytes(plan.at_start).c_str(), format_bytes(plan.at_most).c_str(),
                    budget.bytes ? ("budget " + format_bytes(*budget.bytes) + " (" +
                                    std::string(budget.from) + ")")
                                       .c_str()
                    : config.runtime.memory_limit_auto
                        ? "no budget (no cgroup limit; runtime.memory_limit sets one)"
                        : "no budget (memory_limit: none)");
        for (const auto& line : plan.describe()) {
            std::printf("              %s\n", line.c_str());
        }
    }
    if (config.runtime.http.enabled) {
        std::printf("  http        %s:%d (/metrics, /healthz, /readyz)\n",
                    config.runtime.http.host.c_str(), config.runtime.http.port);
    } else {
        std::printf("  http        off\n");
    }
    if (!config.dead_letter) {
        std::printf(
            "  note        no dead_letter destination: rejected messages are counted and "
            "discarded\n");
    }
    for (const auto& note : loaded->notes) {
        std::printf("  note        %s\n", note.c_str());
    }
    if (!loaded->disabled.empty()) {
        std::printf("  note        %s\n", loaded->disabled.c_str());
    }
    return 0;
}

}  // namespace edgeflow::app
