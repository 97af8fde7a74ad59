// `edgeflow run` on an Azure IoT Operations Dataflow resource against a real mosquitto.
//
// Each test starts its own broker on a free loopback port and writes a multi-document file: the
// Dataflow, a DataflowEndpoint pointing at that broker, and an edgeflow Dataset. Telemetry is
// published with a Paho client and a subscriber checks what the flow made of it.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <thread>

#include "tests/support/mosquitto.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
using edgeflow::test::Mosquitto;
using edgeflow::test::Process;
using edgeflow::test::Received;
using edgeflow::test::TempDir;
using edgeflow::test::TestPublisher;
using edgeflow::test::TestSubscriber;

namespace {

bool wait_for_log(Process& process, const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (process.err().find(text) != std::string::npos) {
            return true;
        }
        if (!process.running()) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

std::string dataflow(const std::string& mode = "Enabled") {
    return R"(apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata:
  name: plant-telemetry
  annotations:
    edgeflow.io/dead-letter: plant
    edgeflow.io/dead-letter-topic: deadletter/${inputTopic}
spec:
  profileRef: default
  mode: )" +
           mode + R"(
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: plant
        dataSources: [factory/+/telemetry]
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        datasets:
          - key: devices as device
            inputs: [$source.deviceId, $context.id]
            expression: $1 == $2
        filter:
          - inputs: [temperature]
            expression: $1 < -50
        map:
          - type: PassThrough
            inputs: ['*']
            output: '*'
          - type: Compute
            inputs: [temperature]
            output: temperatureF
            expression: cToF($1)
          - type: NewProperties
            inputs: ['$context(device).site']
            output: site
    - operationType: Destination
      destinationSettings:
        endpointRef: plant
        dataDestination: processed/${inputTopic.2}
)";
}

std::string plant_endpoint(int port) {
    return R"(apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: plant
spec:
  endpointType: Mqtt
  mqttSettings:
    host: 127.0.0.1:)" +
           std::to_string(port) + R"(
    retain: Never
    tls:
      mode: Disabled
    authentication:
      method: Anonymous
      anonymousSettings: {}
)";
}

constexpr const char* devices_dataset = R"(apiVersion: edgeflow/v1
kind: Dataset
metadata:
  name: devices
spec:
  file: devices.jsonl
)";

class DataflowResource : public testing::Test {
protected:
    void SetUp() override {
        broker_ = std::make_unique<Mosquitto>(dir_.path());
        std::string error;
        ASSERT_TRUE(broker_->start(error)) << error;
        std::ofstream(dir_.file("devices.jsonl")) << R"({"id":"press-01","site":"plant-7"})"
                                                  << "\n"
                                                  << R"({"id":"oven-01","site":"plant-9"})"
                                                  << "\n";
    }

    std::string write(const std::string& name, const std::string& text) {
        const std::string path = dir_.file(name);
        std::ofstream(path) << text;
        return path;
    }

    std::unique_ptr<Process> start(std::vector<std::string> args, const std::string& log) {
        args.insert(args.begin(), EDGEFLOW_BINARY);
        auto engine = std::make_unique<Process>(std::move(args), dir_.file(log));
        EXPECT_TRUE(engine->started());
        return engine;
    }

    TempDir dir_{"dataflow-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    std::unique_ptr<Mosquitto> broker_;
};

TEST_F(DataflowResource, RunsTheFlowFromOneMultiDocumentFile) {
    const auto flow = write("flow.yaml", dataflow() + "---\n" + plant_endpoint(broker_->port()) +
                                             "---\n" + devices_dataset);
    TestSubscriber subscriber(broker_->uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("processed/#", 1));
    ASSERT_TRUE(subscriber.subscribe("deadletter/#", 1));
    auto engine = start({"run", "-c", flow}, "engine");
    ASSERT_TRUE(wait_for_log(*engine, "subscribed to", 15s)) << engine->err();

    TestPublisher publisher(broker_->uri(), "test-pub");
    ASSERT_TRUE(publisher.publish("factory/press/telemetry",
                                  R"({"deviceId":"press-01","temperature":20})"));
    ASSERT_TRUE(publisher.publish("factory/press/telemetry",  // a broken sensor: filtered out
                                  R"({"deviceId":"press-01","temperature":-60})"));
    ASSERT_TRUE(publisher.publish("factory/oven/telemetry", R"({"deviceId":"oven-01",)"));
    ASSERT_TRUE(
        publisher.publish("factory/oven/telemetry", R"({"deviceId":"oven-01","temperature":100})"));
    ASSERT_TRUE(subscriber.wait_for(3, 15s)) << engine->err();
    std::this_thread::sleep_for(300ms);  // the filtered message would have arrived by now

    std::map<std::string, std::vector<std::string>> by_topic;
    for (const Received& m : subscriber.messages()) {
        by_topic[m.topic].push_back(m.payload);
    }
    ASSERT_EQ(by_topic.size(), 3u) << engine->err();
    ASSERT_EQ(by_topic["processed/press"].size(), 1u);
    const std::string& press = by_topic["processed/press"][0];
    // AIO's specialization: the Compute rule reads `temperature`, which the pass-through copied
    // with a higher rank, so the field is moved to temperatureF rather than copied.
    EXPECT_EQ(press.find(R"("temperature":)"), std::string::npos) << press;
    EXPECT_NE(press.find(R"("temperatureF":68)"), std::string::npos) << press;
    EXPECT_NE(press.find(R"("deviceId":"press-01")"), std::string::npos) << press;
    EXPECT_NE(press.find(R"("site":"plant-7")"), std::string::npos) << press;
    ASSERT_EQ(by_topic["processed/oven"].size(), 1u);
    const std::string& oven = by_topic["processed/oven"][0];
    EXPECT_NE(oven.find(R"("temperatureF":212)"), std::string::npos) << oven;
    EXPECT_NE(oven.find(R"("site":"plant-9")"), std::string::npos) << oven;
    ASSERT_EQ(by_topic["deadletter/factory/oven/telemetry"].size(), 1u);
    EXPECT_NE(by_topic["deadletter/factory/oven/telemetry"][0].find(R"("reason":"invalid_json")"),
              std::string::npos);

    engine->signal(SIGTERM);
    ASSERT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
    EXPECT_NE(engine->out().find("source (mqtt)"), std::string::npos) << engine->out();
}

TEST_F(DataflowResource, EndpointsComeFromTheEndpointsFile) {
    const auto flow = write("flow.yaml", dataflow());
    const auto endpoints =
        write("endpoints.yaml", plant_endpoint(broker_->port()) + "---\n" + devices_dataset);
    auto check = start({"check", "-c", flow, "--endpoints", endpoints}, "check");
    ASSERT_EQ(check->wait(15s).value_or(-1), 0) << check->err();
    EXPECT_NE(check->out().find("source      source (mqtt) mqtt://127.0.0.1:" +
                                std::to_string(broker_->port())),
              std::string::npos)
        << check->out();

    TestSubscriber subscriber(broker_->uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("processed/#", 1));
    auto engine = start({"run", "-c", flow, "--endpoints=" + endpoints}, "engine");
    ASSERT_TRUE(wait_for_log(*engine, "subscribed to", 15s)) << engine->err();
    TestPublisher publisher(broker_->uri(), "test-pub");
    ASSERT_TRUE(
        publisher.publish("factory/oven/telemetry", R"({"deviceId":"oven-01","temperature":0})"));
    ASSERT_TRUE(subscriber.wait_for(1, 15s)) << engine->err();
    const auto messages = subscriber.messages();
    EXPECT_EQ(messages[0].topic, "processed/oven");
    EXPECT_NE(messages[0].payload.find(R"("temperatureF":32)"), std::string::npos)
        << messages[0].payload;
    engine->signal(SIGINT);
    ASSERT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
}

TEST_F(DataflowResource, ADisabledFlowIsCheckedButNotRun) {
    const auto flow =
        write("flow.yaml", dataflow("Disabled") + "---\n" + plant_endpoint(broker_->port()) +
                               "---\n" + devices_dataset);
    auto check = start({"check", "-c", flow}, "check");
    ASSERT_EQ(check->wait(15s).value_or(-1), 0) << check->err();
    EXPECT_NE(check->out().find("spec.mode: the data flow is disabled"), std::string::npos)
        << check->out();
    auto run = start({"run", "-c", flow}, "run");
    ASSERT_EQ(run->wait(15s).value_or(-1), 1) << run->err();
    EXPECT_NE(run->err().find(flow + ":10:9: spec.mode: the data flow is disabled"),
              std::string::npos)
        << run->err();
}

}  // namespace
