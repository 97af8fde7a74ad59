// PipelineConfig: a pipeline file (version 1) read and checked — sources, destinations
// (with at most one dead_letter destination) and the runtime block.
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

namespace edgeflow {

enum class FullPolicy { block, drop_oldest };

struct IngestQueueConfig {
    std::uint64_t capacity = 8192;  ///< messages
    FullPolicy when_full = FullPolicy::block;
};

struct EgressQueueConfig {
    std::uint64_t capacity = 8192;  ///< messages (rounded up to whole batches)
};

/// A set of CPUs from the config: `auto`, or the CPU numbers listed (sorted, each once).
struct CpuSpec {
    bool automatic = true;
    std::vector<int> cpus;
};

/// How `auto` orders the CPUs of one physical core (hyperthread siblings) among workers.
enum class SiblingPolicy { apart, together };

/// What the engine's own threads do when their queue is empty.
enum class IdleStrategy { spin, yield, block };

struct HttpConfig {
    bool enabled = true;
    std::string host = "127.0.0.1";
    int port = 9464;
    bool explicit_listen = false;  ///< written in the file: failing to listen is a start-up error
};

struct RuntimeConfig {
    std::uint64_t workers = 0;  ///< flow-graph threads; 0 = one per worker CPU
    CpuSpec cpus;               ///< CPUs the workers run on
    CpuSpec io_cpus;            ///< CPUs of the MQTT, queue-draining and HTTP threads
    bool pin = false;           ///< each worker on one CPU of `cpus`, instead of all of them
    SiblingPolicy siblings = SiblingPolicy::apart;
    std::uint64_t batch_size = 64;
    std::uint64_t max_in_flight_batches = 0;  ///< batches inside the graph; 0 = 4 per worker
    std::uint64_t max_payload_bytes = 1 << 20;
    std::uint64_t shards = 0;  ///< state shards of the stateful stages; 0 = one per worker
    std::uint64_t max_emitted_per_batch = 256;  ///< events and snapshots per shard and batch
    /// Batches of at most this many messages run on the dispatch thread while no other batch
    /// is in the graph (0: every batch goes to the workers).
    std::uint64_t inline_batch = 8;
    IngestQueueConfig ingest_queue;
    EgressQueueConfig egress_queue;
    IdleStrategy idle = IdleStrategy::block;
    std::uint64_t spin_us = 50;  ///< spin or yield this long on an empty queue before blocking
    std::string log_level;       ///< debug, info, warn, error, off; empty = unchanged (info)
    HttpConfig http;
};

std::string_view to_string(IdleStrategy idle) noexcept;
std::string_view to_string(SiblingPolicy siblings) noexcept;

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

/// Reads a CPU set: `auto`, a list whose items are CPU numbers or ranges (`[0, 2-3]`), or one
/// text of numbers and ranges separated by commas (`"0-3,6"`). Errors go to `errors`.
void parse_cpu_spec(const ConfigNode& node, CpuSpec& out, ConfigErrors& errors);

}  // namespace edgeflow
