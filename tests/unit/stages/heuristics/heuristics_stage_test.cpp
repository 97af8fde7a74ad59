#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

// ---- The event record --------------------------------------------------------------------------

TEST(HeuristicsEvent, RecordFields) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, severity: critical}
)");
    Message& m =
        h.run().add("plant/dev-7/telemetry", R"({"v": 81})", "dev-7", t0 + 1000, t0 + 2500);
    m.add_property("site", "s1");
    m.add_property("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    const auto events = h.run().run(t0 + 2500);
    ASSERT_EQ(events.size(), 1u);
    const Emitted& e = events[0];
    EXPECT_EQ(test::json_of(e.record),
              R"({"rule":"hot","kind":"threshold","key":"dev-7","state":"raised",)"
              R"("severity":"critical","event_time":"2024-01-01T00:00:01.000Z",)"
              R"("detection_time":"2024-01-01T00:00:02.500Z","values":{"value":81.0,"high":80.0},)"
              R"("source_topics":["plant/dev-7/telemetry"],)"
              R"("traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})");
    EXPECT_EQ(e.target, events_destination);
    EXPECT_EQ(e.trigger, 0u);  // caused by the batch's first message
    EXPECT_EQ(e.key, "dev-7");
    EXPECT_EQ(e.event_time_ms, t0 + 1000);
    EXPECT_EQ(e.topic, "plant/dev-7/telemetry");
    // The message itself goes on.
    EXPECT_TRUE(h.run().last()[0]->live());
    EXPECT_EQ(load(h.stage().counters.in), 1u);
    EXPECT_EQ(load(h.stage().counters.out), 1u);
}

TEST(HeuristicsEvent, NoTraceparentWithoutTheProperty) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
)");
    const auto events = h.one(R"({"v": 81})", t0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_FALSE(events[0]["traceparent"].valid());
    EXPECT_EQ(events[0].text("severity"), "warning");
}

TEST(HeuristicsEvent, ARuleDestinationOverridesTheStages) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80, destination: alerts}
  - {id: warm, kind: threshold, input: v, high: 70}
)");
    const auto events = h.one(R"({"v": 81})", t0);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].text("rule"), "hot");
    EXPECT_EQ(events[0].target, alerts_destination);
    EXPECT_EQ(events[1].text("rule"), "warm");
    EXPECT_EQ(events[1].target, events_destination);
}

TEST(HeuristicsEvent, EventsFollowTheMessageThatCausedThem) {
    Heuristics h(R"(
  - {id: hot, kind: threshold, input: v, high: 80}
)");
    h.run().add("t", R"({"v": 81})", "a", t0);
    h.run().add("t", R"({"v": 1})", "b", t0);
    h.run().add("t", R"({"v": 90})", "b", t0);
    const auto events = h.run().run(t0);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].key, "a");
    EXPECT_EQ(events[0].trigger, 0u);
    EXPECT_EQ(events[1].key, "b");
    EXPECT_EQ(events[1].trigger, 2u);
}

// ---- configuration -----------------------------------------------------------------------------

std::string build_errors(std::string_view rules) {
    const std::string text = "kind: heuristics\nevents: events\nrules:\n" + std::string(rules);
    ConfigErrors errors("test.yaml");
    auto built = build_heuristics(text, 1, ClockMode::wall, errors);
    EXPECT_EQ(built == nullptr, !errors.empty());
    return errors.to_string();
}

TEST(HeuristicsConfig, RulesAreChecked) {
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1, low: 2}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: deadband, input: v}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: stale}\n"), "");
    EXPECT_NE(build_errors("  - {id: a, kind: window, input: v, window: {type: hopping, size: "
                           "10s, hop: 3s}}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: correlate, within: 1s, sources: [{name: x, topic: "
                           "'a/#/b', key: k}, {name: y, topic: b, key: k}]}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1}\n"
                           "  - {id: a, kind: threshold, input: v, high: 2}\n"),
              "");
    EXPECT_NE(build_errors("  - {id: a, kind: nonsense}\n"), "");
    // An unknown kind is reported alone, with the kinds there are; not its keys as unknown too.
    const std::string unknown = build_errors("  - {id: a, kind: thresold, input: v, high: 1}\n");
    EXPECT_NE(unknown.find("found \"thresold\""), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("threshold"), std::string::npos) << unknown;
    EXPECT_EQ(unknown.find("unknown key"), std::string::npos) << unknown;
    EXPECT_NE(build_errors("  - {id: a, kind: threshold, input: v, high: 1, hgih: 2}\n"), "");
    EXPECT_EQ(build_errors("  - {id: a, kind: threshold, input: v, high: 1}\n"), "");
}

}  // namespace
}  // namespace edgeflow
