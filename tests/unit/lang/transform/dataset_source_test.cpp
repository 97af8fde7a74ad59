#include "lang/transform/dataset_source.h"

#include <gtest/gtest.h>

#include <string>

#include "core/config/yaml_loader.h"

namespace edgeflow::transform {
namespace {

struct Read {
    PipelineConfig config;
    std::vector<DatasetSource> sources;
    std::string errors;
};

Read read(const std::string& datasets) {
    Read out;
    ConfigErrors errors("/site/pipeline.yaml");
    auto root = load_yaml_text("datasets:\n" + datasets, errors);
    EXPECT_TRUE(root.has_value());
    if (root) {
        out.config.root = std::move(*root);
        out.config.file = "/site/pipeline.yaml";
        out.sources = parse_datasets(out.config, errors);
    }
    out.errors = errors.to_string();
    return out;
}

TEST(DatasetSource, FileIsResolvedBesideThePipelineAndMqttKeepsItsEndpoint) {
    const auto r = read(
        "  assets: {file: ref/assets.jsonl, max_records: 10}\n"
        "  bands: {mqtt: {broker: 'mqtt://b:1883', topics: [ref/bands]}, load_timeout_ms: 0}\n");
    ASSERT_EQ(r.errors, "");
    ASSERT_EQ(r.sources.size(), 2u);
    EXPECT_EQ(r.sources[0].name, "assets");
    EXPECT_EQ(r.sources[0].file, "/site/ref/assets.jsonl");
    EXPECT_EQ(r.sources[0].mqtt, nullptr);
    EXPECT_EQ(r.sources[0].max_records, 10u);
    EXPECT_EQ(r.sources[1].name, "bands");
    EXPECT_TRUE(r.sources[1].file.empty());
    ASSERT_NE(r.sources[1].mqtt, nullptr);
    EXPECT_NE(r.sources[1].mqtt->find("broker"), nullptr);
    EXPECT_EQ(r.sources[1].load_timeout_ms, 0u);
}

TEST(DatasetSource, EachProblemIsAnErrorWhereItIs) {
    EXPECT_NE(read("  a: {}\n").errors.find("exactly one of file"), std::string::npos);
    EXPECT_NE(read("  a: {file: x, mqtt: {broker: 'mqtt://b'}}\n").errors.find("both"),
              std::string::npos);
    const auto slow = read("  a: {mqtt: {broker: 'mqtt://b'}, load_timeout_ms: 600001}\n");
    EXPECT_NE(slow.errors.find("load_timeout_ms"), std::string::npos) << slow.errors;
    const auto typo = read("  a: {file: x, max_record: 3}\n");
    EXPECT_NE(typo.errors.find("max_record"), std::string::npos) << typo.errors;
    EXPECT_NE(read("  - a\n").errors.find("a map of dataset name"), std::string::npos);
}

}  // namespace
}  // namespace edgeflow::transform
