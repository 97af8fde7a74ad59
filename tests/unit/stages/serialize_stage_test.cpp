#include "stages/serialize_stage.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "io/envelope.h"
#include "stages/parse_stage.h"

namespace edgeflow {
namespace {

constexpr std::size_t output_index = 0;
constexpr std::size_t dead_letter_index = 1;

TopicTemplate compile(std::string_view pattern) {
    auto parsed = TopicTemplate::parse(pattern);
    EXPECT_TRUE(parsed.has_value()) << pattern;
    return std::move(parsed).value();
}

class SerializeStageTest : public testing::Test {
protected:
    SerializeStage make_stage(std::optional<std::string> dead_letter_topic) {
        std::optional<DeadLetterTarget> target;
        if (dead_letter_topic) {
            target = DeadLetterTarget{dead_letter_index, compile(*dead_letter_topic)};
        }
        return SerializeStage(std::move(target), {"telemetry", "broker"}, counts_);
    }

    Message& add(std::string topic, std::string_view payload) {
        storage_.push_back(std::make_unique<Message>());
        Message& m = *storage_.back();
        m.topic = std::move(topic);
        assign_padded(m.payload, payload);
        m.destination_topics.resize(2);
        batch_.push(&m);
        return m;
    }

    void parse_all() {
        StageContext ctx{0, parse_counters_};
        parse_.process(batch_, ctx);
    }
    void serialize(SerializeStage& stage) {
        StageContext ctx{0, counters_};
        stage.process(batch_, ctx);
    }
    // The parse stage then `stage` over the batch, as the graph runs them.
    void run(SerializeStage& stage) {
        parse_all();
        serialize(stage);
    }

    std::shared_ptr<DeadLetterCounts> counts_ = std::make_shared<DeadLetterCounts>();
    ParseStage parse_{ParseConfig{256, 32}};
    std::vector<std::unique_ptr<Message>> storage_;
    Batch batch_{8};
    StageCounters parse_counters_;
    StageCounters counters_;
};

TEST_F(SerializeStageTest, LiveMessageBecomesCompactJson) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("a/b", R"( { "v" : [ 1 , 2.50 , "x" ] , "ok" : true , "n" : null } )");
    m.output = "stale output";
    run(stage);
    EXPECT_FALSE(m.dead());
    EXPECT_EQ(m.output, R"({"v":[1,2.5,"x"],"ok":true,"n":null})");
    EXPECT_EQ(load(counters_.in), 1u);
    EXPECT_EQ(load(counters_.out), 1u);
    EXPECT_EQ(load(counters_.errors), 0u);
}

TEST_F(SerializeStageTest, OutputRoundTripsThroughParse) {
    auto stage = make_stage(std::nullopt);
    const std::string input =
        R"({"s":"q\"uote\\ \u0001 caf\u00e9","i":-9223372036854775808,)"
        R"("u":18446744073709551615,"d":21.0,"e":1e-7,"big":1e300,"a":[[],{},[null,false]],)"
        R"("o":{"":0,"k":{"deep":"x"}}})";
    Message& m = add("t", input);
    run(stage);
    ASSERT_FALSE(m.dead()) << m.dead_letter_detail;
    const std::string first = m.output;
    EXPECT_EQ(
        first,
        R"({"s":"q\"uote\\ \u0001 café","i":-9223372036854775808,)"
        R"("u":18446744073709551615,"d":21.0,"e":1e-07,"big":1e+300,"a":[[],{},[null,false]],)"
        R"("o":{"":0,"k":{"deep":"x"}}})");

    // Parse what was written and write it again: the same text.
    m.record.clear();
    assign_padded(m.payload, first);
    m.output.clear();
    run(stage);
    ASSERT_FALSE(m.dead()) << m.dead_letter_detail;
    EXPECT_EQ(m.output, first);
}

TEST_F(SerializeStageTest, DeadLetterRecordHasEveryField) {
    auto stage = make_stage("dlq/{topic.1}");
    Message& m = add("plant/line1/t", R"({"v":)");
    m.source = 0;
    m.source_line = 12;
    m.add_property("unit", "C");
    m.add_property("q\"k", "v");
    run(stage);
    ASSERT_EQ(m.dead_letter, DeadLetterReason::invalid_json);
    EXPECT_EQ(m.destination_topics[dead_letter_index], "dlq/plant");
    EXPECT_EQ(m.output,
              R"({"reason":"invalid_json","stage":"parse","detail":")" +
                  std::string(m.dead_letter_detail) +
                  R"(","source":"telemetry","source_topic":"plant/line1/t","source_line":12,)"
                  R"("properties":{"unit":"C","q\"k":"v"},"payload":"{\"v\":"})");
    EXPECT_EQ(load(counts_->by_reason[static_cast<std::size_t>(DeadLetterReason::invalid_json)]),
              1u);
    EXPECT_EQ(load(counts_->discarded), 0u);
    // Dead letters are not counted as the stage's own input.
    EXPECT_EQ(load(counters_.in), 0u);
}

TEST_F(SerializeStageTest, DeadLetterOfAnMqttMessageHasNoLineOrProperties) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("site/a", "not json");
    m.source = 1;
    run(stage);
    ASSERT_TRUE(m.dead());
    EXPECT_EQ(m.destination_topics[dead_letter_index], "dlq/site/a");
    EXPECT_EQ(m.output, R"({"reason":"invalid_json","stage":"parse","detail":")" +
                            std::string(m.dead_letter_detail) +
                            R"(","source":"broker","source_topic":"site/a","payload":"not json"})");
}

TEST_F(SerializeStageTest, DeadLetterRecordIsValidJsonWithTheDetail) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("t", "{\"v\":\"\n\"}");  // the detail and payload both need escaping
    run(stage);
    ASSERT_TRUE(m.dead());
    simdjson::dom::parser parser;
    simdjson::dom::element record;
    ASSERT_EQ(parser.parse(m.output).get(record), simdjson::SUCCESS) << m.output;
    EXPECT_EQ(std::string_view(record["reason"]), "invalid_json");
    EXPECT_EQ(std::string_view(record["detail"]), m.dead_letter_detail);
    EXPECT_EQ(std::string_view(record["payload"]), "{\"v\":\"\n\"}");
}

TEST_F(SerializeStageTest, NonUtf8PayloadIsBase64) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("bin", std::string_view("\xff\xfe\x00\x01", 4));
    run(stage);
    ASSERT_TRUE(m.dead());
    EXPECT_EQ(m.output.find("\"payload\":"), std::string::npos) << m.output;
    const std::string suffix = R"(,"payload_base64":"//4AAQ=="})";
    ASSERT_GE(m.output.size(), suffix.size());
    EXPECT_EQ(m.output.substr(m.output.size() - suffix.size()), suffix);
}

TEST_F(SerializeStageTest, RejectedByAnEarlierStageKeepsItsReason) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("", "line that was no envelope");
    m.source_line = 3;
    m.reject(DeadLetterReason::invalid_envelope, "source", "envelope is not one JSON object");
    Message& route = add("a/b", R"({"v":1})");
    parse_all();
    ASSERT_FALSE(route.dead());
    // Rejected after parsing, as the route stage does.
    route.reject(DeadLetterReason::topic_unresolved, "route", "input topic has no level 3");
    serialize(stage);

    // No input topic: the template cannot be used, so the fallback topic.
    EXPECT_EQ(m.destination_topics[dead_letter_index], SerializeStage::fallback_topic);
    EXPECT_EQ(m.output,
              R"({"reason":"invalid_envelope","stage":"source","detail":"envelope is not one )"
              R"(JSON object","source":"telemetry","source_topic":"","source_line":3,)"
              R"("payload":"line that was no envelope"})");
    EXPECT_EQ(route.output,
              R"({"reason":"topic_unresolved","stage":"route","detail":"input topic has no )"
              R"(level 3","source":"telemetry","source_topic":"a/b","payload":"{\"v\":1}"})");
}

TEST_F(SerializeStageTest, TemplateThatCannotRenderUsesTheFallbackTopic) {
    auto stage = make_stage("dlq/{topic.3}");
    Message& m = add("only/two", "x");
    run(stage);
    ASSERT_TRUE(m.dead());
    EXPECT_EQ(m.destination_topics[dead_letter_index], "edgeflow/deadletter");
}

TEST_F(SerializeStageTest, UnknownSourceIndex) {
    auto stage = make_stage("dlq/{topic}");
    Message& m = add("t", "x");
    m.source = 7;
    run(stage);
    EXPECT_NE(m.output.find(R"("source":"unknown")"), std::string::npos) << m.output;
}

TEST_F(SerializeStageTest, CountsDeadLettersByReason) {
    auto stage = make_stage("dlq/{topic}");
    add("a", "bad");
    add("b", "also bad");
    add("c", std::string(300, '1'));  // over the parse stage's 256 bytes
    add("d", "[1]");
    Message& early = add("e", "[2]");
    early.reject(DeadLetterReason::invalid_envelope, "source", "x");
    run(stage);
    const auto count = [&](DeadLetterReason reason) {
        return load(counts_->by_reason[static_cast<std::size_t>(reason)]);
    };
    EXPECT_EQ(count(DeadLetterReason::invalid_json), 2u);
    EXPECT_EQ(count(DeadLetterReason::payload_too_large), 1u);
    EXPECT_EQ(count(DeadLetterReason::invalid_envelope), 1u);
    EXPECT_EQ(count(DeadLetterReason::topic_unresolved), 0u);
    EXPECT_EQ(count(DeadLetterReason::none), 0u);
    EXPECT_EQ(load(counts_->discarded), 0u);
    EXPECT_EQ(load(counters_.in), 1u);
    EXPECT_EQ(load(counters_.out), 1u);
}

TEST_F(SerializeStageTest, WithoutADeadLetterDestinationRejectedAreDiscarded) {
    auto stage = make_stage(std::nullopt);
    Message& bad = add("a", "bad");
    add("b", "{}");
    Message& early = add("c", "[1]");
    early.reject(DeadLetterReason::invalid_envelope, "source", "x");
    run(stage);
    EXPECT_TRUE(bad.dead());
    EXPECT_EQ(load(counts_->discarded), 2u);
    EXPECT_EQ(load(counts_->by_reason[static_cast<std::size_t>(DeadLetterReason::invalid_json)]),
              1u);
    EXPECT_EQ(
        load(counts_->by_reason[static_cast<std::size_t>(DeadLetterReason::invalid_envelope)]), 1u);
    EXPECT_EQ(bad.destination_topics[dead_letter_index], "");
}

TEST(DeadLetterReason, StableNames) {
    EXPECT_EQ(to_string(DeadLetterReason::none), "none");
    EXPECT_EQ(to_string(DeadLetterReason::payload_too_large), "payload_too_large");
    EXPECT_EQ(to_string(DeadLetterReason::invalid_json), "invalid_json");
    EXPECT_EQ(to_string(DeadLetterReason::topic_unresolved), "topic_unresolved");
    EXPECT_EQ(to_string(DeadLetterReason::invalid_envelope), "invalid_envelope");
}

}  // namespace
}  // namespace edgeflow
