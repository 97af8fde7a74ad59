// The io registry: builds the sources and sinks a pipeline names, by kind.
//
//   sources:       file, mqtt
//   destinations:  file, mqtt, null
//
// Each kind parses and checks its own keys (unknown keys are errors). Build functions add every
// problem to `errors` and return endpoints only when there were none.
#pragma once

#include "io/mqtt/mqtt_dataset_feed.h"
#include "lang/transform/dataset.h"
#include "lang/transform/dataset_source.h"

#include <memory>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/endpoint.h"

namespace edgeflow {

std::vector<std::unique_ptr<Source>> build_sources(const PipelineConfig& config,
                                                   ConfigErrors& errors);
std::vector<std::unique_ptr<Sink>> build_sinks(const PipelineConfig& config, ConfigErrors& errors);

/// A feed for every dataset of the `datasets:` block that is loaded from MQTT: `specs` as
/// transform::parse_datasets read them, `datasets` the Datasets the stage registry made.
std::vector<std::unique_ptr<MqttDatasetFeed>> build_dataset_feeds(
    const PipelineConfig& config, const std::vector<transform::DatasetSource>& specs,
    const transform::DatasetRegistry& datasets, ConfigErrors& errors);

/// One line per endpoint for `edgeflow check`: "file telemetry: examples/... (envelope)".
std::vector<std::string> describe_endpoints(const PipelineConfig& config);

}  // namespace edgeflow
