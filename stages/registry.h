// The stage registry: builds a pipeline's stage list from its config, in data-path order.
//
// parse → the `stages:` list (transform, ...) → route → serialize. The pipeline's `datasets:`
// are created here (file datasets loaded once every transform registered its indexes) and
// handed out through `datasets`, so the io registry can attach feeds to MQTT-backed ones. Every
// config problem is added to `errors`; the list is only usable when `errors` stayed empty.
#pragma once

#include "core/transform/dataset.h"

#include <memory>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/counters.h"
#include "core/stage.h"

namespace edgeflow {

std::vector<std::unique_ptr<AnyStage>> build_stages(const PipelineConfig& config,
                                                    std::size_t worker_slots,
                                                    std::shared_ptr<DeadLetterCounts> counts,
                                                    ConfigErrors& errors,
                                                    transform::DatasetRegistry* datasets = nullptr);

}  // namespace edgeflow
