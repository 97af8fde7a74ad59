#include "perf/harness/workload.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>

#include "perf/harness/fused.h"

namespace edgeflow::perf {
namespace {

std::string padded(const std::string& s) {
    std::string out = s;
    out.reserve(s.size() + simdjson::SIMDJSON_PADDING);
    return out;
}

TEST(FactoryWorkload, MessagesAreAFunctionOfTheirIndex) {
    const FactoryWorkload a, b;
    std::string ta, pa, tb, pb;
    for (std::uint64_t i : {0ULL, 1ULL, 17ULL, 42ULL, 123456ULL}) {
        a.render(i, 99, ta, pa);
        b.render(i, 99, tb, pb);
        EXPECT_EQ(ta, tb);
        EXPECT_EQ(pa, pb);
    }
}

TEST(FactoryWorkload, MixOfTopicsAndOmittedFields) {
    const FactoryWorkload w;
    std::string topic, payload;
    std::map<std::string, int> kinds;
    int without_humidity = 0, telemetry = 0;
    double bytes = 0;
    simdjson::dom::parser parser;
    for (std::uint64_t i = 0; i < 10'000; ++i) {
        w.render(i, 1'700'000'000'000'000'000ULL + i, topic, payload);
        const auto slash = topic.rfind('/');
        ++kinds[topic.substr(slash + 1)];
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(payload).get(doc), simdjson::SUCCESS) << payload;
        std::uint64_t seq = 0;
        ASSERT_EQ(doc["seq"].get(seq), simdjson::SUCCESS);
        EXPECT_EQ(seq, i);
        if (topic.ends_with("/telemetry")) {
            ++telemetry;
            bytes += static_cast<double>(payload.size());
            EXPECT_TRUE(topic.starts_with("factory/line-")) << topic;
            without_humidity += doc["humidity"].error() == simdjson::NO_SUCH_FIELD ? 1 : 0;
        }
    }
    EXPECT_EQ(kinds["camera"], 200);
    EXPECT_EQ(kinds["gas"], 200);
    EXPECT_EQ(kinds["telemetry"], 9600);
    EXPECT_NEAR(static_cast<double>(without_humidity) / telemetry, 0.04, 0.01);
    EXPECT_NEAR(bytes / telemetry, 180.0, 15.0);
}

TEST(FactoryWorkload, DatasetNamesEveryDeviceOnce) {
    const FactoryWorkload w;
    const std::string dataset = w.dataset_jsonl();
    EXPECT_EQ(std::count(dataset.begin(), dataset.end(), '\n'), 500);
    EXPECT_NE(dataset.find("{\"id\":\"dev-0500\",\"site\":\"plant-b\",\"line\":\"line-5\","
                           "\"zone\":\"zone-10\"}"),
              std::string::npos);
}

TEST(FusedPipeline, ThresholdNeedsThreeReadingsEachWayAndWindowsCloseOnTime) {
    const FactoryWorkload w;
    FusedPipeline fused(w, false);
    const std::string topic = "factory/line-1/dev-0001/telemetry";
    const auto reading = [&](double celsius, std::uint64_t ms) {
        const std::string p =
            padded("{\"deviceId\":\"dev-0001\",\"timestamp\":" + std::to_string(ms) +
                   ",\"temperature\":" + std::to_string(celsius) + ",\"seq\":0,\"sent\":0}");
        return fused.process(topic, p, p.capacity());
    };
    std::uint64_t t = 1'000;  // all inside the window [0, 10 s)
    reading(36, t++);
    reading(36, t++);
    EXPECT_EQ(fused.events(), 0u);  // two readings above: debounced
    reading(36, t++);
    EXPECT_EQ(fused.events(), 1u);  // the third raises
    reading(34, t++);
    reading(34, t++);
    reading(34, t++);
    EXPECT_EQ(fused.events(), 1u);  // between clear and high: hysteresis keeps it raised
    reading(32, t++);
    reading(32, t++);
    reading(36, t++);  // the streak below clear breaks
    reading(32, t++);
    reading(32, t++);
    EXPECT_EQ(fused.events(), 1u);
    reading(32, t++);
    EXPECT_EQ(fused.events(), 2u);  // cleared
    reading(20, 10'000);            // the next window: the previous one's average goes out
    EXPECT_EQ(fused.events(), 3u);
    EXPECT_EQ(fused.errors(), 0u);
}

TEST(FusedPipeline, PersonNearHighGasInTheSameZone) {
    const FactoryWorkload w;
    FusedPipeline fused(w, false);
    const auto send = [&](const std::string& topic, const std::string& body) {
        const std::string p = padded(body);
        fused.process(topic, p, p.capacity());
    };
    send(
        "factory/zone/zone-01/camera",
        R"({"zone":"zone-01","camera":"cam-01","timestamp":5000,"detection":"person","confidence":0.9,"seq":1,"sent":0})");
    send("factory/zone/zone-02/gas",
         R"({"zone":"zone-02","sensor":"gas-02","timestamp":5500,"ppm":1500.0,"seq":2,"sent":0})");
    EXPECT_EQ(fused.events(), 0u);  // another zone
    send("factory/zone/zone-01/gas",
         R"({"zone":"zone-01","sensor":"gas-01","timestamp":9000,"ppm":1500.0,"seq":3,"sent":0})");
    EXPECT_EQ(fused.events(), 0u);  // 4 s apart: outside the window
    send(
        "factory/zone/zone-01/camera",
        R"({"zone":"zone-01","camera":"cam-01","timestamp":10000,"detection":"person","confidence":0.9,"seq":4,"sent":0})");
    EXPECT_EQ(fused.events(), 1u);
    EXPECT_EQ(fused.errors(), 0u);
}

}  // namespace
}  // namespace edgeflow::perf
