// The stage registry: builds a pipeline's stage list from its config, in data-path order.
//
// Today: parse → route → serialize. Stage blocks added later (transform, lkv, heuristics) are
// read here and slot in between parse and route. Every config problem is added to `errors`;
// the list is only usable when `errors` stayed empty.
#pragma once

#include <memory>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/stage.h"

namespace edgeflow {

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors);

}  // namespace edgeflow
