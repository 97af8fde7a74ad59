#include "core/config/pipeline_config.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "core/runtime/cpu_layout.h"

namespace edgeflow {
namespace {

EndpointConfig parse_endpoint(const ConfigNode& node, std::string_view role, std::size_t index,
                              ConfigErrors& errors) {
    EndpointConfig endpoint;
    endpoint.node = node;
    endpoint.name = std::string(role) + "-" + std::to_string(index + 1);
    if (!node.is_map()) {
        errors.add(node, "a " + std::string(role) + " (a map with at least `kind`)");
        return endpoint;
    }
    // Only the shared keys are read here; the kind's parser reports the unknown ones.
    if (const ConfigNode* name = node.find("name")) {
        if (name->is_scalar() && !name->scalar.empty()) {
            endpoint.name = name->scalar;
        } else {
            errors.add(*name, "a name");
        }
    }
    if (const ConfigNode* kind = node.find("kind")) {
        if ((kind->is_scalar() || kind->is_null()) && !kind->scalar.empty()) {
            endpoint.kind = kind->is_null() ? "null" : kind->scalar;
        } else {
            errors.add(*kind, "a kind (mqtt, file, null)");
        }
    } else {
        errors.missing(node, "kind", "the kind of " + std::string(role));
    }
    if (role == "destination") {
        endpoint.topic = "{topic}";
        if (const ConfigNode* topic = node.find("topic")) {
            if (topic->is_scalar() && !topic->scalar.empty()) {
                endpoint.topic = topic->scalar;
            } else {
                errors.add(*topic, "a topic template");
            }
        }
        if (const ConfigNode* dead = node.find("dead_letter")) {
            if (dead->is_scalar() && (dead->scalar == "true" || dead->scalar == "false")) {
                endpoint.dead_letter = dead->scalar == "true";
            } else {
                errors.add(*dead, "true or false");
            }
        }
        if (endpoint.dead_letter && node.find("topic") == nullptr) {
            endpoint.topic = "edgeflow/deadletter";
        }
    }
    return endpoint;
}

void parse_endpoints(MapReader& reader, std::string_view block, std::string_view role,
                     std::vector<EndpointConfig>& out, ConfigErrors& errors) {
    const ConfigNode* list = reader.get(block);
    if (list == nullptr) {
        if (reader.ok()) {
            errors.missing(reader.node(), block, "a list of " + std::string(role) + "s");
        }
        return;
    }
    if (!list->is_sequence() || list->items.empty()) {
        errors.add(*list, "a list of " + std::string(role) + "s");
        return;
    }
    const std::string base_dir = std::filesystem::path(errors.file()).parent_path().string();
    for (std::size_t i = 0; i < list->items.size(); ++i) {
        out.push_back(parse_endpoint(list->items[i], role, i, errors));
        out.back().base_dir = base_dir;
    }
}

void check_unique_names(const std::vector<EndpointConfig>& endpoints, ConfigErrors& errors) {
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (endpoints[i].name == endpoints[j].name) {
                const ConfigNode* at = endpoints[i].node.find("name");
                errors.add(at != nullptr ? *at : endpoints[i].node, "a name used once",
                           "\"" + endpoints[i].name + "\" again");
            }
        }
    }
}

}  // namespace

std::size_t allowed_cpu_count() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::size_t PipelineConfig::effective_workers() const noexcept {
    if (runtime.workers != 0) {
        return runtime.workers;
    }
    if (!runtime.cpus.automatic) {
        return std::max<std::size_t>(1, runtime.cpus.cpus.size());
    }
    try {
        if (auto layout = plan_cpu_layout(runtime)) {
            return layout->workers;
        }
    } catch (const std::exception&) {
        // Out of memory reading the topology: one worker per allowed CPU, as without it.
    }
    return allowed_cpu_count();
}

std::size_t PipelineConfig::effective_shards() const noexcept {
    return runtime.shards != 0 ? runtime.shards : effective_workers();
}

std::size_t PipelineConfig::effective_in_flight_batches() const noexcept {
    return runtime.max_in_flight_batches != 0 ? runtime.max_in_flight_batches
                                              : 4 * effective_workers();
}

std::string EndpointConfig::resolve_path(const std::string& path) const {
    if (path.empty() || path == "-" || path.front() == '/' || base_dir.empty()) {
        return path;
    }
    return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

void mark_source_keys(MapReader& reader) {
    for (auto key : {"name", "kind"}) {
        static_cast<void>(reader.get(key));
    }
}

void mark_destination_keys(MapReader& reader) {
    for (auto key : {"name", "kind", "topic", "dead_letter"}) {
        static_cast<void>(reader.get(key));
    }
}

PipelineConfig parse_pipeline(const ConfigNode& root, ConfigErrors& errors) {
    PipelineConfig pipeline;
    pipeline.file = errors.file();
    pipeline.root = root;
    MapReader reader(root, errors, "a pipeline file");
    std::uint64_t version = 1;
    reader.optional_uint("version", version, 1, 1);
    reader.optional_string("name", pipeline.name, "a pipeline name");
    parse_endpoints(reader, "sources", "source", pipeline.sources, errors);
    parse_endpoints(reader, "destinations", "destination", pipeline.destinations, errors);
    if (const ConfigNode* runtime = reader.get("runtime")) {
        parse_runtime(*runtime, pipeline.runtime, errors);
    }
    // Stage blocks are read by the stage registry; they are known keys here.
    for (auto block : pipeline_blocks) {
        static_cast<void>(reader.get(block));
    }
    reader.finish();

    check_unique_names(pipeline.sources, errors);
    check_unique_names(pipeline.destinations, errors);
    std::size_t outputs = 0;
    for (std::size_t i = 0; i < pipeline.destinations.size(); ++i) {
        const auto& d = pipeline.destinations[i];
        if (!d.dead_letter) {
            ++outputs;
            continue;
        }
        if (pipeline.dead_letter) {
            errors.add(*d.node.find("dead_letter"), "at most one dead_letter destination",
                       "a second one, \"" + d.name + "\"");
        } else {
            pipeline.dead_letter = i;
        }
    }
    if (pipeline.destinations.size() > max_destinations) {
        errors.add(*root.find("destinations"),
                   "at most " + std::to_string(max_destinations) + " destinations",
                   std::to_string(pipeline.destinations.size()));
    }
    if (outputs == 0 && !pipeline.destinations.empty()) {
        const ConfigNode* list = root.find("destinations");
        errors.add(*list, "at least one destination that is not the dead_letter one",
                   "only the dead_letter destination");
    }
    return pipeline;
}

}  // namespace edgeflow
