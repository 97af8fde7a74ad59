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

constexpr std::uint64_t max_capacity = std::uint64_t{1} << 24;

// `host:port`, `[v6]:port` or `off`.
void parse_listen(const ConfigNode& node, HttpConfig& http, ConfigErrors& errors) {
    const std::string expected =
        "an address to listen on, host:port (127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464), or off";
    if (!node.is_scalar() || node.scalar.empty()) {
        errors.add(node, expected);
        return;
    }
    const std::string& text = node.scalar;
    if (text == "off" && !node.quoted) {
        http.enabled = false;
        return;
    }
    const auto colon = text.rfind(':');
    std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = 0;
    const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
        errors.add(node, expected);
        return;
    }
    http.host = host;
    http.port = port;
    http.explicit_listen = true;
}

void parse_runtime(const ConfigNode& node, RuntimeConfig& runtime, ConfigErrors& errors) {
    MapReader reader(node, errors, "the runtime block");
    reader.optional_uint("workers", runtime.workers, 1, 256, "auto", 0);
    if (const ConfigNode* cpus = reader.get("cpus")) {
        parse_cpu_spec(*cpus, runtime.cpus, errors);
    }
    if (const ConfigNode* cpus = reader.get("io_cpus")) {
        parse_cpu_spec(*cpus, runtime.io_cpus, errors);
    }
    reader.optional_bool("pin", runtime.pin);
    reader.optional_choice(
        "siblings", runtime.siblings,
        {{"apart", SiblingPolicy::apart}, {"together", SiblingPolicy::together}});
    reader.optional_choice("idle", runtime.idle,
                           {{"spin", IdleStrategy::spin},
                            {"yield", IdleStrategy::yield},
                            {"block", IdleStrategy::block}});
    reader.optional_uint("spin_us", runtime.spin_us, 0, 1'000'000);
    if (const ConfigNode* level = reader.get("log_level")) {
        if (level->is_scalar() && !level->quoted && parse_log_level(level->scalar)) {
            runtime.log_level = level->scalar;
        } else {
            errors.add(*level, "one of debug info warn error off");
        }
    }
    if (const ConfigNode* http = reader.get("http")) {
        MapReader h(*http, errors, "the http block");
        if (const ConfigNode* listen = h.get("listen")) {
            parse_listen(*listen, runtime.http, errors);
        }
        h.finish();
    }
    reader.optional_uint("batch_size", runtime.batch_size, 1, 4096);
    reader.optional_uint("max_in_flight_batches", runtime.max_in_flight_batches, 1, 4096);
    reader.optional_uint("max_payload_bytes", runtime.max_payload_bytes, 16, 256u << 20);
    reader.optional_uint("shards", runtime.shards, 1, 1024, "auto", 0);
    reader.optional_uint("max_emitted_per_batch", runtime.max_emitted_per_batch, 1, 65536);
    reader.optional_uint("inline_batch", runtime.inline_batch, 0, 4096);
    if (const ConfigNode* ingest = reader.get("ingest_queue")) {
        MapReader q(*ingest, errors, "ingest_queue");
        q.optional_uint("capacity", runtime.ingest_queue.capacity, 1, max_capacity);
        q.optional_choice("when_full", runtime.ingest_queue.when_full,
                          {{"block", FullPolicy::block}, {"drop_oldest", FullPolicy::drop_oldest}});
        q.finish();
    }
    if (const ConfigNode* egress = reader.get("egress_queue")) {
        MapReader q(*egress, errors, "egress_queue");
        q.optional_uint("capacity", runtime.egress_queue.capacity, 1, max_capacity);
        q.finish();
    }
    reader.finish();
}

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

std::string_view to_string(IdleStrategy idle) noexcept {
    switch (idle) {
        case IdleStrategy::spin:
            return "spin";
        case IdleStrategy::yield:
            return "yield";
        case IdleStrategy::block:
            return "block";
    }
    return "block";
}

std::string_view to_string(SiblingPolicy siblings) noexcept {
    return siblings == SiblingPolicy::together ? "together" : "apart";
}

void parse_cpu_spec(const ConfigNode& node, CpuSpec& out, ConfigErrors& errors) {
    const std::string expected = "auto, or CPU numbers and ranges such as [0, 2-3] or \"0-3,6\"";
    if (node.is_scalar() && node.scalar == "auto" && !node.quoted) {
        out = CpuSpec{};
        return;
    }
    std::string text;
    if (node.is_scalar()) {
        text = node.scalar;
    } else if (node.is_sequence() && !node.items.empty()) {
        for (const auto& item : node.items) {
            if (!item.is_scalar() || item.scalar.find(',') != std::string::npos ||
                !parse_cpu_list(item.scalar)) {
                errors.add(item, "a CPU number or a range such as 2-3");
                return;
            }
            text += (text.empty() ? "" : ",") + item.scalar;
        }
    } else {
        errors.add(node, expected);
        return;
    }
    auto cpus = parse_cpu_list(text);
    if (!cpus) {
        errors.add(node, expected);
        return;
    }
    out.automatic = false;
    out.cpus = std::move(*cpus);
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
