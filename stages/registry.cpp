#include "stages/registry.h"

#include "stages/parse_stage.h"
#include "stages/route_stage.h"
#include "stages/serialize_stage.h"

namespace edgeflow {
namespace {

const ConfigNode& topic_node(const EndpointConfig& destination) {
    const ConfigNode* topic = destination.node.find("topic");
    return topic != nullptr ? *topic : destination.node;
}

}  // namespace

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors) {
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
    stages.push_back(make_stage(RouteStage(std::move(targets))));
    stages.push_back(make_stage(
        SerializeStage(std::move(dead_letter), std::move(source_names), std::move(counts))));
    return stages;
}

}  // namespace edgeflow
