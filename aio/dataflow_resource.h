// Azure IoT Operations `Dataflow` resources (apiVersion connectivity.iotoperations.azure.com/v1)
// read as edgeflow pipelines.
//
// convert_dataflow() turns the Dataflow of a set of YAML documents into the native pipeline
// document, which parse_pipeline(), the stage registry and the io registry then read unchanged:
//
//   Source                 one source (kind mqtt, or file) with `topics` from dataSources
//   BuiltInTransformation  one `kind: transform` stage: datasets and map rules as written,
//                          filter rules with `expression` as `drop_when`
//   Destination            one destination with `topic` = dataDestination
//
// An endpointRef names a document of the same files: an AIO DataflowEndpoint (endpointType Mqtt)
// or an edgeflow Endpoint (apiVersion edgeflow/v1, kind Endpoint, spec: {kind: mqtt|file, ...});
// `default` without such a document is the local broker, default_broker. A dataset key names an
// edgeflow Dataset document (apiVersion edgeflow/v1, kind Dataset, spec: {file: ...}).
//
// Nodes are copied from the user's documents, so every later error still points at the line and
// column of the field it is about. What AIO has and edgeflow does not support is an error that
// says why and what to write instead; where edgeflow accepts something but runs it differently
// from AIO, or accepts what AIO would refuse, it says so in a note. docs/dataflow-resources.md
// lists both. Pure configuration: no io or stage code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow {

/// The broker `endpointRef: default` stands for when no endpoint document is named `default`.
inline constexpr std::string_view default_broker = "mqtt://localhost:1883";

/// Something `edgeflow check` reports about an accepted resource.
struct ConfigNote {
    std::string file;
    int line = 0;
    int column = 0;
    std::string key;  ///< key path, e.g. `spec.operations[0].sourceSettings.endpointRef`
    std::string text;

    /// `FILE:LINE:COL: KEY: TEXT`
    std::string to_string() const;
};

struct DataflowPipeline {
    ConfigNode pipeline;                 ///< the native pipeline document
    std::string name;                    ///< the Dataflow's metadata.name
    std::optional<ConfigNote> disabled;  ///< set for `mode: Disabled`: why it must not run
    std::vector<ConfigNote> notes;       ///< in file order
};

/// True when `document` is a Kubernetes-style resource (it has `apiVersion` or `kind`) rather
/// than a native pipeline file, which has neither.
bool is_resource_document(const ConfigNode& document) noexcept;

/// Converts the one Dataflow in `documents` (endpoints and datasets may be among them too) and
/// resolves its references in `documents` and `endpoint_documents` (the --endpoints file, which
/// may hold endpoints and datasets only). Every problem is added to `errors`; the pipeline is
/// returned even then, so the native parsers can report the rest. Nullopt when there is no
/// Dataflow to convert.
std::optional<DataflowPipeline> convert_dataflow(const std::vector<ConfigNode>& documents,
                                                 const std::vector<ConfigNode>& endpoint_documents,
                                                 ConfigErrors& errors);

}  // namespace edgeflow
