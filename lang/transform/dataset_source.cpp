#include "lang/transform/dataset_source.h"

#include <filesystem>

#include "core/config/map_reader.h"

namespace edgeflow::transform {

std::vector<DatasetSource> parse_datasets(const PipelineConfig& config, ConfigErrors& errors) {
    std::vector<DatasetSource> specs;
    const ConfigNode* block = config.root.find("datasets");
    if (block == nullptr) {
        return specs;
    }
    if (!block->is_map()) {
        errors.add(*block, "a map of dataset name to {file: records.jsonl}");
        return specs;
    }
    for (const auto& [name, node] : block->members) {
        MapReader reader(node, errors, "a dataset");
        if (!reader.ok()) {
            continue;
        }
        DatasetSource spec{name, {}, nullptr, 10'000, 1'000'000, &node};
        reader.optional_string("file", spec.file, "an NDJSON file of records, one object per line");
        spec.mqtt = reader.get("mqtt");
        reader.optional_uint("load_timeout_ms", spec.load_timeout_ms, 0, 600'000);
        reader.optional_uint("max_records", spec.max_records, 1, 100'000'000);
        reader.finish();
        if (spec.file.empty() == (spec.mqtt == nullptr)) {
            errors.add(node,
                       "exactly one of file (NDJSON records) or mqtt (a retained message with "
                       "the records)",
                       spec.file.empty() ? "neither" : "both");
            continue;
        }
        if (!spec.file.empty()) {
            EndpointConfig where;
            where.base_dir = std::filesystem::path(config.file).parent_path().string();
            spec.file = where.resolve_path(spec.file);
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

}  // namespace edgeflow::transform
