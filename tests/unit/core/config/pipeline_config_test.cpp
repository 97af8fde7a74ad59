#include "core/config/pipeline_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/config/yaml_loader.h"

namespace edgeflow {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::StartsWith;

struct Parsed {
    PipelineConfig config;
    std::vector<std::string> errors;  ///< ConfigError::to_string(), in file order
};

// Loads and parses `text`; raw string literals start with a newline, dropped here, so line 1 is
// the line after R"(.
Parsed parse(std::string_view text, const std::string& file = "pipeline.yaml") {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    ConfigErrors errors(file);
    Parsed out;
    if (auto root = load_yaml_text(std::string(text), errors)) {
        out.config = parse_pipeline(*root, errors);
    }
    std::istringstream lines(errors.to_string());
    for (std::string line; std::getline(lines, line);) {
        out.errors.push_back(line);
    }
    return out;
}

// Lines 1-5 of most cases below: a valid pipeline to add one mistake to.
constexpr std::string_view minimal = R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
)";

std::vector<std::string> errors_with(std::string_view extra) {
    return parse(std::string(minimal) + std::string(extra)).errors;
}

// A runtime block of one line, `runtime:\n  <line>`: the line is line 7.
std::vector<std::string> runtime_errors(std::string_view line) {
    return errors_with("runtime:\n  " + std::string(line) + "\n");
}

TEST(PipelineConfig, FullPipeline) {
    const auto parsed = parse(R"(
version: 1
name: plant-a
sources:
  - name: telemetry
    kind: file
    path: in.jsonl
  - kind: mqtt
    broker: tcp://localhost:1883
    topics: a/#
destinations:
  - name: out
    kind: file
    path: out.jsonl
    topic: enriched/{topic}
  - kind: null
  - name: dlq
    kind: file
    path: dlq.jsonl
    dead_letter: true
runtime:
  workers: 3
  batch_size: 16
  max_in_flight_batches: 5
  max_payload_bytes: 4096
  ingest_queue:
    capacity: 100
    when_full: drop_oldest
  egress_queue:
    capacity: 200
)");
    ASSERT_THAT(parsed.errors, IsEmpty());
    const PipelineConfig& c = parsed.config;
    EXPECT_EQ(c.file, "pipeline.yaml");
    EXPECT_EQ(c.name, "plant-a");

    ASSERT_EQ(c.sources.size(), 2u);
    EXPECT_EQ(c.sources[0].name, "telemetry");
    EXPECT_EQ(c.sources[0].kind, "file");
    ASSERT_NE(c.sources[0].node.find("path"), nullptr);
    EXPECT_EQ(c.sources[0].node.find("path")->scalar, "in.jsonl");
    EXPECT_EQ(c.sources[1].name, "source-2");
    EXPECT_EQ(c.sources[1].kind, "mqtt");

    ASSERT_EQ(c.destinations.size(), 3u);
    EXPECT_EQ(c.destinations[0].name, "out");
    EXPECT_EQ(c.destinations[0].topic, "enriched/{topic}");
    EXPECT_FALSE(c.destinations[0].dead_letter);
    EXPECT_EQ(c.destinations[1].name, "destination-2");
    EXPECT_EQ(c.destinations[1].kind, "null");
    EXPECT_EQ(c.destinations[1].topic, "{topic}");
    EXPECT_EQ(c.destinations[2].name, "dlq");
    EXPECT_TRUE(c.destinations[2].dead_letter);
    EXPECT_EQ(c.destinations[2].topic, "edgeflow/deadletter");
    ASSERT_TRUE(c.dead_letter.has_value());
    EXPECT_EQ(*c.dead_letter, 2u);

    EXPECT_EQ(c.runtime.workers, 3u);
    EXPECT_EQ(c.runtime.batch_size, 16u);
    EXPECT_EQ(c.runtime.max_in_flight_batches, 5u);
    EXPECT_EQ(c.runtime.max_payload_bytes, 4096u);
    EXPECT_EQ(c.runtime.ingest_queue.capacity, 100u);
    EXPECT_EQ(c.runtime.ingest_queue.when_full, FullPolicy::drop_oldest);
    EXPECT_EQ(c.runtime.egress_queue.capacity, 200u);
    EXPECT_EQ(c.effective_workers(), 3u);
    EXPECT_EQ(c.effective_in_flight_batches(), 5u);
    EXPECT_NE(c.root.find("runtime"), nullptr);
}

TEST(PipelineConfig, Defaults) {
    const auto parsed = parse(minimal);
    ASSERT_THAT(parsed.errors, IsEmpty());
    const PipelineConfig& c = parsed.config;
    EXPECT_EQ(c.name, "");
    EXPECT_EQ(c.sources[0].name, "source-1");
    EXPECT_EQ(c.destinations[0].name, "destination-1");
    EXPECT_FALSE(c.dead_letter.has_value());
    EXPECT_EQ(c.runtime.workers, 0u);
    EXPECT_EQ(c.runtime.batch_size, 64u);
    EXPECT_EQ(c.runtime.max_in_flight_batches, 0u);
    EXPECT_EQ(c.runtime.max_payload_bytes, 1u << 20);
    EXPECT_EQ(c.runtime.ingest_queue.capacity, 8192u);
    EXPECT_EQ(c.runtime.ingest_queue.when_full, FullPolicy::block);
    EXPECT_EQ(c.runtime.egress_queue.capacity, 8192u);
    EXPECT_EQ(c.effective_workers(), allowed_cpu_count());
    EXPECT_GE(allowed_cpu_count(), 1u);
    EXPECT_EQ(c.effective_in_flight_batches(), 4 * c.effective_workers());
}

TEST(PipelineConfig, WorkersAutoMeansOnePerCpu) {
    const auto parsed = parse(std::string(minimal) + "runtime:\n  workers: auto\n");
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.runtime.workers, 0u);
    EXPECT_EQ(parsed.config.effective_workers(), allowed_cpu_count());
}

TEST(PipelineConfig, IngestQueueBlockPolicy) {
    const auto parsed =
        parse(std::string(minimal) + "runtime:\n  ingest_queue: {capacity: 1, when_full: block}\n");
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.runtime.ingest_queue.capacity, 1u);
    EXPECT_EQ(parsed.config.runtime.ingest_queue.when_full, FullPolicy::block);
}

TEST(PipelineConfig, RangeLimitsAreAccepted) {
    const auto parsed = parse(std::string(minimal) + R"(runtime:
  workers: 256
  batch_size: 4096
  max_in_flight_batches: 4096
  max_payload_bytes: 268435456
  ingest_queue: {capacity: 16777216}
  egress_queue: {capacity: 1}
)");
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.runtime.workers, 256u);
    EXPECT_EQ(parsed.config.runtime.max_payload_bytes, 268435456u);
    EXPECT_EQ(parsed.config.runtime.ingest_queue.capacity, 16777216u);
}

TEST(PipelineConfig, DeadLetterDestinationKeepsItsTopic) {
    const auto parsed = parse(std::string(minimal) + R"(  - kind: null
    dead_letter: true
    topic: dlq/{topic.1}
  - kind: null
    dead_letter: false
)");
    ASSERT_THAT(parsed.errors, IsEmpty());
    ASSERT_EQ(parsed.config.destinations.size(), 3u);
    EXPECT_EQ(parsed.config.destinations[1].topic, "dlq/{topic.1}");
    EXPECT_EQ(parsed.config.dead_letter, std::optional<std::size_t>(1));
    EXPECT_FALSE(parsed.config.destinations[2].dead_letter);
}

TEST(PipelineConfig, KindNullIsTheNullDestination) {
    const auto parsed = parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
  - kind: ~
  - kind: "null"
)");
    ASSERT_THAT(parsed.errors, IsEmpty());
    for (const auto& d : parsed.config.destinations) {
        EXPECT_EQ(d.kind, "null") << d.name;
    }
}

TEST(PipelineConfig, ResolvesPathsAgainstThePipelineDirectory) {
    const auto parsed = parse(minimal, "/etc/edgeflow/pipeline.yaml");
    ASSERT_THAT(parsed.errors, IsEmpty());
    const EndpointConfig& source = parsed.config.sources[0];
    EXPECT_EQ(source.base_dir, "/etc/edgeflow");
    EXPECT_EQ(source.resolve_path("in.jsonl"), "/etc/edgeflow/in.jsonl");
    EXPECT_EQ(source.resolve_path("../data/in.jsonl"), "/etc/data/in.jsonl");
    EXPECT_EQ(source.resolve_path("/abs/in.jsonl"), "/abs/in.jsonl");
    EXPECT_EQ(source.resolve_path("-"), "-");
    EXPECT_EQ(source.resolve_path(""), "");
}

TEST(PipelineConfig, RelativePipelineFileLeavesPathsAlone) {
    const auto parsed = parse(minimal, "pipeline.yaml");
    EXPECT_EQ(parsed.config.sources[0].resolve_path("in.jsonl"), "in.jsonl");
}

TEST(PipelineConfigErrors, UnknownTopLevelKey) {
    EXPECT_THAT(errors_with("sourcse: 1\n"),
                ElementsAre("pipeline.yaml:6:1: sourcse: expected one of the keys of a pipeline "
                            "file: datasets destinations event_time name partition_key runtime "
                            "sources stages version, found unknown key "
                            "\"sourcse\""));
}

TEST(PipelineConfigErrors, UnknownKeyWithABlockValuePointsAtTheKey) {
    const auto errors = errors_with("extras:\n  - kind: x\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_THAT(errors[0], StartsWith("pipeline.yaml:6:")) << "the key `extras` is on line 6";
}

TEST(PipelineConfigErrors, UnknownRuntimeKey) {
    EXPECT_THAT(
        errors_with("runtime:\n  workers: 2\n  wrokers: 3\n"),
        ElementsAre(
            "pipeline.yaml:8:3: runtime.wrokers: expected one of the keys of "
            "the runtime block: batch_size cpus egress_queue http idle "
            "ingest_queue inline_batch io_cpus log_level max_emitted_per_batch "
            "max_in_flight_batches max_payload_bytes memory_limit pin shards siblings spin_us "
            "workers, found unknown key "
            "\"wrokers\""));
}

TEST(PipelineConfigErrors, UnknownQueueKeys) {
    EXPECT_THAT(errors_with("runtime:\n  ingest_queue:\n    size: 10\n"),
                ElementsAre("pipeline.yaml:8:5: runtime.ingest_queue.size: expected one of the "
                            "keys of ingest_queue: capacity when_full, found unknown key "
                            "\"size\""));
    EXPECT_THAT(runtime_errors("egress_queue: {when_full: block}"),
                ElementsAre("pipeline.yaml:7:18: runtime.egress_queue.when_full: expected one of "
                            "the keys of egress_queue: capacity, found unknown key "
                            "\"when_full\""));
}

TEST(PipelineConfigErrors, WorkersOutOfRangeOrWrongType) {
    for (const char* value : {"many", "0", "257", "-1", "1.5", "\"2\"", "[1]"}) {
        const std::string found =
            value[0] == '['
                ? "a list"
                : (value[0] == '"' ? std::string(value) : "\"" + std::string(value) + "\"");
        EXPECT_THAT(runtime_errors("workers: " + std::string(value)),
                    ElementsAre("pipeline.yaml:7:12: runtime.workers: expected a whole number "
                                "from 1 to 256 or auto, found " +
                                found))
            << value;
    }
}

TEST(PipelineConfigErrors, RuntimeNumbersOutOfRange) {
    struct Case {
        const char* line;
        const char* message;
    };
    const Case cases[] = {
        {"batch_size: 0",
         "pipeline.yaml:7:15: runtime.batch_size: expected a whole number from 1 to 4096, found "
         "\"0\""},
        {"batch_size: 4097",
         "pipeline.yaml:7:15: runtime.batch_size: expected a whole number from 1 to 4096, found "
         "\"4097\""},
        {"batch_size: \"64\"",
         "pipeline.yaml:7:15: runtime.batch_size: expected a whole number from 1 to 4096, found "
         "\"64\""},
        {"max_in_flight_batches: 0",
         "pipeline.yaml:7:26: runtime.max_in_flight_batches: expected a whole number from 1 to "
         "4096, found \"0\""},
        {"max_payload_bytes: 15",
         "pipeline.yaml:7:22: runtime.max_payload_bytes: expected a whole number from 16 to "
         "268435456, found \"15\""},
        {"max_payload_bytes: 268435457",
         "pipeline.yaml:7:22: runtime.max_payload_bytes: expected a whole number from 16 to "
         "268435456, found \"268435457\""},
        {"max_payload_bytes: 99999999999999999999999",
         "pipeline.yaml:7:22: runtime.max_payload_bytes: expected a whole number from 16 to "
         "268435456, found \"99999999999999999999999\""},
        {"ingest_queue: {capacity: 0}",
         "pipeline.yaml:7:28: runtime.ingest_queue.capacity: expected a whole number from 1 to "
         "16777216, found \"0\""},
        {"ingest_queue: {capacity: 16777217}",
         "pipeline.yaml:7:28: runtime.ingest_queue.capacity: expected a whole number from 1 to "
         "16777216, found \"16777217\""},
        {"ingest_queue: {when_full: sometimes}",
         "pipeline.yaml:7:29: runtime.ingest_queue.when_full: expected one of block drop_oldest, "
         "found \"sometimes\""},
        {"egress_queue: {capacity: 0}",
         "pipeline.yaml:7:28: runtime.egress_queue.capacity: expected a whole number from 1 to "
         "16777216, found \"0\""},
        {"ingest_queue: 5",
         "pipeline.yaml:7:17: runtime.ingest_queue: expected ingest_queue (a map of keys), found "
         "\"5\""},
    };
    for (const auto& c : cases) {
        EXPECT_THAT(runtime_errors(c.line), ElementsAre(c.message)) << c.line;
    }
}

TEST(PipelineConfig, ThreadPlacementKeys) {
    const auto parsed = parse(std::string(minimal) + R"(runtime:
  workers: 3
  cpus: [0, 2-3]
  io_cpus: "1"
  pin: true
  siblings: together
  idle: spin
  spin_us: 20
  inline_batch: 0
  log_level: debug
  http: {listen: "0.0.0.0:9100"}
)");
    ASSERT_THAT(parsed.errors, IsEmpty());
    const RuntimeConfig& r = parsed.config.runtime;
    EXPECT_FALSE(r.cpus.automatic);
    EXPECT_THAT(r.cpus.cpus, ElementsAre(0, 2, 3));
    EXPECT_THAT(r.io_cpus.cpus, ElementsAre(1));
    EXPECT_TRUE(r.pin);
    EXPECT_EQ(r.siblings, SiblingPolicy::together);
    EXPECT_EQ(r.idle, IdleStrategy::spin);
    EXPECT_EQ(r.spin_us, 20u);
    EXPECT_EQ(r.inline_batch, 0u);
    EXPECT_EQ(r.log_level, "debug");
    EXPECT_EQ(r.http.host, "0.0.0.0");
    EXPECT_EQ(r.http.port, 9100);
    EXPECT_TRUE(r.http.explicit_listen);
}

TEST(PipelineConfig, ThreadPlacementDefaults) {
    const auto parsed = parse(minimal);
    const RuntimeConfig& r = parsed.config.runtime;
    EXPECT_TRUE(r.cpus.automatic);
    EXPECT_TRUE(r.io_cpus.automatic);
    EXPECT_FALSE(r.pin);
    EXPECT_EQ(r.idle, IdleStrategy::block);
    EXPECT_EQ(r.inline_batch, 8u);
    EXPECT_TRUE(r.http.enabled);
    EXPECT_EQ(r.http.host, "127.0.0.1");
    EXPECT_EQ(r.http.port, 9464);
    EXPECT_FALSE(r.http.explicit_listen);
    EXPECT_FALSE(parse(std::string(minimal) + "runtime: {http: {listen: off}}\n")
                     .config.runtime.http.enabled);
    const auto quoted = parse(std::string(minimal) + "runtime: {http: {listen: \"off\"}}\n");
    EXPECT_TRUE(quoted.errors.empty());
    EXPECT_FALSE(quoted.config.runtime.http.enabled);
    EXPECT_EQ(parse(std::string(minimal) + "runtime: {cpus: \"2\"}\n").config.effective_workers(),
              1u);
}

TEST(PipelineConfigErrors, ThreadPlacementValues) {
    struct Case {
        const char* line;
        const char* message;
    };
    const Case cases[] = {
        {"cpus: [0, x]",
         "pipeline.yaml:7:13: runtime.cpus[1]: expected a CPU number or a range such as 2-3, "
         "found \"x\""},
        {"cpus: 3-1",
         "pipeline.yaml:7:9: runtime.cpus: expected auto, or CPU numbers and ranges such as "
         "[0, 2-3] or \"0-3,6\", found \"3-1\""},
        {"io_cpus: {a: 1}",
         "pipeline.yaml:7:12: runtime.io_cpus: expected auto, or CPU numbers and ranges such as "
         "[0, 2-3] or \"0-3,6\", found a map"},
        {"pin: yes", "pipeline.yaml:7:8: runtime.pin: expected true or false, found \"yes\""},
        {"idle: sleep",
         "pipeline.yaml:7:9: runtime.idle: expected one of spin yield block, found \"sleep\""},
        {"inline_batch: 5000",
         "pipeline.yaml:7:17: runtime.inline_batch: expected a whole number from 0 to 4096, "
         "found \"5000\""},
        {"siblings: near",
         "pipeline.yaml:7:13: runtime.siblings: expected one of apart together, found \"near\""},
        {"log_level: loud",
         "pipeline.yaml:7:14: runtime.log_level: expected one of debug info warn error off, "
         "found \"loud\""},
        {"http: {listen: 9464}",
         "pipeline.yaml:7:18: runtime.http.listen: expected an address to listen on, host:port "
         "(127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464), or off, found \"9464\""},
        {"http: {port: 1}",
         "pipeline.yaml:7:10: runtime.http.port: expected one of the keys of the http block: "
         "listen, found unknown key \"port\""},
    };
    for (const auto& c : cases) {
        EXPECT_THAT(runtime_errors(c.line), ElementsAre(c.message)) << c.line;
    }
}

TEST(PipelineConfigErrors, RuntimeNotAMap) {
    EXPECT_THAT(errors_with("runtime: 5\n"),
                ElementsAre("pipeline.yaml:6:10: runtime: expected the runtime block (a map of "
                            "keys), found \"5\""));
    EXPECT_THAT(errors_with("runtime:\n"),
                ElementsAre("pipeline.yaml:6:1: runtime: expected the runtime block (a map of "
                            "keys), found nothing"));
}

TEST(PipelineConfigErrors, VersionAndName) {
    EXPECT_THAT(errors_with("version: 2\n"),
                ElementsAre("pipeline.yaml:6:10: version: expected a whole number from 1 to 1, "
                            "found \"2\""));
    EXPECT_THAT(errors_with("name: [a]\n"),
                ElementsAre("pipeline.yaml:6:7: name: expected a pipeline name, found a list"));
}

TEST(PipelineConfigErrors, MissingSourcesOrDestinations) {
    EXPECT_THAT(parse("destinations:\n  - kind: null\n").errors,
                ElementsAre("pipeline.yaml:1:1: sources: expected a list of sources, found no "
                            "such key"));
    EXPECT_THAT(parse("sources:\n  - kind: file\n    path: x\n").errors,
                ElementsAre("pipeline.yaml:1:1: destinations: expected a list of destinations, "
                            "found no such key"));
}

TEST(PipelineConfigErrors, SourcesNotAList) {
    EXPECT_THAT(parse("sources: {kind: file}\ndestinations:\n  - kind: null\n").errors,
                ElementsAre("pipeline.yaml:1:10: sources: expected a list of sources, found a "
                            "map"));
    const auto empty = parse("sources: []\ndestinations:\n  - kind: null\n").errors;
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_THAT(empty[0], StartsWith("pipeline.yaml:1:10: sources: expected a list of sources, "
                                     "found "));
}

TEST(PipelineConfigErrors, MissingKind) {
    EXPECT_THAT(parse(R"(
sources:
  - name: a
    path: x
destinations:
  - kind: null
)")
                    .errors,
                ElementsAre("pipeline.yaml:2:5: sources[0].kind: expected the kind of source, "
                            "found no such key"));
}

TEST(PipelineConfigErrors, EndpointNotAMap) {
    EXPECT_THAT(parse("sources: [a]\ndestinations:\n  - kind: null\n").errors,
                ElementsAre("pipeline.yaml:1:11: sources[0]: expected a source (a map with at "
                            "least `kind`), found \"a\""));
}

TEST(PipelineConfigErrors, KindOfTheWrongShape) {
    EXPECT_THAT(parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind:
  - kind: [file]
)")
                    .errors,
                ElementsAre("pipeline.yaml:5:5: destinations[0].kind: expected a kind (mqtt, "
                            "file, null), found nothing",
                            "pipeline.yaml:6:11: destinations[1].kind: expected a kind (mqtt, "
                            "file, null), found a list"));
}

TEST(PipelineConfigErrors, EmptyName) {
    EXPECT_THAT(parse(R"(
sources:
  - name: ""
    kind: file
    path: in.jsonl
destinations:
  - kind: null
)")
                    .errors,
                ElementsAre("pipeline.yaml:2:11: sources[0].name: expected a name, found \"\""));
}

TEST(PipelineConfigErrors, DestinationTopicNotText) {
    EXPECT_THAT(errors_with("    topic: {topic}\n"),
                ElementsAre("pipeline.yaml:6:12: destinations[0].topic: expected a topic "
                            "template, found a map"));
}

TEST(PipelineConfigErrors, DeadLetterNotABool) {
    EXPECT_THAT(errors_with("    dead_letter: yes\n  - kind: null\n"),
                ElementsAre("pipeline.yaml:6:18: destinations[0].dead_letter: expected true or "
                            "false, found \"yes\""));
}

TEST(PipelineConfigErrors, TwoDeadLetterDestinations) {
    const auto parsed = parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
  - name: dlq1
    kind: null
    dead_letter: true
  - name: dlq2
    kind: null
    dead_letter: true
)");
    EXPECT_THAT(parsed.errors,
                ElementsAre("pipeline.yaml:11:18: destinations[2].dead_letter: expected at most "
                            "one dead_letter destination, found a second one, \"dlq2\""));
    EXPECT_EQ(parsed.config.dead_letter, std::optional<std::size_t>(1));
}

TEST(PipelineConfigErrors, OnlyADeadLetterDestination) {
    EXPECT_THAT(parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
    dead_letter: true
)")
                    .errors,
                ElementsAre("pipeline.yaml:5:3: destinations: expected at least one destination "
                            "that is not the dead_letter one, found only the dead_letter "
                            "destination"));
}

TEST(PipelineConfigErrors, DuplicateNames) {
    EXPECT_THAT(parse(R"(
sources:
  - name: a
    kind: file
    path: x
  - name: a
    kind: file
    path: y
destinations:
  - name: out
    kind: null
  - name: out
    kind: null
)")
                    .errors,
                ElementsAre("pipeline.yaml:5:11: sources[1].name: expected a name used once, "
                            "found \"a\" again",
                            "pipeline.yaml:11:11: destinations[1].name: expected a name used "
                            "once, found \"out\" again"));
}

TEST(PipelineConfigErrors, DefaultNameClashesWithAGivenOne) {
    EXPECT_THAT(parse(R"(
sources:
  - name: source-2
    kind: file
    path: x
  - kind: file
    path: y
destinations:
  - kind: null
)")
                    .errors,
                ElementsAre("pipeline.yaml:5:5: sources[1]: expected a name used once, found "
                            "\"source-2\" again"));
}

TEST(PipelineConfigErrors, SourceAndDestinationMayShareAName) {
    EXPECT_THAT(parse(R"(
sources:
  - name: plant
    kind: file
    path: x
destinations:
  - name: plant
    kind: null
)")
                    .errors,
                IsEmpty());
}

TEST(PipelineConfigErrors, EveryErrorIsReportedInFileOrder) {
    EXPECT_THAT(parse(R"(
sources:
  - name: a
    path: x
destinations:
  - kind: null
runtime:
  batch_size: 0
colour: blue
)")
                    .errors,
                ElementsAre("pipeline.yaml:2:5: sources[0].kind: expected the kind of source, "
                            "found no such key",
                            "pipeline.yaml:7:15: runtime.batch_size: expected a whole number from "
                            "1 to 4096, found \"0\"",
                            "pipeline.yaml:8:1: colour: expected one of the keys of a pipeline "
                            "file: datasets destinations event_time name partition_key runtime "
                            "sources stages version, found unknown key "
                            "\"colour\""));
}

// Each message carries one routing bit per destination: more than 64 is a config error, 64 is not.
TEST(PipelineConfig, AtMost64Destinations) {
    const auto with = [](int n) {
        std::string text = "sources:\n  - kind: file\n    path: in.jsonl\ndestinations:\n";
        for (int i = 0; i < n; ++i) {
            text += "  - {name: d" + std::to_string(i) + ", kind: null}\n";
        }
        return parse(text).errors;
    };
    EXPECT_TRUE(with(64).empty());
    const auto errors = with(65);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("at most 64 destinations, found 65"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace edgeflow
