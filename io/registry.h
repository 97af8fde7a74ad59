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
/// For `check`: per MQTT source, when its QoS 1 messages are acknowledged, the in-flight window
/// the broker is asked to respect (max_inflight) and what the engine holds against it, with a
/// note where the two do not fit (a window smaller than a batch, acknowledgements waiting for
/// lkv snapshots).
std::vector<std::string> describe_delivery(const PipelineConfig& config);
/// For `check`: a warning for each MQTT source topic filter that is a shared subscription
/// (`$share/GROUP/...`) when the pipeline keeps state per key. `stateful_stages` names the
/// stages that do (`lkv`, `heuristics`, a transform with `? $last`); empty, there is none. The
/// broker spreads a group's messages over its members, so one key's messages are split across
/// instances and each holds only part of that key's state.
std::vector<std::string> describe_shared_subscriptions(
    const PipelineConfig& config, const std::vector<std::string>& stateful_stages);

}  // namespace edgeflow
