#include "stages/route_stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace edgeflow {
namespace {

TopicTemplate compile(std::string_view pattern) {
    auto parsed = TopicTemplate::parse(pattern);
    EXPECT_TRUE(parsed.has_value()) << pattern;
    return std::move(parsed).value();
}

// Destination 0: the dead-letter one (not routed here); 1: `{topic}`; 2: `dev/{id}/{topic.2}`.
RouteStage make_stage() {
    std::vector<RouteTarget> targets;
    targets.push_back({1, compile("copy/{topic}")});
    targets.push_back({2, compile("dev/{id}/{topic.2}")});
    return RouteStage(std::move(targets), std::nullopt);
}

std::unique_ptr<Message> make_message(std::string topic, std::string_view id) {
    auto m = std::make_unique<Message>();
    m->topic = std::move(topic);
    m->destination_topics.resize(3);
    const auto root = m->record.open_object({});
    if (!id.empty()) {
        m->record.add_string("id", id);
    }
    m->record.close(root);
    return m;
}

// The route stage is where every message's destinations are decided (Message::routes): sinks
// only read the bits. Destination 0 is the dead-letter one, 1 takes every live message, 2 is
// reserved for what stages emit to it.
TEST(RouteStage, DecidesEveryMessagesDestinations) {
    std::vector<RouteTarget> targets;
    targets.push_back({1, compile("copy/{topic.2}")});
    targets.push_back({2, compile("events/{topic}"), true});
    RouteStage stage(std::move(targets), std::size_t{0});
    auto live = make_message("plant/line1/t", "pump-3");
    auto emitted = make_message("plant/line1/t", "pump-3");
    emitted->target = 2;
    auto rejected = make_message("plant/line1/t", "pump-3");
    rejected->reject(DeadLetterReason::invalid_json, "parse", "bad");
    auto filtered = make_message("plant/line1/t", "pump-3");
    filtered->dropped = true;
    filtered->routes = ~std::uint64_t{0};               // left over: must be cleared
    auto unresolved = make_message("plant", "pump-3");  // no second level for copy/{topic.2}
    Batch batch(8);
    for (auto* m : {live.get(), emitted.get(), rejected.get(), filtered.get(), unresolved.get()}) {
        batch.push(m);
    }
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    EXPECT_EQ(live->routes, std::uint64_t{1} << 1);
    EXPECT_EQ(emitted->routes, std::uint64_t{1} << 2);
    EXPECT_EQ(emitted->destination_topics[2], "events/plant/line1/t");
    EXPECT_EQ(rejected->routes, std::uint64_t{1} << 0);
    EXPECT_EQ(filtered->routes, 0u);
    EXPECT_TRUE(unresolved->dead());
    EXPECT_EQ(unresolved->routes, std::uint64_t{1} << 0);
    EXPECT_EQ(counters.in.load(), 3u);
    EXPECT_EQ(counters.errors.load(), 1u);
}

TEST(RouteStage, WritesEachDestinationsTopic) {
    RouteStage stage = make_stage();
    auto m = make_message("plant/line1/t", "pump-3");
    m->destination_topics[1] = "stale topic of a previous message";
    Batch batch(4);
    batch.push(m.get());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);

    EXPECT_FALSE(m->dead());
    EXPECT_EQ(m->destination_topics[0], "");
    EXPECT_EQ(m->destination_topics[1], "copy/plant/line1/t");
    EXPECT_EQ(m->destination_topics[2], "dev/pump-3/line1");
    EXPECT_EQ(load(counters.in), 1u);
    EXPECT_EQ(load(counters.out), 1u);
    EXPECT_EQ(load(counters.errors), 0u);
}

TEST(RouteStage, UnresolvableTemplateRejectsTheMessage) {
    RouteStage stage = make_stage();
    auto no_field = make_message("plant/line1/t", "");
    auto no_level = make_message("plant", "pump-3");
    auto bad_value = make_message("plant/line1", "a/b");
    auto fine = make_message("plant/line2", "pump-4");
    Batch batch(4);
    for (Message* m : {no_field.get(), no_level.get(), bad_value.get(), fine.get()}) {
        batch.push(m);
    }
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);

    EXPECT_EQ(no_field->dead_letter, DeadLetterReason::topic_unresolved);
    EXPECT_EQ(no_field->dead_letter_stage, "route");
    EXPECT_EQ(no_field->dead_letter_detail, "payload field 'id' is missing or not a scalar");
    EXPECT_EQ(no_level->dead_letter, DeadLetterReason::topic_unresolved);
    EXPECT_EQ(no_level->dead_letter_detail, "input topic has no level 2");
    EXPECT_EQ(bad_value->dead_letter, DeadLetterReason::topic_unresolved);
    EXPECT_EQ(bad_value->dead_letter_detail,
              "payload field 'id' is empty or holds '/', '+' or '#'");
    EXPECT_FALSE(fine->dead());
    EXPECT_EQ(fine->destination_topics[2], "dev/pump-4/line2");

    EXPECT_EQ(load(counters.in), 4u);
    EXPECT_EQ(load(counters.out), 1u);
    EXPECT_EQ(load(counters.errors), 3u);
}

TEST(RouteStage, SkipsMessagesRejectedEarlier) {
    RouteStage stage = make_stage();
    auto dead = make_message("plant/line1/t", "pump-3");
    dead->reject(DeadLetterReason::invalid_json, "parse", "bad");
    Batch batch(1);
    batch.push(dead.get());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);

    EXPECT_EQ(dead->dead_letter, DeadLetterReason::invalid_json);
    EXPECT_EQ(dead->dead_letter_stage, "parse");
    EXPECT_EQ(dead->destination_topics[1], "");
    EXPECT_EQ(load(counters.in), 0u);
    EXPECT_EQ(load(counters.errors), 0u);
}

TEST(RouteStage, NoTargetsPassesMessagesThrough) {
    RouteStage stage({}, std::nullopt);
    auto m = make_message("a/b", "x");
    Batch batch(1);
    batch.push(m.get());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    EXPECT_FALSE(m->dead());
    EXPECT_EQ(load(counters.in), 1u);
    EXPECT_EQ(load(counters.out), 1u);
}

}  // namespace
}  // namespace edgeflow

namespace edgeflow {
namespace {

// A topic the broker would refuse, or close the connection on, never reaches a destination:
// the message goes to the dead-letter destination as topic_invalid, with a detail that says
// what is wrong and where, without quoting the topic.
TEST(RouteStage, TopicsMqttDoesNotAllowAreDeadLettered) {
    std::vector<RouteTarget> targets;
    targets.push_back({1, compile("enriched/{topic}")});
    RouteStage stage(std::move(targets), std::size_t{0});
    struct Case {
        std::string topic;
        std::string detail;
    };
    const std::vector<Case> cases = {
        {"plant/a+b", "the destination topic (18 bytes) holds the wildcard '+' at byte 16"},
        {"plant/#", "the destination topic (16 bytes) holds the wildcard '#' at byte 15"},
        {std::string("plant/a\0b", 9),
         "the destination topic (18 bytes) holds the null character U+0000 at byte 16"},
        {"plant/a\tb", "the destination topic (18 bytes) holds a control character U+0009 at byte 16"},
        {"plant/a\x7f", "the destination topic (17 bytes) holds a control character U+007F at byte 16"},
        {"plant/\xc2\x80", "the destination topic (17 bytes) holds a control character U+0080 at byte 15"},
        {"plant/\xc2\x9f", "the destination topic (17 bytes) holds a control character U+009F at byte 15"},
        {"plant/\xff", "the destination topic (16 bytes) holds a byte that is not UTF-8 at byte 15"},
        {"plant/\xc0\xaf", "the destination topic (17 bytes) holds a byte sequence that is not UTF-8 at byte 15"},
        {"plant/\xed\xa0\x80", "the destination topic (18 bytes) holds a UTF-16 surrogate U+D800 at byte 15"},
        {"plant/\xef\xbf\xbf", "the destination topic (18 bytes) holds a Unicode non-character U+FFFF at byte 15"},
        {"plant/\xe2\x82", "the destination topic (17 bytes) holds a UTF-8 sequence cut short at byte 15"},
        {"plant/" + std::string(70'000, 'x'),
         "the destination topic (70015 bytes) is longer than the 65535 bytes MQTT allows"},
    };
    for (const auto& c : cases) {
        auto m = make_message(c.topic, "");
        Batch batch(1);
        batch.push(m.get());
        StageCounters counters;
        StageContext ctx{0, counters};
        stage.process(batch, ctx);
        EXPECT_EQ(m->dead_letter, DeadLetterReason::topic_invalid) << c.detail;
        EXPECT_EQ(m->dead_letter_stage, "route");
        EXPECT_EQ(m->dead_letter_detail, c.detail);
        EXPECT_EQ(m->routes, std::uint64_t{1} << 0) << c.detail;  // the dead-letter destination
        EXPECT_EQ(counters.errors.load(), 1u);
    }
    // What MQTT allows passes: spaces, '$' inside, non-ASCII letters, the longest topic.
    for (const std::string& topic :
         {std::string("plant/line 1/$x"), std::string("plant/K\xc3\xbchlraum/\xe2\x82\xac"),
          std::string("p/") + std::string(65535 - 11, 'x')}) {
        auto m = make_message(topic, "");
        Batch batch(1);
        batch.push(m.get());
        StageCounters counters;
        StageContext ctx{0, counters};
        stage.process(batch, ctx);
        EXPECT_FALSE(m->dead()) << m->dead_letter_detail;
        EXPECT_EQ(m->routes, std::uint64_t{1} << 1);
    }
}

// A topic a transform wrote to $metadata.topic for an emitted message is checked the same way.
TEST(RouteStage, AnInvalidTopicSetByAStageIsDeadLettered) {
    std::vector<RouteTarget> targets;
    targets.push_back({1, compile("events/{topic}"), true});
    RouteStage stage(std::move(targets), std::size_t{0});
    auto m = make_message("plant/a", "");
    m->target = 1;
    m->output_topic = "events/\x01";
    m->output_topic_set = true;
    Batch batch(1);
    batch.push(m.get());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    EXPECT_EQ(m->dead_letter, DeadLetterReason::topic_invalid);
    EXPECT_EQ(m->routes, std::uint64_t{1} << 0);
}

TEST(TopicForLog, LongTopicsAreCut) {
    EXPECT_EQ(topic_for_log("a/b"), "a/b");
    const std::string cut = topic_for_log(std::string(70'000, 'x'));
    EXPECT_EQ(cut, std::string(120, 'x') + "... (70000 bytes)");
    // Never in the middle of a character: 119 ASCII bytes, then a two-byte letter.
    const std::string mixed = std::string(119, 'x') + "\xc3\xbc" + std::string(10, 'y');
    EXPECT_EQ(topic_for_log(mixed), std::string(119, 'x') + "... (131 bytes)");
}

}  // namespace
}  // namespace edgeflow
