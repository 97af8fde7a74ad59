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
