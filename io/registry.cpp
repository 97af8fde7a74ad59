#include "io/registry.h"

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

std::vector<std::string> describe_delivery(const PipelineConfig& config) {
    std::vector<std::string> lines;
    const std::uint64_t batch = config.runtime.batch_size;
    const std::uint64_t batches =
        config.effective_in_flight_batches() +
        std::max<std::uint64_t>(1, (config.runtime.egress_queue.capacity + batch - 1) / batch);
    const std::uint64_t engine_holds = config.runtime.ingest_queue.capacity + batches * batch;
    // The write-behind interval of lkv snapshots, when a stage persists its state.
    std::string persist_interval;
    if (const ConfigNode* stages = config.root.find("stages"); stages != nullptr) {
        for (const ConfigNode& stage : stages->items) {
            const ConfigNode* kind = stage.find("kind");
            const ConfigNode* persist = stage.find("persist");
            if (kind != nullptr && kind->scalar == "lkv" && persist != nullptr) {
                const ConfigNode* interval = persist->find("interval");
                persist_interval = interval != nullptr ? interval->scalar : "1s";
            }
        }
    }
    for (const auto& s : config.sources) {
        if (s.kind != "mqtt") {
            continue;
        }
        ConfigErrors ignored(config.file);  // check reported these already
        const MqttConfig mqtt = MqttConfig::parse(s, true, ignored);
        std::string line = "delivery    " + s.name + ": QoS " + std::to_string(mqtt.qos);
        if (mqtt.qos == 0) {
            lines.push_back(line + ", not acknowledged (at most once)");
            continue;
        }
        line += mqtt.acknowledge == MqttAcknowledge::after_delivery
                    ? ", acknowledged after delivery"
                    : ", acknowledged on receipt (what is in the engine is lost if it dies)";
        line += "; the broker sends at most " + std::to_string(mqtt.max_inflight) +
                " unacknowledged (max_inflight); the engine holds up to " +
                std::to_string(engine_holds) + " messages (ingest queue " +
                std::to_string(config.runtime.ingest_queue.capacity) + " + " +
                std::to_string(batches) + " batches of " + std::to_string(batch) + ")";
        lines.push_back(line);
        if (mqtt.acknowledge != MqttAcknowledge::after_delivery) {
            continue;
        }
        if (mqtt.max_inflight < batch) {
            lines.push_back("note        " + s.name + ": max_inflight " +
                            std::to_string(mqtt.max_inflight) + " is below batch_size " +
                            std::to_string(batch) +
                            ": batches never fill while the broker waits for acknowledgements");
        }
        if (!persist_interval.empty()) {
            lines.push_back("note        " + s.name +
                            ": acknowledgements wait for the lkv snapshot holding the change "
                            "(persist interval " +
                            persist_interval + "): at most " + std::to_string(mqtt.max_inflight) +
                            " messages per interval unless max_inflight is raised");
        }
    }
    return lines;
}

std::vector<std::string> describe_shared_subscriptions(
    const PipelineConfig& config, const std::vector<std::string>& stateful_stages) {
    std::vector<std::string> lines;
    if (stateful_stages.empty()) {
        return lines;
    }
    std::string stages;
    for (const auto& name : stateful_stages) {
        stages += (stages.empty() ? "" : ", ") + name;
    }
    for (const auto& s : config.sources) {
        const ConfigNode* topics = s.node.find("topics");
        if (s.kind != "mqtt" || topics == nullptr) {
            continue;
        }
        std::vector<const ConfigNode*> filters;
        if (topics->is_scalar()) {
            filters.push_back(topics);
        }
        for (const auto& item : topics->items) {
            filters.push_back(&item);
        }
        for (const ConfigNode* filter : filters) {
            if (!filter->scalar.starts_with("$share/")) {
                continue;
            }
            std::string where = config.file;
            if (filter->line > 0) {
                where += ":" + std::to_string(filter->line) + ":" + std::to_string(filter->column);
            }
            lines.push_back("warning     " + where + ": " + filter->path + ": \"" + filter->scalar +
                            "\" is a shared subscription, and this pipeline keeps state per "
                            "key (" +
                            stages +
                            "): the broker spreads the group's messages over its members, so a "
                            "key's messages are split across instances and each sees only part "
                            "of them; give each instance its own keys instead (a topic filter "
                            "per node, ${env:NODE_NAME})");
        }
    }
    return lines;
}

}  // namespace edgeflow

namespace edgeflow {

std::vector<std::unique_ptr<MqttDatasetFeed>> build_dataset_feeds(
    const PipelineConfig& config, const std::vector<transform::DatasetSource>& specs,
    const transform::DatasetRegistry& datasets, ConfigErrors& errors) {
    std::vector<std::unique_ptr<MqttDatasetFeed>> feeds;
    for (const auto& spec : specs) {
        const auto dataset = datasets.find(spec.name);
        if (spec.mqtt == nullptr || dataset == datasets.end()) {
            continue;
        }
        EndpointConfig endpoint;
        endpoint.name = "dataset-" + spec.name;
        endpoint.kind = "mqtt";
        endpoint.node = *spec.mqtt;
        endpoint.base_dir = std::filesystem::path(config.file).parent_path().string();
        auto parsed = MqttConfig::parse(endpoint, true, errors);
        feeds.push_back(std::make_unique<MqttDatasetFeed>(dataset->second, std::move(parsed),
                                                          spec.load_timeout_ms));
    }
    if (!errors.empty()) {
        feeds.clear();
    }
    return feeds;
}

}  // namespace edgeflow
