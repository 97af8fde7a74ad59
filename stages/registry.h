// The stage registry: builds a pipeline's stage list from its config, in data-path order.
//
// parse → the `stages:` list → route → serialize. Each kind of the `stages:` list is one row of
// stage_kinds() (name, whether it is stateful, constructor); error texts and `check`'s
// wording are made from those rows. Before the first stateful stage (lkv, heuristics) come
// partition (key, shard, event time) and order (processing clock, late data); consecutive
// stateful stages form one sharded section, and `$lkv(...)` reads are allowed in the stages
// after an lkv stage in the same section.
//
// Every stage is built once, from one BuildContext (stages/build_context.h). What the rest of
// the pipeline needs from the stages comes back with them in BuiltStages: the datasets (so the
// io registry can attach feeds to MQTT-backed ones), the LKV stores (for hydration at start),
// and which destinations are reserved for emitted messages. Every config problem is added to
// `errors`; the result is only usable when `errors` stayed empty.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/stage.h"
#include "lang/transform/dataset.h"
#include "lang/transform/dataset_source.h"
#include "stages/build_context.h"
#include "stages/lkv/lkv_stage.h"

namespace edgeflow {

/// One kind of the `stages:` list.
struct StageKind {
    std::string_view name;
    /// Runs sharded by the partition key: starts (or continues) a stateful section.
    bool stateful;
    /// Builds the stage from its block, or returns null after adding errors.
    std::unique_ptr<AnyStage> (*build)(const ConfigNode& block, BuildContext& ctx);
};

/// Every kind the `stages:` list may name.
std::span<const StageKind> stage_kinds() noexcept;
/// "transform, lkv or heuristics": the kinds as error texts list them.
std::string stage_kind_names();

struct BuiltStages {
    std::vector<std::unique_ptr<AnyStage>> stages;
    transform::DatasetRegistry datasets;
    /// The `datasets:` block as read (the io registry feeds the MQTT ones from it).
    std::vector<transform::DatasetSource> dataset_sources;
    std::vector<std::shared_ptr<LkvStore>> lkv_stores;
    /// By destination index: reserved for what stages emit to it.
    std::vector<bool> emitted_only;
};

BuiltStages build_stages(const PipelineConfig& config, std::shared_ptr<DeadLetterCounts> counts,
                         ConfigErrors& errors);

}  // namespace edgeflow
