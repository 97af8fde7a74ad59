// RuntimeConfig: the `runtime:` block of a pipeline — threads, CPUs, batches, queues, idle
// strategy, log level, HTTP — and the one table of its keys.
//
// Every key is one row of runtime_keys(): where it sits (`batch_size`, `ingest_queue.capacity`),
// how it is read (range, allowed words, error text) and how it is written back. parse_runtime
// reads the block through the rows and write_runtime_yaml writes a block from them, so what
// `edgeflow tune --write` saves reads back as the same settings; adding a setting is one row.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/config/map_reader.h"

namespace edgeflow {

enum class FullPolicy { block, drop_oldest };

struct IngestQueueConfig {
    std::uint64_t capacity = 8192;  ///< messages
    FullPolicy when_full = FullPolicy::block;
    bool operator==(const IngestQueueConfig&) const = default;
};

struct EgressQueueConfig {
    std::uint64_t capacity = 8192;  ///< messages (rounded up to whole batches)
    bool operator==(const EgressQueueConfig&) const = default;
};

/// A set of CPUs from the config: `auto`, or the CPU numbers listed (sorted, each once).
struct CpuSpec {
    bool automatic = true;
    std::vector<int> cpus;
    bool operator==(const CpuSpec&) const = default;
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
    bool operator==(const HttpConfig&) const = default;
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
    /// The most the configured bounds may cost (core/runtime/memory_plan.h), bytes; 0 with
    /// memory_limit_auto: the cgroup's limit when there is one; 0 without: no budget (`none`).
    std::uint64_t memory_limit = 0;
    bool memory_limit_auto = true;
    /// Batches of at most this many messages run on the dispatch thread while no other batch
    /// is in the graph (0: every batch goes to the workers).
    std::uint64_t inline_batch = 8;
    IngestQueueConfig ingest_queue;
    EgressQueueConfig egress_queue;
    IdleStrategy idle = IdleStrategy::block;
    std::uint64_t spin_us = 50;  ///< spin or yield this long on an empty queue before blocking
    std::string log_level;       ///< debug, info, warn, error, off; empty = unchanged (info)
    HttpConfig http;
    bool operator==(const RuntimeConfig&) const = default;
};

std::string_view to_string(IdleStrategy idle) noexcept;
std::string_view to_string(SiblingPolicy siblings) noexcept;

/// One key of the runtime block.
struct RuntimeKey {
    std::string_view block;  ///< the nested map it sits in (`http`, `ingest_queue`...), or empty
    std::string_view key;
    /// Reads the key from its block's reader into `runtime`, adding any error.
    void (*read)(MapReader& reader, std::string_view key, RuntimeConfig& runtime,
                 ConfigErrors& errors);
    /// The value as YAML text, or empty to leave the key out (it holds what omitting it means).
    std::string (*write)(const RuntimeConfig& runtime);
    /// A valid value other than the default, as YAML text (for `check`'s examples and tests).
    std::string_view example;
};

/// Every key of the runtime block, in the order they are read and written.
std::span<const RuntimeKey> runtime_keys() noexcept;

/// Reads a `runtime:` block into `runtime` (keys it leaves out keep their value).
void parse_runtime(const ConfigNode& node, RuntimeConfig& runtime, ConfigErrors& errors);

/// The block `runtime:` and its keys, two spaces deep, one per line, as parse_runtime reads them.
std::string write_runtime_yaml(const RuntimeConfig& runtime);

/// Reads a CPU set: `auto`, a list whose items are CPU numbers or ranges (`[0, 2-3]`), or one
/// text of numbers and ranges separated by commas (`"0-3,6"`). Errors go to `errors`.
void parse_cpu_spec(const ConfigNode& node, CpuSpec& out, ConfigErrors& errors);

}  // namespace edgeflow
