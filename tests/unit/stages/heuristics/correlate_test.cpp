#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

// ---- correlate ---------------------------------------------------------------------------------

constexpr std::string_view intrusion = R"(
  - id: intrusion
    kind: correlate
    within: 10s
    sources:
      - {name: camera, topic: plant/cameras/+/detections, key: zone,
         condition: {inputs: [label], expression: '$1 == "person"'}}
      - {name: gas, topic: plant/gas/#, key: area,
         condition: {inputs: [ppm], expression: '$1 > 50'}}
)";

std::vector<Emitted> camera(Heuristics& h, std::string_view zone, std::int64_t t,
                            std::string_view label = "person") {
    return h.one(
        R"({"zone": ")" + std::string(zone) + R"(", "label": ")" + std::string(label) + R"("})", t,
        "plant/cameras/c1/detections", "plant/cameras/c1/detections");
}

std::vector<Emitted> gas(Heuristics& h, std::string_view area, std::int64_t t, int ppm = 60) {
    return h.one(R"({"area": ")" + std::string(area) + R"(", "ppm": )" + std::to_string(ppm) + "}",
                 t, "plant/gas/s1", "plant/gas/s1");
}

TEST(Correlate, FiresWhenEverySourceHoldsWithin) {
    Heuristics h(intrusion);
    EXPECT_TRUE(camera(h, "z1", t0).empty());
    const auto fired = gas(h, "z1", t0 + 5000);
    ASSERT_EQ(states(fired), Strings{"fired"});
    const Emitted& e = fired[0];
    EXPECT_EQ(e.text("key"), "z1");
    EXPECT_EQ(e.text("rule"), "intrusion");
    EXPECT_EQ(e.text("kind"), "correlate");
    EXPECT_EQ(integer(e, "camera_time_ms"), t0);
    EXPECT_EQ(integer(e, "gas_time_ms"), t0 + 5000);
    EXPECT_EQ(integer(e, "spread_ms"), 5000);
    EXPECT_NE(test::json_of(e.record).find(
                  R"("source_topics":["plant/gas/s1","plant/cameras/c1/detections"])"),
              std::string::npos)
        << test::json_of(e.record);
}

TEST(Correlate, AtExactlyWithinStillFiresBeyondItDoesNot) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_EQ(gas(h, "z1", t0 + 10'000).size(), 1u);
    camera(h, "z2", t0);
    EXPECT_TRUE(gas(h, "z2", t0 + 10'001).empty());
    // The gas reading is still held: a camera within 10 s of it completes the pair.
    EXPECT_EQ(camera(h, "z2", t0 + 15'000).size(), 1u);
}

TEST(Correlate, FiresOncePerCoOccurrence) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_EQ(gas(h, "z1", t0 + 1000).size(), 1u);
    EXPECT_TRUE(gas(h, "z1", t0 + 2000).empty());  // the camera was used up
    EXPECT_TRUE(gas(h, "z1", t0 + 3000).empty());
    EXPECT_EQ(camera(h, "z1", t0 + 4000).size(), 1u);  // a new pair
}

TEST(Correlate, KeysComeFromEachSourcesOwnField) {
    Heuristics h(intrusion);
    camera(h, "z1", t0);
    EXPECT_TRUE(gas(h, "z2", t0 + 1000).empty());
    EXPECT_TRUE(camera(h, "z2", t0 + 1500, "cat").empty());  // condition false
    EXPECT_EQ(states(gas(h, "z1", t0 + 2000)), Strings{"fired"});
    EXPECT_EQ(states(camera(h, "z2", t0 + 2500)), Strings{"fired"});
}

TEST(Correlate, KeyedByItsOwnKeyAcrossShards) {
    Heuristics h(intrusion, 2);
    // Partition keys (the topics here) on different shards; the zone decides the rule's shard.
    const std::string p0 = test::key_on_shard("p", 0, 2);
    const std::string p1 = test::key_on_shard("p", 1, 2);
    h.run().add("plant/cameras/c1/detections", R"({"zone": "z1", "label": "person"})", p0, t0);
    h.run().add("plant/gas/s1", R"({"area": "z1", "ppm": 70})", p1, t0 + 1);
    const auto events = h.run().run(t0 + 1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text("key"), "z1");
    EXPECT_EQ(events[0].trigger, 1u);
}

constexpr std::string_view ack = R"(
  - id: unacknowledged
    kind: correlate
    mode: absent
    within: 5s
    sources:
      - {name: alarm, topic: alarms/+, key: id}
      - {name: ack, topic: acks/+, key: id}
)";

TEST(CorrelateAbsent, FiresWhenBDoesNotArrive) {
    Heuristics h(ack);
    EXPECT_TRUE(h.one(R"({"id": "a1"})", t0, "x", "alarms/line1").empty());
    EXPECT_TRUE(h.tick(t0 + 4999).empty());
    const auto fired = h.tick(t0 + 5000);
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_EQ(fired[0].text("key"), "a1");
    const ValueRef missing = fired[0].values("missing");
    ASSERT_TRUE(missing.valid());
    EXPECT_EQ(missing.as_string(), "ack");
    EXPECT_EQ(integer(fired[0], "alarm_time_ms"), t0);
    EXPECT_EQ(integer(fired[0], "within_ms"), 5000);
    EXPECT_EQ(fired[0].text("event_time"), "2024-01-01T00:00:05.000Z");
    EXPECT_NE(test::json_of(fired[0].record).find(R"("source_topics":["alarms/line1"])"),
              std::string::npos);
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());  // once
}

TEST(CorrelateAbsent, CancelledWhenBArrivesInTime) {
    Heuristics h(ack);
    h.one(R"({"id": "a2"})", t0, "x", "alarms/line1");
    EXPECT_TRUE(h.one(R"({"id": "a2"})", t0 + 3000, "y", "acks/line1").empty());
    EXPECT_TRUE(h.tick(t0 + 60'000).empty());
}

TEST(CorrelateAbsent, AnAckForAnotherKeyOrTooLateDoesNotCancel) {
    Heuristics h(ack);
    h.run().add("alarms/line1", R"({"id": "a3"})", "x", t0);
    h.run().add("alarms/line1", R"({"id": "a4"})", "x", t0);
    h.run().add("acks/line1", R"({"id": "other"})", "y", t0 + 1000);
    h.run().add("acks/line1", R"({"id": "a4"})", "y", t0 + 5001, t0);  // event time too late
    EXPECT_TRUE(h.run().run(t0).empty());
    const auto fired = h.tick(t0 + 5000);
    ASSERT_EQ(fired.size(), 2u);
    Strings keys = {fired[0].text("key"), fired[1].text("key")};
    std::sort(keys.begin(), keys.end());  // due at the same time: either order
    EXPECT_EQ(keys, (Strings{"a3", "a4"}));
}

TEST(CorrelateAbsent, ANewAReplacesTheOneAwaited) {
    Heuristics h(ack);
    h.one(R"({"id": "a5"})", t0, "x", "alarms/line1");
    h.one(R"({"id": "a5"})", t0 + 3000, "x", "alarms/line1");
    EXPECT_TRUE(h.tick(t0 + 5000).empty());  // the first one's timer is void
    const auto fired = h.tick(t0 + 8000);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(integer(fired[0], "alarm_time_ms"), t0 + 3000);
}

}  // namespace
}  // namespace edgeflow
