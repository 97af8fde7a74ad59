// DatasetSource: one entry of a pipeline's `datasets:` block, read once for everything that needs
// it. The stage registry makes the Dataset each transform binds; the io registry attaches a feed
// to each one that is loaded from MQTT.
//
//   datasets:
//     assets: {file: assets.jsonl, max_records: 10000}           # NDJSON, loaded at start
//     bands:                                                     # a retained MQTT message
//       mqtt: {broker: mqtt://broker:1883, topics: [plant/reference/bands]}
//       load_timeout_ms: 10000
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/config/pipeline_config.h"

namespace edgeflow::transform {

struct DatasetSource {
    std::string name;
    std::string file;        ///< resolved path of the NDJSON file; empty for an MQTT dataset
    const ConfigNode* mqtt;  ///< the `mqtt:` endpoint map (in the pipeline's root); or null
    std::uint64_t load_timeout_ms = 10'000;  ///< MQTT: wait this long for the first load
    std::uint64_t max_records = 1'000'000;
    const ConfigNode* node;  ///< the entry, for errors
};

/// The `datasets:` block of `config`, every problem added to `errors`; an entry with neither or
/// both of file and mqtt is left out. The nodes point into config.root, which must outlive the
/// result.
std::vector<DatasetSource> parse_datasets(const PipelineConfig& config, ConfigErrors& errors);

}  // namespace edgeflow::transform
