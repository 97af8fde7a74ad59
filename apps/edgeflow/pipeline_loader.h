// Loading a pipeline for a subcommand: read the YAML, check the structure, build the stages,
// sources and sinks — collecting every error, so `check` and `run` report the same problems.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/endpoint.h"
#include "core/stage.h"
#include "io/mqtt_dataset_feed.h"

namespace edgeflow::app {

struct LoadedPipeline {
    PipelineConfig config;
    std::vector<std::unique_ptr<AnyStage>> stages;
    std::vector<std::unique_ptr<Source>> sources;
    std::vector<std::unique_ptr<Sink>> sinks;
    std::shared_ptr<DeadLetterCounts> dead_letters;
    /// Datasets kept loaded from retained MQTT messages: started before the sources.
    std::vector<std::unique_ptr<MqttDatasetFeed>> dataset_feeds;
};

/// The pipeline, or nullopt with `errors` holding every problem found.
std::optional<LoadedPipeline> load_pipeline(const std::string& path, ConfigErrors& errors);

}  // namespace edgeflow::app
