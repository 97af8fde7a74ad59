#include "stages/registry.h"

#include <filesystem>

#include "stages/parse_stage.h"
#include "stages/route_stage.h"
#include "stages/serialize_stage.h"
#include "stages/transform_stage.h"

#include "core/config/map_reader.h"
#include "core/transform/transform.h"

namespace edgeflow {
namespace {

const ConfigNode& topic_node(const EndpointConfig& destination) {
    const ConfigNode* topic = destination.node.find("topic");
    return topic != nullptr ? *topic : destination.node;
}

// The pipeline's `datasets:` block: name → records from an NDJSON file.
transform::DatasetRegistry read_datasets(const PipelineConfig& config,
                                         std::vector<std::pair<std::string, std::string>>& files,
                                         ConfigErrors& errors) {
    transform::DatasetRegistry datasets;
    const ConfigNode* block = config.root.find("datasets");
    if (block == nullptr) {
        return datasets;
    }
    if (!block->is_map()) {
        errors.add(*block, "a map of dataset name to {file: records.jsonl}");
        return datasets;
    }
    for (const auto& [name, node] : block->members) {
        MapReader reader(node, errors, "a dataset");
        if (!reader.ok()) {
            continue;
        }
        std::string file;
        std::uint64_t max_records = 1'000'000;
        reader.optional_string("file", file, "an NDJSON file of records, one object per line");
        const ConfigNode* mqtt = reader.get("mqtt");  // read by the io registry
        reader.get("load_timeout_ms");                // likewise
        reader.optional_uint("max_records", max_records, 1, 100'000'000);
        reader.finish();
        if (file.empty() == (mqtt == nullptr)) {
            errors.add(node,
                       "exactly one of file (NDJSON records) or mqtt (a retained message with "
                       "the records)",
                       file.empty() ? "neither" : "both");
            continue;
        }
        if (!file.empty()) {
            EndpointConfig where;
            where.base_dir = std::filesystem::path(config.file).parent_path().string();
            files.emplace_back(name, where.resolve_path(file));
        }
        datasets.emplace(name, std::make_shared<transform::Dataset>(name, max_records));
    }
    return datasets;
}

}  // namespace

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors,
                                                    transform::DatasetRegistry* datasets_out) {
    std::vector<RouteTarget> targets;
    std::optional<DeadLetterTarget> dead_letter;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        const auto& destination = config.destinations[i];
        auto topic = TopicTemplate::parse(destination.topic);
        if (!topic) {
            errors.add(topic_node(destination),
                       "a topic template: text with {topic}, {topic.N} or a payload field such as "
                       "{deviceId}",
                       topic.error());
            continue;
        }
        if (destination.dead_letter) {
            if (topic->reads_payload()) {
                errors.add(topic_node(destination),
                           "a dead-letter topic built from text, {topic} and {topic.N} only "
                           "(a rejected payload may be unreadable)",
                           "\"" + destination.topic + "\"");
                continue;
            }
            dead_letter = DeadLetterTarget{i, std::move(topic).value()};
        } else {
            targets.push_back({i, std::move(topic).value()});
        }
    }
    std::vector<std::string> source_names;
    for (const auto& source : config.sources) {
        source_names.push_back(source.name);
    }

    std::vector<std::unique_ptr<AnyStage>> stages;
    ParseConfig parse;
    parse.max_payload_bytes = config.runtime.max_payload_bytes;
    stages.push_back(make_stage(ParseStage(parse, worker_slots)));

    std::vector<std::pair<std::string, std::string>> dataset_files;
    const auto datasets = read_datasets(config, dataset_files, errors);
    const auto key = transform::parse_partition_key(config.root.find("partition_key"), errors);
    if (const ConfigNode* list = config.root.find("stages")) {
        if (!list->is_sequence()) {
            errors.add(*list, "a list of stages, each with a kind (transform)");
        } else {
            for (const ConfigNode& item : list->items) {
                const ConfigNode* kind = item.find("kind");
                if (kind == nullptr || kind->scalar != "transform") {
                    if (kind == nullptr) {
                        errors.missing(item, "kind", "the stage kind: transform");
                    } else {
                        errors.add(*kind, "a stage kind: transform");
                    }
                    continue;
                }
                const auto spec = transform::parse_transform_spec(item, errors);
                auto compiled = transform::Transform::compile(spec, key, datasets, errors);
                if (!compiled) {
                    continue;
                }
                auto shared = std::make_shared<transform::Transform>(std::move(*compiled));
                if (shared->uses_last()) {
                    stages.push_back(make_stage(KeyedTransformStage(shared, worker_slots)));
                } else {
                    stages.push_back(make_stage(TransformStage(shared, worker_slots)));
                }
            }
        }
    }
    // Loaded after every transform registered its indexes, so they are built with the records.
    for (const auto& [name, file] : dataset_files) {
        if (Status s = datasets.at(name)->load_file(file); !s) {
            const ConfigNode* node = config.root.find("datasets")->find(name);
            errors.add(*node, "a readable dataset of JSON objects", s.message());
        }
    }
    if (datasets_out != nullptr) {
        *datasets_out = datasets;
    }
    stages.push_back(make_stage(RouteStage(std::move(targets))));
    stages.push_back(make_stage(
        SerializeStage(std::move(dead_letter), std::move(source_names), std::move(counts))));
    return stages;
}

}  // namespace edgeflow
