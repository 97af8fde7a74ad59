#include "io/registry.h"

#include <cstdlib>
#include <filesystem>

#include "core/config/map_reader.h"
#include "io/file/file_sink.h"
#include "io/file/file_source.h"
#include "io/mqtt/mqtt_sink.h"
#include "io/mqtt/mqtt_source.h"

namespace edgeflow {
namespace {

const ConfigNode& kind_node(const EndpointConfig& endpoint) {
    const ConfigNode* kind = endpoint.node.find("kind");
    return kind != nullptr ? *kind : endpoint.node;
}

}  // namespace

std::vector<std::unique_ptr<Source>> build_sources(const PipelineConfig& config,
                                                   ConfigErrors& errors) {
    std::vector<std::unique_ptr<Source>> sources;
    for (std::size_t i = 0; i < config.sources.size(); ++i) {
        const auto& endpoint = config.sources[i];
        const auto index = static_cast<std::uint32_t>(i);
        if (endpoint.kind == "file") {
            auto parsed = FileSourceConfig::parse(endpoint, errors);
            sources.push_back(std::make_unique<FileSource>(endpoint.name, index, std::move(parsed),
                                                           config.runtime.max_payload_bytes));
        } else if (endpoint.kind == "mqtt") {
            auto parsed = MqttConfig::parse(endpoint, true, errors);
            sources.push_back(
                std::make_unique<MqttSource>(endpoint.name, index, std::move(parsed)));
        } else if (!endpoint.kind.empty()) {
            errors.add(kind_node(endpoint), "a source kind: file or mqtt");
        }
    }
    if (!errors.empty()) {
        sources.clear();
    }
    return sources;
}

std::vector<std::unique_ptr<Sink>> build_sinks(const PipelineConfig& config, ConfigErrors& errors) {
    std::vector<std::unique_ptr<Sink>> sinks;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        const auto& endpoint = config.destinations[i];
        if (endpoint.kind == "file") {
            auto parsed = FileSinkConfig::parse(endpoint, errors);
            sinks.push_back(std::make_unique<FileSink>(endpoint.name, i, endpoint.dead_letter,
                                                       std::move(parsed)));
        } else if (endpoint.kind == "mqtt") {
            auto parsed = MqttConfig::parse(endpoint, false, errors);
            sinks.push_back(std::make_unique<MqttSink>(endpoint.name, i, endpoint.dead_letter,
                                                       std::move(parsed)));
        } else if (endpoint.kind == "null") {
            MapReader reader(endpoint.node, errors, "a null destination");
            mark_destination_keys(reader);
            reader.finish();
            sinks.push_back(std::make_unique<NullSink>(endpoint.name, i, endpoint.dead_letter));
        } else if (!endpoint.kind.empty()) {
            errors.add(kind_node(endpoint), "a destination kind: file, mqtt or null");
            continue;
        }
    }
    if (!errors.empty()) {
        sinks.clear();
    }
    return sinks;
}

std::vector<std::string> describe_endpoints(const PipelineConfig& config) {
    std::vector<std::string> lines;
    for (const auto& s : config.sources) {
        std::string line = "source      " + s.name + " (" + s.kind + ")";
        if (const ConfigNode* path = s.node.find("path")) {
            line.append(" ").append(s.resolve_path(path->scalar));
        }
        if (const ConfigNode* broker = s.node.find("broker")) {
            line += " " + broker->scalar;
        }
        if (const ConfigNode* topics = s.node.find("topics")) {
            line += " topics:";
            if (topics->is_scalar()) {
                line += " " + topics->scalar;
            }
            for (const auto& t : topics->items) {
                line += " " + t.scalar;
            }
        }
        lines.push_back(line);
    }
    for (const auto& d : config.destinations) {
        std::string line = std::string(d.dead_letter ? "dead letter " : "destination ") + d.name +
                           " (" + d.kind + ")";
        if (const ConfigNode* path = d.node.find("path")) {
            line.append(" ").append(d.resolve_path(path->scalar));
        }
        if (const ConfigNode* broker = d.node.find("broker")) {
            line += " " + broker->scalar;
        }
        line += " topic: " + d.topic;
        lines.push_back(line);
    }
    return lines;
}

}  // namespace edgeflow

namespace edgeflow {

std::vector<std::unique_ptr<MqttDatasetFeed>> build_dataset_feeds(
    const PipelineConfig& config, const transform::DatasetRegistry& datasets,
    ConfigErrors& errors) {
    std::vector<std::unique_ptr<MqttDatasetFeed>> feeds;
    const ConfigNode* block = config.root.find("datasets");
    if (block == nullptr || !block->is_map()) {
        return feeds;
    }
    for (const auto& [name, node] : block->members) {
        const ConfigNode* mqtt = node.find("mqtt");
        const auto dataset = datasets.find(name);
        if (mqtt == nullptr || dataset == datasets.end()) {
            continue;
        }
        EndpointConfig endpoint;
        endpoint.name = "dataset-" + name;
        endpoint.kind = "mqtt";
        endpoint.node = *mqtt;
        endpoint.base_dir = std::filesystem::path(config.file).parent_path().string();
        auto parsed = MqttConfig::parse(endpoint, true, errors);
        std::uint64_t timeout_ms = 10000;
        if (const ConfigNode* timeout = node.find("load_timeout_ms")) {
            char* end = nullptr;
            timeout_ms = std::strtoull(timeout->scalar.c_str(), &end, 10);
            if (!timeout->is_scalar() || timeout->scalar.empty() || *end != '\0' ||
                timeout_ms > 600000) {
                errors.add(*timeout, "milliseconds to wait for the first load, 0 to 600000");
                continue;
            }
        }
        feeds.push_back(
            std::make_unique<MqttDatasetFeed>(dataset->second, std::move(parsed), timeout_ms));
    }
    if (!errors.empty()) {
        feeds.clear();
    }
    return feeds;
}

}  // namespace edgeflow
