// Loading a pipeline for a subcommand: read the YAML, check the structure, build the stages,
// sources and sinks — collecting every error, so `check` and `run` report the same problems.
//
// The file is a native pipeline file, or an Azure IoT Operations Dataflow resource (with its
// endpoint and dataset documents), told apart by the documents themselves: a resource has
// `apiVersion` and `kind`. A Dataflow is converted to the native pipeline first
// (aio/dataflow_resource.h); its endpointRefs and dataset keys may also name documents
// of an endpoints file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/endpoint.h"
#include "core/stage.h"
#include "io/mqtt/mqtt_dataset_feed.h"
#include "io/mqtt/mqtt_snapshot_loader.h"

namespace edgeflow::app {

struct LoadedPipeline {
    PipelineConfig config;
    std::vector<std::unique_ptr<AnyStage>> stages;
    std::vector<std::unique_ptr<Source>> sources;
    std::vector<std::unique_ptr<Sink>> sinks;
    std::shared_ptr<DeadLetterCounts> dead_letters;
    /// Datasets kept loaded from retained MQTT messages: started before the sources.
    std::vector<std::unique_ptr<MqttDatasetFeed>> dataset_feeds;
    /// LKV stores persisted on MQTT: read back from their retained snapshots before the start.
    std::vector<std::unique_ptr<MqttSnapshotLoader>> snapshot_loaders;
    /// What `check` says besides the errors, one line each (FILE:LINE:COL: KEY: text): how a
    /// Dataflow resource runs where it differs from AIO.
    std::vector<std::string> notes;
    /// Why this pipeline must not run (a Dataflow with `mode: Disabled`), or empty.
    std::string disabled;
};

/// The pipeline, or nullopt with `errors` holding every problem found. `endpoints_file`, when
/// not empty, holds more endpoint and dataset documents for a Dataflow resource. `runtime`,
/// when given, replaces the file's runtime block before the stages are built (`edgeflow tune`
/// tries settings this way). `replay` runs the stateful stages on the event clock (for
/// `edgeflow test`).
std::optional<LoadedPipeline> load_pipeline(const std::string& path, ConfigErrors& errors,
                                            std::string_view endpoints_file = {},
                                            const RuntimeConfig* runtime = nullptr,
                                            bool replay = false);

/// Prints every problem load_pipeline found, one per line, then "PATH: N problem(s)", on
/// stderr: what each command says when a pipeline does not load.
void print_load_errors(const std::string& path, const ConfigErrors& errors);

}  // namespace edgeflow::app
