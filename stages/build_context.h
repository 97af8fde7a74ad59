// BuildContext: everything a stage kind's constructor may use besides its own config block,
// made once per pipeline by build_stages and passed to every row of the stage table.
//
// It holds what the pipeline shares (datasets, the partition key, event time, shard count),
// the destinations by name, and what the stages built so far left for later ones: the lkv
// store of the current stateful section (for `$lkv(...)` reads) and the destinations reserved
// for emitted messages. Stages declare the destinations they emit to here, once; the route
// stage reads that, so routing is decided in one place. Single-threaded, build time only.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"
#include "lang/transform/dataset.h"
#include "lang/transform/transform.h"
#include "stages/keyed/event_time.h"

namespace edgeflow {

class LkvStore;

struct BuildContext {
    BuildContext(const PipelineConfig& pipeline, ConfigErrors& config_errors)
        : config(pipeline), errors(config_errors) {}

    const PipelineConfig& config;
    ConfigErrors& errors;
    std::size_t shards = 1;
    EventTimeConfig event_time;
    transform::PartitionKeySpec key;
    transform::DatasetRegistry datasets;
    /// The lkv store of the current stateful section; null outside one or before its lkv.
    const LkvStore* section_lkv = nullptr;
    std::vector<std::shared_ptr<LkvStore>> lkv_stores;
    /// By destination index: reserved for what stages emit (events, snapshots).
    std::vector<bool> emitted_only;

    /// Index of the output destination called `name` (never the dead-letter one), or -1.
    int destination(std::string_view name) const noexcept {
        for (std::size_t i = 0; i < config.destinations.size(); ++i) {
            if (config.destinations[i].name == name && !config.destinations[i].dead_letter) {
                return static_cast<int>(i);
            }
        }
        return -1;
    }
    /// A stage emits to destination `index`: it gets those messages and no others.
    void declare_emitted(std::size_t index) { emitted_only.at(index) = true; }
    /// `count` consecutive ranks (Message::emit_rank) for what a stage emits, after those of
    /// the stages built before it: emitted messages of one trigger come out in pipeline order.
    std::uint32_t reserve_emit_ranks(std::uint32_t count) {
        const std::uint32_t first = next_emit_rank;
        next_emit_rank += count;
        return first;
    }
    std::uint32_t next_emit_rank = 0;
};

}  // namespace edgeflow
