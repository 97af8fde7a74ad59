// The stage registry: builds a pipeline's stage list from its config, in data-path order.
//
// parse → the `stages:` list (transform, lkv, heuristics) → route → serialize. Before the
// first stateful stage (lkv, heuristics) come partition (key, shard, event time) and order
// (processing clock, late data); consecutive stateful stages form one sharded section, and
// `$lkv(...)` reads are allowed in the stages after an lkv stage in the same section.
//
// What else the pipeline needs from its stages comes back in StageExtras: the `datasets:`
// (file datasets loaded once every transform registered its indexes), so the io registry can
// attach feeds to MQTT-backed ones; the destinations reserved for what stages emit; the LKV
// stores, for hydration at start. Every config problem is added to `errors`; the list is only
// usable when `errors` stayed empty.
#pragma once

#include "lang/transform/dataset.h"
#include "stages/lkv/lkv_stage.h"

#include <memory>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/stage.h"

namespace edgeflow {

struct StageExtras {
    transform::DatasetRegistry datasets;
    std::vector<std::size_t> emitted_only;  ///< destinations only stages emit to
    std::vector<std::shared_ptr<LkvStore>> lkv_stores;
};

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors,
                                                    StageExtras* extras = nullptr);

}  // namespace edgeflow
