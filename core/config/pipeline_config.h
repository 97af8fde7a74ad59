// PipelineConfig: a pipeline file (version 1) read and checked — sources, destinations
// (with at most one dead_letter destination) and the runtime block (core/config/runtime_config.h).
//
// Core checks the structure and the keys every endpoint has (name, kind, topic, dead_letter);
// the io registry checks each kind's own keys from EndpointConfig::node, and the stage
// registry checks the stage blocks. `edgeflow check` runs all three and prints every error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/config/map_reader.h"
#include "core/config/runtime_config.h"

namespace edgeflow {

/// One source or destination: the keys all kinds share, plus its whole map for the kind.
struct EndpointConfig {
    std::string name;
    std::string kind;
    std::string topic;         ///< destinations: topic template (default "{topic}")
    bool dead_letter = false;  ///< destinations: receives rejected messages instead
    ConfigNode node;           ///< the endpoint's map, for the kind's own parser
    std::string base_dir;      ///< directory of the pipeline file: relative paths start here

    /// `path` as given when absolute (or `-`), else relative to the pipeline file's directory.
    std::string resolve_path(const std::string& path) const;
};

struct PipelineConfig {
    std::string file;
    std::string name;
    std::vector<EndpointConfig> sources;
    std::vector<EndpointConfig> destinations;  ///< includes the dead-letter one
    std::optional<std::size_t> dead_letter;    ///< index into destinations
    RuntimeConfig runtime;
    ConfigNode root;  ///< the whole document, for stage blocks
    /// Replaying recorded input (`edgeflow test`): stateful stages run on the event clock.
    bool replay = false;

    /// Worker count after resolving 0 (`auto`) to the number of worker CPUs: the `cpus` list,
    /// or with `cpus: auto` the CPUs the automatic layout gives the workers here.
    std::size_t effective_workers() const noexcept;
    std::size_t effective_in_flight_batches() const noexcept;
    std::size_t effective_shards() const noexcept;
};

/// Destinations a pipeline may have (the dead-letter one included): each message carries one
/// routing bit per destination (Message::routes).
inline constexpr std::size_t max_destinations = 64;

/// Top-level blocks a pipeline file may have. A stage with a block of its own adds it here.
inline constexpr std::string_view pipeline_blocks[] = {
    "version", "name",     "sources",       "destinations", "runtime",
    "stages",  "datasets", "partition_key", "event_time"};

/// Reads the structure of a pipeline from a parsed document; errors go to `errors`.
PipelineConfig parse_pipeline(const ConfigNode& root, ConfigErrors& errors);

/// Marks the keys core reads for every source (name, kind) or destination (also topic and
/// dead_letter) as known, so a kind's MapReader does not flag them.
void mark_source_keys(MapReader& reader);
void mark_destination_keys(MapReader& reader);

/// Number of CPUs in this process's affinity mask (at least 1).
std::size_t allowed_cpu_count() noexcept;

}  // namespace edgeflow
