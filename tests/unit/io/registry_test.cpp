#include "io/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/yaml_loader.h"
#include "io/file/file_sink.h"
#include "io/file/file_source.h"
#include "stages/registry.h"

namespace edgeflow {
namespace {

using testing::AllOf;
using testing::ElementsAre;
using testing::EndsWith;
using testing::IsEmpty;
using testing::StartsWith;

// A pipeline loaded the way `edgeflow check` and `run` load one: structure, stages, sources,
// sinks, every error collected.
struct Loaded {
    PipelineConfig config;
    std::vector<std::unique_ptr<Source>> sources;
    std::vector<std::unique_ptr<Sink>> sinks;
    std::vector<std::string> errors;  ///< ConfigError::to_string(), in file order
};

Loaded load_config(ConfigErrors& errors, const std::optional<ConfigNode>& root) {
    Loaded out;
    if (root) {
        out.config = parse_pipeline(*root, errors);
        auto counts = std::make_shared<DeadLetterCounts>();
        static_cast<void>(build_stages(out.config, counts, errors).stages);
        out.sources = build_sources(out.config, errors);
        out.sinks = build_sinks(out.config, errors);
    }
    std::istringstream lines(errors.to_string());
    for (std::string line; std::getline(lines, line);) {
        out.errors.push_back(line);
    }
    return out;
}

// Raw string literals start with a newline, dropped here: line 1 is the line after R"(.
Loaded load(std::string_view text, const std::string& file = "pipeline.yaml") {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    ConfigErrors errors(file);
    auto root = load_yaml_text(std::string(text), errors);
    return load_config(errors, root);
}

// A file source on lines 1-3 whose keys continue on line 4; a null destination follows.
std::vector<std::string> file_source_errors(std::string_view keys) {
    return load("sources:\n  - kind: file\n    path: in.jsonl\n" + std::string(keys) +
                "destinations:\n  - kind: null\n")
        .errors;
}

FileSourceConfig file_source_config(const PipelineConfig& config, std::size_t i) {
    ConfigErrors errors(config.file);
    auto parsed = FileSourceConfig::parse(config.sources[i], errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    return parsed;
}

TEST(IoRegistry, TheAnnotatedExampleLoads) {
    const std::string path =
        std::string(EDGEFLOW_SOURCE_DIR) + "/examples/quickstart/pipeline.yaml";
    ConfigErrors errors(path);
    auto root = load_yaml_file(path, errors);
    const Loaded loaded = load_config(errors, root);
    ASSERT_THAT(loaded.errors, IsEmpty());
    EXPECT_EQ(loaded.sources.size(), 1u);
    EXPECT_EQ(loaded.sinks.size(), 2u);
}

TEST(IoRegistry, FileSourceForms) {
    const Loaded loaded = load(R"(
sources:
  - name: replay
    kind: file
    path: data/in.jsonl
  - kind: file
    path: /var/lib/edgeflow/lines.txt
    format: payload
    topic: plant/line1/t
    rate: 250.5
    loop: true
  - kind: file
    path: in.jsonl
    format: envelope
    rate: 0
    loop: false
destinations:
  - kind: null
)",
                               "/etc/edgeflow/pipeline.yaml");
    ASSERT_THAT(loaded.errors, IsEmpty());
    ASSERT_EQ(loaded.sources.size(), 3u);
    EXPECT_EQ(loaded.sources[0]->name(), "replay");
    EXPECT_EQ(loaded.sources[0]->kind(), "file");
    EXPECT_TRUE(loaded.sources[0]->finite());
    EXPECT_EQ(loaded.sources[1]->name(), "source-2");
    EXPECT_FALSE(loaded.sources[1]->finite());

    const FileSourceConfig replay = file_source_config(loaded.config, 0);
    EXPECT_EQ(replay.path, "/etc/edgeflow/data/in.jsonl");
    EXPECT_EQ(replay.format, FileSourceConfig::Format::envelope);
    EXPECT_EQ(replay.topic, "");
    EXPECT_EQ(replay.rate, 0.0);
    EXPECT_FALSE(replay.loop);

    const FileSourceConfig lines = file_source_config(loaded.config, 1);
    EXPECT_EQ(lines.path, "/var/lib/edgeflow/lines.txt");
    EXPECT_EQ(lines.format, FileSourceConfig::Format::payload);
    EXPECT_EQ(lines.topic, "plant/line1/t");
    EXPECT_EQ(lines.rate, 250.5);
    EXPECT_TRUE(lines.loop);
}

TEST(IoRegistry, MqttSourceForms) {
    const Loaded loaded = load(R"(
sources:
  - name: plant
    kind: mqtt
    broker: tcp://127.0.0.1:1883
    protocol: 5
    topics: ["factory/+/telemetry", "$share/edgeflow/plant/#"]
  - name: legacy
    kind: mqtt
    broker: ssl://broker:8883
    protocol: 3.1.1
    topics: old/#
    tls: {verify: true}
destinations:
  - kind: null
)");
    ASSERT_THAT(loaded.errors, IsEmpty());
    ASSERT_EQ(loaded.sources.size(), 2u);
    for (const auto& source : loaded.sources) {
        EXPECT_EQ(source->kind(), "mqtt");
        EXPECT_FALSE(source->finite());
    }
    EXPECT_EQ(loaded.sources[1]->name(), "legacy");
}

TEST(IoRegistry, DestinationForms) {
    const Loaded loaded = load(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - name: out
    kind: file
    path: out/enriched.jsonl
    topic: enriched/{topic.2}/{deviceId}
    append: true
  - name: cloud
    kind: mqtt
    broker: tcp://cloud:1883
    retain: false
  - name: counted
    kind: null
  - name: stdout
    kind: file
    path: "-"
  - name: dlq
    kind: file
    path: dlq.jsonl
    dead_letter: true
    topic: dlq/{topic}
)",
                               "/srv/pipeline.yaml");
    ASSERT_THAT(loaded.errors, IsEmpty());
    ASSERT_EQ(loaded.sinks.size(), 5u);
    EXPECT_EQ(loaded.sinks[0]->kind(), "file");
    EXPECT_EQ(loaded.sinks[0]->state(), "/srv/out/enriched.jsonl");
    EXPECT_EQ(loaded.sinks[1]->kind(), "mqtt");
    EXPECT_EQ(loaded.sinks[2]->kind(), "null");
    EXPECT_EQ(loaded.sinks[3]->state(), "stdout");
    EXPECT_EQ(loaded.sinks[4]->name(), "dlq");
    EXPECT_EQ(loaded.config.dead_letter, std::optional<std::size_t>(4));

    ConfigErrors errors(loaded.config.file);
    const FileSinkConfig out = FileSinkConfig::parse(loaded.config.destinations[0], errors);
    EXPECT_TRUE(out.append);
    EXPECT_EQ(out.path, "/srv/out/enriched.jsonl");
    const FileSinkConfig dlq = FileSinkConfig::parse(loaded.config.destinations[4], errors);
    EXPECT_FALSE(dlq.append);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
}

TEST(IoRegistry, NullDestinationSpelledEveryWay) {
    const Loaded loaded = load(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
  - kind: ~
  - kind: "null"
    dead_letter: true
)");
    ASSERT_THAT(loaded.errors, IsEmpty());
    ASSERT_EQ(loaded.sinks.size(), 3u);
    for (const auto& sink : loaded.sinks) {
        EXPECT_EQ(sink->kind(), "null");
    }
}

TEST(IoRegistry, DescribeEndpoints) {
    const Loaded loaded = load(R"(
sources:
  - name: telemetry
    kind: file
    path: in.jsonl
  - name: plant
    kind: mqtt
    broker: tcp://h:1883
    topics: [a/#, b/+]
destinations:
  - name: out
    kind: file
    path: out.jsonl
  - name: dlq
    kind: null
    dead_letter: true
)",
                               "/p/pipeline.yaml");
    ASSERT_THAT(loaded.errors, IsEmpty());
    EXPECT_THAT(describe_endpoints(loaded.config),
                ElementsAre("source      telemetry (file) /p/in.jsonl",
                            "source      plant (mqtt) tcp://h:1883 topics: a/# b/+",
                            "destination out (file) /p/out.jsonl topic: {topic}",
                            "dead letter dlq (null) topic: edgeflow/deadletter"));
}

TEST(IoRegistryErrors, UnknownFileSourceKey) {
    EXPECT_THAT(file_source_errors("    lopo: true\n"),
                ElementsAre("pipeline.yaml:4:5: sources[0].lopo: expected one of the keys of a "
                            "file source: format kind loop name path rate topic, found unknown "
                            "key \"lopo\""));
}

TEST(IoRegistryErrors, MisspelledPathIsMissingAndUnknown) {
    EXPECT_THAT(load("sources:\n  - kind: file\n    paht: in.jsonl\n"
                     "destinations:\n  - kind: null\n")
                    .errors,
                ElementsAre("pipeline.yaml:2:5: sources[0].path: expected the path of a JSON Lines "
                            "file, found no such key",
                            "pipeline.yaml:3:5: sources[0].paht: expected one of the keys of a "
                            "file source: format kind loop name path rate topic, found unknown "
                            "key \"paht\""));
}

TEST(IoRegistryErrors, FileSourceFormatAndTopic) {
    EXPECT_THAT(file_source_errors("    format: payload\n"),
                ElementsAre("pipeline.yaml:2:5: sources[0].topic: expected the topic given to "
                            "each line (format: payload), found no such key"));
    EXPECT_THAT(file_source_errors("    topic: a/b\n"),
                ElementsAre("pipeline.yaml:4:12: sources[0].topic: expected no topic with "
                            "format: envelope (each line carries its own), found \"a/b\""));
    EXPECT_THAT(file_source_errors("    format: payload\n    topic: a/+\n"),
                ElementsAre("pipeline.yaml:5:12: sources[0].topic: expected a topic without "
                            "wildcards, found \"a/+\""));
    EXPECT_THAT(file_source_errors("    format: csv\n"),
                ElementsAre("pipeline.yaml:4:13: sources[0].format: expected one of envelope "
                            "payload, found \"csv\""));
}

TEST(IoRegistryErrors, FileSourceRateAndLoop) {
    for (const char* rate : {"-1", "fast", "1e10", "nan", "\"5\""}) {
        const auto errors = file_source_errors("    rate: " + std::string(rate) + "\n");
        ASSERT_EQ(errors.size(), 1u) << rate;
        EXPECT_THAT(errors[0], StartsWith("pipeline.yaml:4:11: sources[0].rate: "
                                          "expected a number from 0"))
            << rate;
    }
    EXPECT_THAT(file_source_errors("    loop: 1\n"),
                ElementsAre("pipeline.yaml:4:11: sources[0].loop: expected true or false, found "
                            "\"1\""));
}

TEST(IoRegistryErrors, FileDestination) {
    EXPECT_THAT(load(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: file
    append: maybe
)")
                    .errors,
                ElementsAre("pipeline.yaml:5:5: destinations[0].path: expected the path of the "
                            "JSON Lines file to write, or -, found no such key",
                            "pipeline.yaml:6:13: destinations[0].append: expected true or false, "
                            "found \"maybe\""));
}

TEST(IoRegistryErrors, NullDestinationHasNoOtherKeys) {
    EXPECT_THAT(load(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
    path: out.jsonl
)")
                    .errors,
                ElementsAre("pipeline.yaml:6:5: destinations[0].path: expected one of the keys "
                            "of a null destination: dead_letter kind name topic, found unknown key "
                            "\"path\""));
}

TEST(IoRegistryErrors, UnknownKinds) {
    EXPECT_THAT(load(R"(
sources:
  - kind: kafka
  - kind: null
destinations:
  - kind: s3
)")
                    .errors,
                ElementsAre("pipeline.yaml:2:11: sources[0].kind: expected a source kind: file or "
                            "mqtt, found \"kafka\"",
                            "pipeline.yaml:3:11: sources[1].kind: expected a source kind: file or "
                            "mqtt, found null",
                            "pipeline.yaml:5:11: destinations[0].kind: expected a destination "
                            "kind: file, mqtt or null, found \"s3\""));
}

TEST(IoRegistryErrors, NoEndpointsAreBuiltWhenThereAreErrors) {
    const Loaded loaded = load(R"(
sources:
  - kind: file
    path: in.jsonl
  - kind: file
destinations:
  - kind: null
  - kind: file
)");
    EXPECT_THAT(loaded.errors, testing::SizeIs(2));
    EXPECT_TRUE(loaded.sources.empty());
    EXPECT_TRUE(loaded.sinks.empty());
}

TEST(IoRegistryErrors, EveryLayerReportsInOneRun) {
    EXPECT_THAT(load(R"(
sources:
  - kind: mqtt
    broker: tcp://h:1883
    topics: [a/#/b]
destinations:
  - kind: file
    path: out.jsonl
    topic: "{topic.0}"
runtime:
  batch_size: 0
)")
                    .errors,
                ElementsAre("pipeline.yaml:4:14: sources[0].topics[0]: expected an MQTT topic "
                            "filter, found \"a/#/b\": '#' must be a whole level and the last one",
                            AllOf(StartsWith("pipeline.yaml:8:12: destinations[0].topic: "
                                             "expected a topic template"),
                                  EndsWith(", found '{topic.0}': {topic.0} needs a level number "
                                           "from 1, as in {topic.2}")),
                            "pipeline.yaml:10:15: runtime.batch_size: expected a whole number "
                            "from 1 to 4096, found \"0\""));
}

}  // namespace
}  // namespace edgeflow
