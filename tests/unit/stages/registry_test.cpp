#include "stages/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/yaml_loader.h"
#include "io/envelope.h"

namespace edgeflow {
namespace {

using testing::AllOf;
using testing::ElementsAre;
using testing::EndsWith;
using testing::IsEmpty;
using testing::StartsWith;

struct Built {
    PipelineConfig config;
    std::shared_ptr<DeadLetterCounts> counts = std::make_shared<DeadLetterCounts>();
    std::vector<std::unique_ptr<AnyStage>> stages;
    std::vector<std::string> errors;  ///< ConfigError::to_string(), in file order
};

// Raw string literals start with a newline, dropped here: line 1 is the line after R"(.
Built build(std::string_view text) {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    ConfigErrors errors("pipeline.yaml");
    Built out;
    if (auto root = load_yaml_text(std::string(text), errors)) {
        out.config = parse_pipeline(*root, errors);
        out.stages = build_stages(out.config, out.counts, errors).stages;
        for (const auto& stage : out.stages) {
            stage->prepare(2);  // the tests run them as worker 1
        }
    }
    std::istringstream lines(errors.to_string());
    for (std::string line; std::getline(lines, line);) {
        out.errors.push_back(line);
    }
    return out;
}

// Lines 1-5; a test appends keys of the destination on line 6.
constexpr std::string_view one_destination = R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: null
)";

std::vector<std::string> destination_errors(std::string_view lines) {
    return build(std::string(one_destination) + std::string(lines)).errors;
}

// A bad topic template at `where` (position and key). The middle of the `expected` text is not
// checked: it names the payload-field syntax as `{payload.field}`, which the templates do not use.
testing::Matcher<std::string> template_error(const std::string& where, const std::string& found) {
    return AllOf(StartsWith(where + ": expected a topic template: text with {topic}, {topic.N}"),
                 EndsWith(", found " + found));
}

TEST(StageRegistry, BuildsParseRouteSerialize) {
    const Built built = build(one_destination);
    ASSERT_THAT(built.errors, IsEmpty());
    ASSERT_EQ(built.stages.size(), 3u);
    EXPECT_EQ(built.stages[0]->kind(), "parse");
    EXPECT_EQ(built.stages[1]->kind(), "route");
    EXPECT_EQ(built.stages[2]->kind(), "serialize");
    for (const auto& stage : built.stages) {
        EXPECT_EQ(stage->shape(), StageShape::stateless) << stage->kind();
    }
}

// A stage's `name` goes with it, so the summary and the `stage` metric label tell two stages
// of one kind apart; stages without one are known by their kind.
TEST(StageRegistry, StagesKeepTheirNames) {
    const Built built = build(std::string(one_destination) + R"(stages:
  - {kind: transform, name: first, map: [{inputs: [a], output: a}]}
  - {kind: transform, map: [{inputs: [b], output: b}]}
)");
    ASSERT_THAT(built.errors, IsEmpty());
    std::vector<std::string> names;
    for (const auto& stage : built.stages) {
        names.push_back(stage->name);
    }
    EXPECT_THAT(names, testing::ElementsAre("", "first", "", "", ""));
}

class StagePipeline : public testing::Test {
protected:
    void SetUp() override {
        built_ = build(R"(
sources:
  - name: telemetry
    kind: file
    path: in.jsonl
destinations:
  - name: out
    kind: null
    topic: enriched/{topic.2}/{deviceId}
  - name: copy
    kind: null
  - name: dlq
    kind: null
    dead_letter: true
    topic: dlq/{topic.1}
runtime:
  max_payload_bytes: 64
)");
        ASSERT_THAT(built_.errors, IsEmpty());
    }

    Message& add(std::string topic, std::string_view payload) {
        storage_.push_back(std::make_unique<Message>());
        Message& m = *storage_.back();
        m.topic = std::move(topic);
        assign_padded(m.payload, payload);
        m.destination_topics.resize(built_.config.destinations.size());
        batch_.push(&m);
        return m;
    }

    void run() {
        for (const auto& stage : built_.stages) {
            StageContext ctx{1, stage->counters};
            stage->process(batch_, ctx);
        }
    }

    Built built_;
    std::vector<std::unique_ptr<Message>> storage_;
    Batch batch_{8};
};

TEST_F(StagePipeline, RoutesAndSerializesLiveMessages) {
    Message& m = add("plant/line1/t", R"({"deviceId":"pump-1", "v": 2})");
    run();
    ASSERT_FALSE(m.dead()) << m.dead_letter_detail;
    EXPECT_EQ(m.destination_topics[0], "enriched/line1/pump-1");
    EXPECT_EQ(m.destination_topics[1], "plant/line1/t");
    EXPECT_EQ(m.destination_topics[2], "");
    EXPECT_EQ(m.output, R"({"deviceId":"pump-1","v":2})");
}

TEST_F(StagePipeline, RejectedMessagesGetTheDeadLetterTopicAndRecord) {
    Message& bad = add("plant/line1/t", R"({"deviceId":)");
    Message& unrouted = add("plant/line1/t", R"({"v":1})");
    Message& large = add("plant/x", std::string(65, ' ') + "1");
    run();
    EXPECT_EQ(bad.dead_letter, DeadLetterReason::invalid_json);
    EXPECT_EQ(unrouted.dead_letter, DeadLetterReason::topic_unresolved);
    EXPECT_EQ(large.dead_letter, DeadLetterReason::payload_too_large);
    for (const Message* m : {&bad, &unrouted, &large}) {
        EXPECT_EQ(m->destination_topics[2], "dlq/plant");
        EXPECT_EQ(m->output.rfind(R"({"reason":")", 0), 0u) << m->output;
    }
    // Rejected by parse: route never saw it.
    EXPECT_EQ(load(built_.stages[1]->counters.in), 1u);
    EXPECT_EQ(load(built_.stages[1]->counters.errors), 1u);
    EXPECT_EQ(
        load(
            built_.counts->by_reason[static_cast<std::size_t>(DeadLetterReason::topic_unresolved)]),
        1u);
}

TEST(StageRegistryErrors, TopicLevelZero) {
    EXPECT_THAT(destination_errors("    topic: \"{topic.0}\"\n"),
                ElementsAre(template_error("pipeline.yaml:6:12: destinations[0].topic",
                                           "'{topic.0}': {topic.0} needs a level number from 1, "
                                           "as in {topic.2}")));
}

TEST(StageRegistryErrors, UnclosedBrace) {
    EXPECT_THAT(destination_errors("    topic: out/{topic\n"),
                ElementsAre(template_error("pipeline.yaml:6:12: destinations[0].topic",
                                           "'out/{topic': '{' without a closing '}'")));
}

TEST(StageRegistryErrors, WildcardInTopic) {
    EXPECT_THAT(destination_errors("    topic: out/+/x\n"),
                ElementsAre(template_error("pipeline.yaml:6:12: destinations[0].topic",
                                           "'out/+/x': a topic to publish to cannot contain '+', "
                                           "'#' or a stray '}'")));
}

TEST(StageRegistryErrors, DeadLetterTopicReadingThePayload) {
    EXPECT_THAT(destination_errors("  - kind: null\n    dead_letter: true\n"
                                   "    topic: dlq/{deviceId}\n"),
                ElementsAre("pipeline.yaml:8:12: destinations[1].topic: expected a dead-letter "
                            "topic built from text, {topic} and {topic.N} only (a rejected "
                            "payload may be unreadable), found \"dlq/{deviceId}\""));
}

TEST(StageRegistryErrors, EveryBadTemplateIsReported) {
    EXPECT_THAT(destination_errors("    topic: a/#\n  - kind: null\n    topic: \"{topic.x}\"\n"),
                testing::SizeIs(2));
}

}  // namespace
}  // namespace edgeflow
