#include "apps/edgeflow/pipeline_loader.h"

#include <algorithm>
#include <cstdio>

#include "aio/dataflow_resource.h"
#include "core/config/yaml_loader.h"
#include "core/runtime/memory_plan.h"
#include "io/mqtt/mqtt_config.h"
#include "io/mqtt/mqtt_sink.h"
#include "io/registry.h"
#include "stages/registry.h"

namespace edgeflow::app {

std::optional<LoadedPipeline> load_pipeline(const std::string& path, ConfigErrors& errors,
                                            std::string_view endpoints_file,
                                            const RuntimeConfig* runtime, bool replay) {
    auto documents = load_yaml_documents_file(path, errors);
    if (!documents) {
        return std::nullopt;
    }
    LoadedPipeline loaded;
    ConfigNode root;
    if (std::any_of(documents->begin(), documents->end(), is_resource_document)) {
        std::vector<ConfigNode> endpoint_documents;
        if (!endpoints_file.empty()) {
            auto more = load_yaml_documents_file(std::string(endpoints_file), errors);
            if (!more) {
                return std::nullopt;
            }
            endpoint_documents = std::move(*more);
        }
        auto converted = convert_dataflow(*documents, endpoint_documents, errors);
        if (!converted) {
            return std::nullopt;
        }
        root = std::move(converted->pipeline);
        for (const auto& note : converted->notes) {
            loaded.notes.push_back(note.to_string());
        }
        if (converted->disabled) {
            loaded.disabled = converted->disabled->to_string();
        }
    } else {
        if (!endpoints_file.empty()) {
            errors.add_global("--endpoints",
                              "a Dataflow resource in the -c file (the endpoints file holds the "
                              "endpoints its endpointRefs name)",
                              "a native pipeline file");
        }
        if (documents->size() > 1) {
            errors.add((*documents)[1], "one pipeline document per file",
                       "a second document (a Dataflow resource and its endpoints may share a "
                       "file; a native pipeline may not)");
            return std::nullopt;
        }
        root = std::move(documents->front());
    }
    loaded.config = parse_pipeline(root, errors);
    if (runtime != nullptr) {
        loaded.config.runtime = *runtime;
    }
    loaded.config.replay = replay;
    loaded.dead_letters = std::make_shared<DeadLetterCounts>();
    auto built = build_stages(loaded.config, loaded.dead_letters, errors);
    loaded.stages = std::move(built.stages);
    loaded.dataset_feeds =
        build_dataset_feeds(loaded.config, built.dataset_sources, built.datasets, errors);
    loaded.sources = build_sources(loaded.config, errors);
    loaded.sinks = build_sinks(loaded.config, errors);
    for (const auto& store : built.lkv_stores) {
        const auto& persist = store->config().persist;
        if (!persist || loaded.sinks.empty()) {
            continue;  // without sinks, their errors are reported already
        }
        const EndpointConfig& destination = loaded.config.destinations[persist->destination_index];
        const Sink& sink = *loaded.sinks[persist->destination_index];
        if (sink.kind() != "mqtt") {
            errors.add(persist->node, "an mqtt destination (snapshots are retained messages)",
                       "'" + destination.name + "' of kind " + destination.kind);
            continue;
        }
        // The destination's own settings, as the io registry read them: read once.
        MqttConfig mqtt = static_cast<const MqttSink&>(sink).config();
        if (!mqtt.retain) {
            errors.add(persist->node,
                       "a destination with retain: true (the snapshots must outlive the process)",
                       "'" + destination.name + "' without retain");
            continue;
        }
        std::shared_ptr<LkvStore> target = store;
        loaded.snapshot_loaders.push_back(std::make_unique<MqttSnapshotLoader>(
            store->config().name, std::move(mqtt), persist->topic_prefix,
            std::chrono::milliseconds(persist->hydrate_timeout_ms),
            [target](std::string_view payload) { return target->hydrate(payload); }));
    }
    if (!errors.empty()) {
        return std::nullopt;
    }
    // Refused before anything starts: a pipeline whose bounds can outgrow its memory would be
    // killed for lack of it only under load, long after it was deployed.
    const MemoryPlan plan = MemoryPlan::of(loaded.config, loaded.stages, loaded.sources.size());
    const MemoryBudget budget = memory_budget(loaded.config.runtime);
    if (budget.bytes && plan.at_most > *budget.bytes) {
        std::string largest;
        std::uint64_t most = 0;
        for (const auto& item : plan.items) {
            if (item.at_most > most) {
                most = item.at_most;
                largest = item.what + " (up to " + format_bytes(item.at_most) + ")";
            }
        }
        const std::string expected = "bounds that fit " + std::string(budget.from) + " (" +
                                     format_bytes(*budget.bytes) +
                                     "): lower them, or raise runtime.memory_limit";
        const std::string found =
            "bounds that may take up to " + format_bytes(plan.at_most) + ", most of it " + largest;
        if (const ConfigNode* runtime_node = loaded.config.root.find("runtime")) {
            errors.add(*runtime_node, expected, found);
        } else {
            errors.add_global("runtime", expected, found);
        }
        return std::nullopt;
    }
    return loaded;
}

void print_load_errors(const std::string& path, const ConfigErrors& errors) {
    std::fputs(errors.to_string().c_str(), stderr);
    std::fprintf(stderr, "%s: %zu problem(s)\n", path.c_str(), errors.size());
}

}  // namespace edgeflow::app
