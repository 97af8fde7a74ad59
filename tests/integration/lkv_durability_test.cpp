// Last known values survive the process: an lkv stage persisted on a real mosquitto writes its
// keys as retained snapshots; after a SIGKILL the next process reads them back before it takes
// any message, so the first messages after the restart are filled from the old values.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "tests/support/mosquitto.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
using edgeflow::test::Mosquitto;
using edgeflow::test::Process;
using edgeflow::test::TempDir;
using edgeflow::test::TestPublisher;
using edgeflow::test::TestSubscriber;

namespace {

class LkvDurability : public testing::Test {
protected:
    void SetUp() override {
        broker_ = std::make_unique<Mosquitto>(dir_.path(), false);
        std::string error;
        ASSERT_TRUE(broker_->start(error)) << error;
        std::ofstream out(dir_.file("pipeline.yaml"));
        out << "partition_key: deviceId\n"
            << "sources:\n"
            << "  - {name: in, kind: mqtt, broker: " << broker_->uri()
            << ", client_id: lkv-in, topics: ['plant/+/telemetry'], qos: 1}\n"
            << "stages:\n"
            << "  - kind: lkv\n    fields: [temp, hum]\n    fill_missing: true\n"
            << "    persist: {destination: state, topic_prefix: edgeflow/lkv/test, interval: "
               "50ms}\n"
            << "destinations:\n"
            << "  - {name: out, kind: mqtt, broker: " << broker_->uri()
            << ", client_id: lkv-out, qos: 1, topic: 'out/{topic.2}'}\n"
            << "  - {name: state, kind: mqtt, broker: " << broker_->uri()
            << ", client_id: lkv-state, qos: 1, retain: true}\n"
            << "runtime: {workers: 2, shards: 2, batch_size: 8}\n";
    }

    std::unique_ptr<Process> start_engine(const std::string& log) {
        auto engine = std::make_unique<Process>(
            std::vector<std::string>{EDGEFLOW_BINARY, "run", "-c", dir_.file("pipeline.yaml")},
            dir_.file(log));
        EXPECT_TRUE(engine->started());
        EXPECT_TRUE(engine->wait_for_err("subscribed to plant/+/telemetry", 20s)) << engine->err();
        return engine;
    }

    TempDir dir_{"lkv-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    std::unique_ptr<Mosquitto> broker_;
};

std::string payload_of(const std::vector<edgeflow::test::Received>& messages,
                       const std::string& topic) {
    for (const auto& m : messages) {
        if (m.topic == topic) {
            return m.payload;
        }
    }
    return {};
}

TEST_F(LkvDurability, ValuesComeBackAfterSigkill) {
    {
        TestSubscriber snapshots(broker_->uri(), "snapshots-1");
        ASSERT_TRUE(snapshots.subscribe("edgeflow/lkv/test/#", 1));
        auto engine = start_engine("run-1.log");
        TestPublisher publisher(broker_->uri(), "pub-1");
        ASSERT_TRUE(
            publisher.publish("plant/d1/telemetry", R"({"deviceId":"d1","temp":21.5,"hum":40})"));
        ASSERT_TRUE(publisher.publish("plant/d2/telemetry", R"({"deviceId":"d2","temp":30})"));
        // Both snapshots (the subscription also sees the start-up read-back's own marker).
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        std::vector<edgeflow::test::Received> written;
        while (std::chrono::steady_clock::now() < deadline) {
            written = snapshots.messages();
            if (!payload_of(written, "edgeflow/lkv/test/d1").empty() &&
                !payload_of(written, "edgeflow/lkv/test/d2").empty()) {
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        ASSERT_NE(payload_of(written, "edgeflow/lkv/test/d2"), "") << engine->err();
        const std::string d1 = payload_of(written, "edgeflow/lkv/test/d1");
        EXPECT_NE(d1.find(R"("key":"d1")"), std::string::npos) << d1;
        EXPECT_NE(d1.find(R"("temp":{"value":21.5)"), std::string::npos) << d1;
        engine->signal(SIGKILL);
        ASSERT_TRUE(engine->wait(10s).has_value());
    }

    // A new process, new connections: only the broker's retained messages carry the state.
    TestSubscriber out(broker_->uri(), "out-2");
    ASSERT_TRUE(out.subscribe("out/#", 1));
    auto engine = start_engine("run-2.log");
    EXPECT_TRUE(engine->wait_for_err("2 key(s) read back", 5s)) << engine->err();
    TestPublisher publisher(broker_->uri(), "pub-2");
    ASSERT_TRUE(publisher.publish("plant/d1/telemetry", R"({"deviceId":"d1"})"));
    ASSERT_TRUE(publisher.publish("plant/d2/telemetry", R"({"deviceId":"d2","hum":7})"));
    ASSERT_TRUE(out.wait_for(2, 15s)) << engine->err();
    const auto received = out.messages();
    const std::string d1 = payload_of(received, "out/d1");
    const std::string d2 = payload_of(received, "out/d2");
    EXPECT_NE(d1.find(R"("temp":21.5)"), std::string::npos) << d1;
    EXPECT_NE(d1.find(R"("hum":40)"), std::string::npos) << d1;
    EXPECT_NE(d2.find(R"("temp":30)"), std::string::npos) << d2;
    EXPECT_NE(d2.find(R"("hum":7)"), std::string::npos) << d2;
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(15s).value_or(-1), 0) << engine->err();
}

TEST_F(LkvDurability, AnUnreachableBrokerIsAStartUpErrorNotAnEmptyStore) {
    std::string pipeline;
    {
        std::ifstream in(dir_.file("pipeline.yaml"));
        pipeline.assign(std::istreambuf_iterator<char>(in), {});
    }
    // The state destination points at a port nobody listens on; reading back must fail.
    const std::string uri = broker_->uri();
    const auto at = pipeline.rfind(uri);
    pipeline.replace(at, uri.size(), "mqtt://127.0.0.1:1");
    const auto persist = pipeline.find("interval: 50ms}");
    pipeline.replace(persist, 15, "interval: 50ms, hydrate_timeout: 500ms}");
    {
        std::ofstream out(dir_.file("pipeline.yaml"));
        out << pipeline;
    }
    Process engine({EDGEFLOW_BINARY, "run", "-c", dir_.file("pipeline.yaml")},
                   dir_.file("run.log"));
    const auto code = engine.wait(20s);
    ASSERT_TRUE(code.has_value()) << engine.err();
    EXPECT_EQ(*code, 1);
    EXPECT_NE(engine.err().find("cannot read back lkv"), std::string::npos) << engine.err();
}

}  // namespace
