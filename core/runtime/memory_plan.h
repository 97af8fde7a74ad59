// MemoryPlan: what a pipeline's configured bounds cost in memory, added up from the engine's
// own pools and every stage's MemoryBound, so that `check` can show it and a configuration that
// would not fit its budget is refused before it starts.
//
// Two figures per item: `at_start`, allocated when the engine and stages are built, and
// `at_most`, with every bound full — every pooled message holding buffers as large as it keeps
// between uses, every emitted-event room used, every key table full. Text values longer than a
// string holds in place (15 bytes) and nested LKV values are not counted; docs/stateful.md
// gives the formula. Build time only; single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/stage.h"

namespace edgeflow {

/// Batches the egress queue holds (its capacity in whole batches).
std::size_t engine_egress_batches(const PipelineConfig& config);
/// Batches the engine allocates: in flight in the graph, plus those the egress queue holds.
std::size_t engine_batches(const PipelineConfig& config);
/// Messages the engine's pool holds: every one is in the ingest queue, a batch or a source.
std::size_t engine_messages(const PipelineConfig& config, std::size_t sources);

/// The budget in effect: runtime.memory_limit when set, else (memory_limit: auto) the cgroup's
/// memory limit when there is one; none otherwise.
struct MemoryBudget {
    std::optional<std::uint64_t> bytes;
    std::string_view from;  ///< "runtime.memory_limit", "the cgroup limit", or empty
};
MemoryBudget memory_budget(const RuntimeConfig& runtime);

/// The memory limit of this process's cgroup (v2 memory.max, or v1 limit_in_bytes); none when
/// unlimited or unreadable.
std::optional<std::uint64_t> cgroup_memory_limit();

/// "512 B", "12.3 KiB", "1.17 GiB".
std::string format_bytes(std::uint64_t bytes);

struct MemoryPlan {
    struct Item {
        std::string what;
        std::uint64_t at_start = 0;
        std::uint64_t at_most = 0;
    };
    std::vector<Item> items;
    std::uint64_t at_start = 0;
    std::uint64_t at_most = 0;

    static MemoryPlan of(const PipelineConfig& config,
                         const std::vector<std::unique_ptr<AnyStage>>& stages, std::size_t sources);
    /// One line per item: "message pool: 10303 × 1.2 KiB — 12.1 MiB at start, up to ...".
    std::vector<std::string> describe() const;
};

}  // namespace edgeflow
