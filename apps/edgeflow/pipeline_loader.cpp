#include "apps/edgeflow/pipeline_loader.h"

#include "core/config/yaml_loader.h"
#include "io/registry.h"
#include "stages/registry.h"

namespace edgeflow::app {

std::optional<LoadedPipeline> load_pipeline(const std::string& path, ConfigErrors& errors) {
    auto root = load_yaml_file(path, errors);
    if (!root) {
        return std::nullopt;
    }
    LoadedPipeline loaded;
    loaded.config = parse_pipeline(*root, errors);
    loaded.dead_letters = std::make_shared<DeadLetterCounts>();
    transform::DatasetRegistry datasets;
    loaded.stages = build_stages(loaded.config, loaded.config.effective_workers() + 1,
                                 loaded.dead_letters, errors, &datasets);
    loaded.dataset_feeds = build_dataset_feeds(loaded.config, datasets, errors);
    loaded.sources = build_sources(loaded.config, errors);
    loaded.sinks = build_sinks(loaded.config, errors);
    if (!errors.empty()) {
        return std::nullopt;
    }
    return loaded;
}

}  // namespace edgeflow::app
