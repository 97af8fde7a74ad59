#include "stages/registry.h"

#include "lang/transform/dataset_source.h"
#include "lang/transform/transform.h"
#include "stages/heuristics/heuristics_stage.h"
#include "stages/keyed/order_stage.h"
#include "stages/keyed/partition_stage.h"
#include "stages/parse_stage.h"
#include "stages/route_stage.h"
#include "stages/serialize_stage.h"
#include "stages/transform_stage.h"

namespace edgeflow {
namespace {

constexpr StageKind kinds[] = {
    {"transform", false, build_transform_stage},
    {"lkv", true, build_lkv_stage},
    {"heuristics", true, build_heuristics_stage},
};

const ConfigNode& topic_node(const EndpointConfig& destination) {
    const ConfigNode* topic = destination.node.find("topic");
    return topic != nullptr ? *topic : destination.node;
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

// The stages every stateful section starts from: partition (key, shard, event time) and order.
void add_partition_and_order(BuildContext& ctx, std::vector<std::unique_ptr<AnyStage>>& stages) {
    std::shared_ptr<const transform::Formula> time;
    if (ctx.event_time.field) {
        auto f = transform::Formula::compile(*ctx.event_time.field, "event_time.field", nullptr,
                                             ctx.errors);
        if (f) {
            time = std::make_shared<const transform::Formula>(std::move(*f));
        }
    }
    stages.push_back(make_stage(PartitionStage(partition_formula(ctx.key, ctx.errors),
                                               std::move(time), ctx.event_time.format)));
    stages.push_back(make_stage(OrderStage(ctx.event_time, ctx.shards)));
}

// Route and serialize: topics for every output destination, and the dead-letter one.
void add_route_and_serialize(BuildContext& ctx, std::shared_ptr<DeadLetterCounts> counts,
                             std::vector<std::unique_ptr<AnyStage>>& stages) {
    const PipelineConfig& config = ctx.config;
    std::vector<RouteTarget> targets;
    std::optional<DeadLetterTarget> dead_letter;
    for (std::size_t i = 0; i < config.destinations.size(); ++i) {
        const auto& destination = config.destinations[i];
        auto topic = TopicTemplate::parse(destination.topic);
        if (!topic) {
            ctx.errors.add(topic_node(destination),
                           "a topic template: text with {topic}, {topic.N} or a payload field "
                           "such as {deviceId}",
                           topic.error());
            continue;
        }
        if (destination.dead_letter) {
            if (topic->reads_payload()) {
                ctx.errors.add(topic_node(destination),
                               "a dead-letter topic built from text, {topic} and {topic.N} only "
                               "(a rejected payload may be unreadable)",
                               "\"" + destination.topic + "\"");
                continue;
            }
            dead_letter = DeadLetterTarget{i, std::move(topic).value()};
        } else {
            targets.push_back({i, std::move(topic).value(), ctx.emitted_only[i]});
        }
    }
    std::vector<std::string> source_names;
    for (const auto& source : config.sources) {
        source_names.push_back(source.name);
    }
    std::optional<std::size_t> dead_letter_index;
    if (dead_letter) {
        dead_letter_index = dead_letter->destination;
    }
    stages.push_back(make_stage(RouteStage(std::move(targets), dead_letter_index)));
    stages.push_back(make_stage(
        SerializeStage(std::move(dead_letter), std::move(source_names), std::move(counts))));
}

// The names of the kinds (only the stateful ones, when asked), separated by ", " and, before
// the last, by `last`.
std::string kind_names(bool stateful_only, std::string_view last) {
    std::vector<std::string_view> names;
    for (const auto& k : kinds) {
        if (k.stateful || !stateful_only) {
            names.push_back(k.name);
        }
    }
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        text += i == 0 ? "" : (i + 1 == names.size() ? last : std::string_view(", "));
        text += names[i];
    }
    return text;
}

}  // namespace

std::span<const StageKind> stage_kinds() noexcept {
    return kinds;
}

std::string stage_kind_names() {
    return kind_names(false, " or ");
}

BuiltStages build_stages(const PipelineConfig& config, std::shared_ptr<DeadLetterCounts> counts,
                         ConfigErrors& errors) {
    BuildContext ctx{config, errors};
    ctx.shards = config.effective_shards();
    ctx.emitted_only.assign(config.destinations.size(), false);
    auto dataset_sources = transform::parse_datasets(config, errors);
    for (const auto& spec : dataset_sources) {
        ctx.datasets.emplace(spec.name,
                             std::make_shared<transform::Dataset>(spec.name, spec.max_records));
    }
    ctx.key = transform::parse_partition_key(config.root.find("partition_key"), errors);
    ctx.event_time = EventTimeConfig::parse(config.root.find("event_time"), errors);
    if (config.replay) {
        ctx.event_time.clock = ClockMode::event;  // a replay's timers follow the data
    }

    BuiltStages built;
    auto& stages = built.stages;
    ParseConfig parse;
    parse.max_payload_bytes = config.runtime.max_payload_bytes;
    stages.push_back(make_stage(ParseStage(parse)));

    bool partitioned = false;
    if (const ConfigNode* list = config.root.find("stages")) {
        if (!list->is_sequence()) {
            errors.add(*list,
                       "a list of stages, each with a kind (" + kind_names(false, ", ") + ")");
        } else {
            for (const ConfigNode& item : list->items) {
                const ConfigNode* kind_node = item.find("kind");
                if (kind_node == nullptr) {
                    errors.missing(item, "kind", "a stage kind: " + stage_kind_names());
                    continue;
                }
                const StageKind* kind = nullptr;
                for (const auto& k : kinds) {
                    if (k.name == kind_node->scalar) {
                        kind = &k;
                    }
                }
                if (kind == nullptr) {
                    errors.add(*kind_node, "a stage kind: " + stage_kind_names());
                    continue;
                }
                if (kind->stateful && !partitioned) {
                    partitioned = true;
                    add_partition_and_order(ctx, stages);
                } else if (!kind->stateful) {
                    ctx.section_lkv = nullptr;  // a stateless stage ends the stateful section
                }
                if (auto stage = kind->build(item, ctx)) {
                    if (const ConfigNode* name = item.find("name");
                        name != nullptr && name->is_scalar()) {
                        stage->name = name->scalar;
                    }
                    stages.push_back(std::move(stage));
                }
            }
        }
    }
    if (!partitioned && config.root.find("event_time") != nullptr) {
        errors.add(*config.root.find("event_time"), "event_time only with stateful stages (" +
                                                        kind_names(true, ", ") + ") to use it");
    }
    // Loaded after every transform registered its indexes, so they are built with the records.
    for (const auto& spec : dataset_sources) {
        if (spec.file.empty()) {
            continue;  // loaded from MQTT by the io registry's feed
        }
        if (Status s = ctx.datasets.at(spec.name)->load_file(spec.file); !s) {
            errors.add(*spec.node, "a readable dataset of JSON objects", s.message());
        }
    }
    add_route_and_serialize(ctx, std::move(counts), stages);
    built.datasets = std::move(ctx.datasets);
    built.dataset_sources = std::move(dataset_sources);
    built.lkv_stores = std::move(ctx.lkv_stores);
    built.emitted_only = std::move(ctx.emitted_only);
    return built;
}

}  // namespace edgeflow
