#include "core/config/runtime_config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/config/yaml_loader.h"

namespace edgeflow {
namespace {

// The runtime block of `yaml` (a whole document with `runtime:` at the top), read by
// parse_runtime; the errors, if any, in `errors_out`.
RuntimeConfig read(const std::string& yaml, std::string* errors_out = nullptr) {
    ConfigErrors errors("runtime.yaml");
    RuntimeConfig runtime;
    auto root = load_yaml_text(yaml, errors);
    if (root) {
        if (const ConfigNode* block = root->find("runtime")) {
            parse_runtime(*block, runtime, errors);
        }
    }
    if (errors_out != nullptr) {
        *errors_out = errors.to_string();
    } else {
        EXPECT_TRUE(errors.empty()) << errors.to_string() << "\n" << yaml;
    }
    return runtime;
}

// `key: example` inside the runtime block, nested under its block when it has one.
std::string block_with(const RuntimeKey& row) {
    if (row.block.empty()) {
        return "runtime:\n  " + std::string(row.key) + ": " + std::string(row.example) + "\n";
    }
    return "runtime:\n  " + std::string(row.block) + ":\n    " + std::string(row.key) + ": " +
           std::string(row.example) + "\n";
}

TEST(RuntimeKeys, EveryKeyReadsItsExampleAsSomethingElseThanTheDefault) {
    std::set<std::string> seen;
    for (const RuntimeKey& row : runtime_keys()) {
        const std::string name = std::string(row.block) + "." + std::string(row.key);
        EXPECT_TRUE(seen.insert(name).second) << name << " is in the table twice";
        EXPECT_FALSE(read(block_with(row)) == RuntimeConfig{}) << name;
    }
}

TEST(RuntimeKeys, EachKeyRoundTripsThroughTheWriter) {
    for (const RuntimeKey& row : runtime_keys()) {
        const RuntimeConfig set = read(block_with(row));
        const std::string written = write_runtime_yaml(set);
        EXPECT_TRUE(read(written) == set) << row.block << "." << row.key << ":\n" << written;
    }
}

TEST(RuntimeKeys, EveryKeyTogetherRoundTrips) {
    std::string yaml = "runtime:\n";
    std::string_view block;
    for (const RuntimeKey& row : runtime_keys()) {
        if (row.block.empty()) {
            yaml += "  " + std::string(row.key) + ": " + std::string(row.example) + "\n";
            block = {};
            continue;
        }
        if (row.block != block) {
            yaml += "  " + std::string(row.block) + ":\n";
            block = row.block;
        }
        yaml += "    " + std::string(row.key) + ": " + std::string(row.example) + "\n";
    }
    const RuntimeConfig all = read(yaml);
    EXPECT_TRUE(read(write_runtime_yaml(all)) == all) << write_runtime_yaml(all);
    EXPECT_EQ(all.shards, 3u);
    EXPECT_EQ(all.max_emitted_per_batch, 100u);
}

TEST(RuntimeKeys, DefaultsAndAutoRoundTrip) {
    EXPECT_TRUE(read(write_runtime_yaml(RuntimeConfig{})) == RuntimeConfig{})
        << write_runtime_yaml(RuntimeConfig{});
    RuntimeConfig off;
    off.http.enabled = false;
    off.cpus.automatic = false;
    off.cpus.cpus = {0, 1};
    EXPECT_TRUE(read(write_runtime_yaml(off)) == off) << write_runtime_yaml(off);
}

TEST(RuntimeKeys, ErrorsKeepTheirBlocksWording) {
    std::string errors;
    read("runtime:\n  ingest_queue:\n    capacityy: 3\n  http:\n    port: 1\n", &errors);
    EXPECT_NE(errors.find("ingest_queue"), std::string::npos) << errors;
    EXPECT_NE(errors.find("the http block"), std::string::npos) << errors;
    read("runtime:\n  shards: 0\n", &errors);
    EXPECT_NE(errors.find("shards"), std::string::npos) << errors;
}

}  // namespace
}  // namespace edgeflow
