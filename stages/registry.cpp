#include "stages/registry.h"

#include <filesystem>

#include "stages/heuristics/heuristics_stage.h"
#include "stages/keyed/order_stage.h"
#include "stages/keyed/partition_stage.h"
#include "stages/parse_stage.h"
#include "stages/route_stage.h"
#include "stages/serialize_stage.h"
#include "stages/transform_stage.h"

#include "core/config/map_reader.h"
#include "lang/transform/transform.h"

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

// The partition key as a formula; null for the input topic.
std::shared_ptr<const transform::Formula> partition_formula(const transform::PartitionKeySpec& key,
                                                            ConfigErrors& errors) {
    if (key.inputs.empty()) {
        return nullptr;
    }
    transform::FormulaSpec spec{key.inputs, key.expression, key.node};
    auto f = transform::Formula::compile(spec, "the partition key", nullptr, errors);
    return f ? std::make_shared<const transform::Formula>(std::move(*f)) : nullptr;
}

}  // namespace

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors, StageExtras* extras) {
    std::vector<std::string> source_names;
    for (const auto& source : config.sources) {
        source_names.push_back(source.name);
    }
    const std::size_t shards = config.effective_shards();
    // Destinations by name, for the stages that emit (never the dead-letter one).
    const auto destination_index = [&](std::string_view name) -> int {
        for (std::size_t i = 0; i < config.destinations.size(); ++i) {
            if (config.destinations[i].name == name && !config.destinations[i].dead_letter) {
                return static_cast<int>(i);
            }
        }
        return -1;
    };
    std::vector<bool> emitted_only(config.destinations.size(), false);
    std::vector<std::shared_ptr<LkvStore>> lkv_stores;

    std::vector<std::unique_ptr<AnyStage>> stages;
    ParseConfig parse;
    parse.max_payload_bytes = config.runtime.max_payload_bytes;
    stages.push_back(make_stage(ParseStage(parse, worker_slots)));

    std::vector<std::pair<std::string, std::string>> dataset_files;
    const auto datasets = read_datasets(config, dataset_files, errors);
    const auto key = transform::parse_partition_key(config.root.find("partition_key"), errors);
    auto event_time = EventTimeConfig::parse(config.root.find("event_time"), errors);
    if (config.replay) {
        event_time.clock = ClockMode::event;  // a replay's timers follow the data
    }
    bool partitioned = false;
    const LkvStore* section_lkv = nullptr;  // the lkv stage of the current stateful section
    // Stateful stages start with the partition and order stages, once.
    const auto begin_stateful = [&] {
        if (partitioned) {
            return;
        }
        partitioned = true;
        std::shared_ptr<const transform::Formula> time;
        if (event_time.field) {
            auto f =
                transform::Formula::compile(*event_time.field, "event_time.field", nullptr, errors);
            if (f) {
                time = std::make_shared<const transform::Formula>(std::move(*f));
            }
        }
        stages.push_back(make_stage(PartitionStage(partition_formula(key, errors), std::move(time),
                                                   event_time.format, worker_slots)));
        stages.push_back(make_stage(OrderStage(event_time, shards)));
    };
    constexpr std::string_view kinds = "a stage kind: transform, lkv or heuristics";
    if (const ConfigNode* list = config.root.find("stages")) {
        if (!list->is_sequence()) {
            errors.add(*list, "a list of stages, each with a kind (transform, lkv, heuristics)");
        } else {
            for (const ConfigNode& item : list->items) {
                const ConfigNode* kind = item.find("kind");
                if (kind == nullptr) {
                    errors.missing(item, "kind", std::string(kinds));
                    continue;
                }
                if (kind->scalar == "lkv") {
                    begin_stateful();
                    auto lkv_config = LkvConfig::parse(item, errors);
                    if (lkv_config.persist) {
                        const int index = destination_index(lkv_config.persist->destination);
                        if (index < 0) {
                            errors.add(*lkv_config.persist->node.find("destination"),
                                       "the name of a destination (not the dead-letter one)",
                                       "\"" + lkv_config.persist->destination + "\"");
                        } else {
                            lkv_config.persist->destination_index = static_cast<std::size_t>(index);
                            emitted_only[static_cast<std::size_t>(index)] = true;
                        }
                    }
                    auto store = std::make_shared<LkvStore>(std::move(lkv_config), shards);
                    section_lkv = store.get();
                    lkv_stores.push_back(store);
                    stages.push_back(make_stage(LkvStage(std::move(store))));
                    continue;
                }
                if (kind->scalar == "heuristics") {
                    begin_stateful();
                    auto built = HeuristicsStage::build(item, destination_index, section_lkv,
                                                        shards, event_time.clock, errors);
                    if (built) {
                        for (const auto target : built->targets()) {
                            if (target >= 0) {
                                emitted_only[static_cast<std::size_t>(target)] = true;
                            }
                        }
                        stages.push_back(make_stage(std::move(*built)));
                    }
                    continue;
                }
                if (kind->scalar != "transform") {
                    errors.add(*kind, std::string(kinds));
                    continue;
                }
                section_lkv = nullptr;  // a stateless stage ends the stateful section
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
    if (!partitioned && config.root.find("event_time") != nullptr) {
        errors.add(*config.root.find("event_time"),
                   "event_time only with stateful stages (lkv, heuristics) to use it");
    }
    // Loaded after every transform registered its indexes, so they are built with the records.
    for (const auto& [name, file] : dataset_files) {
        if (Status s = datasets.at(name)->load_file(file); !s) {
            const ConfigNode* node = config.root.find("datasets")->find(name);
            errors.add(*node, "a readable dataset of JSON objects", s.message());
        }
    }

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
            targets.push_back({i, std::move(topic).value(), emitted_only[i]});
        }
    }
    if (extras != nullptr) {
        extras->datasets = datasets;
        extras->emitted_only.clear();
        for (std::size_t i = 0; i < emitted_only.size(); ++i) {
            if (emitted_only[i]) {
                extras->emitted_only.push_back(i);
            }
        }
        extras->lkv_stores = std::move(lkv_stores);
    }
    stages.push_back(make_stage(RouteStage(std::move(targets))));
    stages.push_back(make_stage(
        SerializeStage(std::move(dead_letter), std::move(source_names), std::move(counts))));
    return stages;
}

}  // namespace edgeflow
