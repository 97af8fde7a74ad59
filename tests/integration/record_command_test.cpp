// `edgeflow record` against a real mosquitto: live MQTT traffic written as JSON Lines envelopes.
//
// Each test starts its own broker on a free loopback port and an `edgeflow record` process,
// publishes with a Paho client once the recorder has subscribed, and checks the file it wrote.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/support/mosquitto.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
using edgeflow::test::Mosquitto;
using edgeflow::test::Process;
using edgeflow::test::read_lines;
using edgeflow::test::TempDir;
using edgeflow::test::TestPublisher;

namespace {

class RecordCommand : public testing::Test {
protected:
    void SetUp() override {
        broker_ = std::make_unique<Mosquitto>(dir_.path());
        std::string error;
        ASSERT_TRUE(broker_->start(error)) << error;
    }

    /// Starts `edgeflow record` with `args` and waits until it has subscribed.
    std::unique_ptr<Process> start_recorder(std::vector<std::string> args) {
        args.insert(args.begin(), {EDGEFLOW_BINARY, "record", "--broker", broker_->uri()});
        auto recorder = std::make_unique<Process>(std::move(args), dir_.file("record"));
        EXPECT_TRUE(recorder->started());
        EXPECT_TRUE(recorder->wait_for_err("edgeflow record: subscribed to", 15s))
            << recorder->err();
        return recorder;
    }

    TempDir dir_{"record-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    std::unique_ptr<Mosquitto> broker_;
};

TEST_F(RecordCommand, WritesExactlyCountMessagesAsEnvelopes) {
    const auto out = dir_.file("out.jsonl");
    auto recorder =
        start_recorder({"--topic", "plant/#", "--topic", "other/+", "-o", out, "--count", "6"});
    TestPublisher publisher(broker_->uri(), "test-pub");
    // JSON with spaces and a line break, and user properties.
    ASSERT_TRUE(publisher.publish("plant/line1/t", "{ \"deviceId\": \"d1\",\n  \"v\": [1, 2.50] }",
                                  1, {{"traceparent", "00-abc-01"}, {"site", "plant 7"}}));
    ASSERT_TRUE(publisher.publish("plant/line1/t", "not json at all"));
    ASSERT_TRUE(publisher.publish("other/x", "\"a JSON string\""));
    ASSERT_TRUE(publisher.publish("plant/line2/t", std::string("\xff\xfe\x01", 3)));
    ASSERT_TRUE(publisher.publish("plant/line2/t", "42"));
    ASSERT_TRUE(publisher.publish("plant/line2/t", "{\"n\":1} trailing", 1, {{"k", "v"}}));
    // Past the count: must not be written.
    ASSERT_TRUE(publisher.publish("plant/line2/t", "{\"late\":true}"));

    const auto code = recorder->wait(15s);
    ASSERT_TRUE(code.has_value()) << "record did not stop after --count";
    EXPECT_EQ(*code, 0) << recorder->err();
    const std::vector<std::string> expected{
        R"({"topic":"plant/line1/t","payload":{"deviceId":"d1","v":[1,2.50]},"properties":{"traceparent":"00-abc-01","site":"plant 7"}})",
        R"({"topic":"plant/line1/t","payload":"not json at all"})",
        R"({"topic":"other/x","payload":"\"a JSON string\""})",
        R"({"topic":"plant/line2/t","payload_base64":"//4B"})",
        R"({"topic":"plant/line2/t","payload":42})",
        R"({"topic":"plant/line2/t","payload":"{\"n\":1} trailing","properties":{"k":"v"}})",
    };
    EXPECT_EQ(read_lines(out), expected);
    EXPECT_NE(recorder->err().find("recorded 6 message(s) to " + out + " (count reached)"),
              std::string::npos)
        << recorder->err();
}

TEST_F(RecordCommand, SecondsStopsTheRecordingWithFewerMessages) {
    const auto out = dir_.file("out.jsonl");
    auto recorder =
        start_recorder({"--topic", "plant/#", "-o", out, "--count", "100", "--seconds", "1.5"});
    TestPublisher publisher(broker_->uri(), "test-pub");
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(publisher.publish("plant/a", "{\"seq\":" + std::to_string(i) + "}"));
    }
    const auto code = recorder->wait(15s);
    ASSERT_TRUE(code.has_value()) << "record did not stop after --seconds";
    EXPECT_EQ(*code, 0) << recorder->err();
    EXPECT_EQ(read_lines(out),
              (std::vector<std::string>{R"({"topic":"plant/a","payload":{"seq":0}})",
                                        R"({"topic":"plant/a","payload":{"seq":1}})",
                                        R"({"topic":"plant/a","payload":{"seq":2}})"}));
    EXPECT_NE(recorder->err().find("recorded 3 message(s)"), std::string::npos) << recorder->err();
    EXPECT_NE(recorder->err().find("time limit"), std::string::npos) << recorder->err();
}

TEST_F(RecordCommand, SigtermFlushesWhatWasRecordedToStandardOutput) {
    auto recorder = start_recorder({"--topic", "plant/#", "-o", "-", "--qos", "0"});
    TestPublisher publisher(broker_->uri(), "test-pub");
    constexpr int n = 500;
    for (int i = 0; i < n; ++i) {
        publisher.publish_async("plant/a", "{\"seq\":" + std::to_string(i) + "}", 1);
    }
    ASSERT_TRUE(publisher.flush(20s));
    // The broker has taken all of them; give it a moment to pass them on, then stop.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (read_lines(dir_.file("record.out")).size() < static_cast<std::size_t>(n) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    recorder->signal(SIGTERM);
    const auto code = recorder->wait(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << recorder->err();
    const auto lines = read_lines(dir_.file("record.out"));
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(n)) << recorder->err();
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(lines[static_cast<std::size_t>(i)],
                  R"({"topic":"plant/a","payload":{"seq":)" + std::to_string(i) + "}}");
    }
    EXPECT_NE(recorder->err().find("recorded 500 message(s) to standard output (SIGTERM)"),
              std::string::npos)
        << recorder->err();
}

TEST_F(RecordCommand, Mqtt311RecordsWithoutProperties) {
    const auto out = dir_.file("out.jsonl");
    auto recorder =
        start_recorder({"--topic", "plant/#", "-o", out, "--count", "1", "--protocol", "3.1.1"});
    TestPublisher publisher(broker_->uri(), "test-pub");
    ASSERT_TRUE(publisher.publish("plant/a", "{\"v\":1}", 1, {{"k", "v"}}));
    ASSERT_EQ(recorder->wait(15s).value_or(-1), 0) << recorder->err();
    EXPECT_EQ(read_lines(out),
              std::vector<std::string>{R"({"topic":"plant/a","payload":{"v":1}})"});
}

TEST_F(RecordCommand, UnreachableBrokerExitsOneWithAMessage) {
    const int dead_port = edgeflow::test::free_loopback_port();
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(dead_port);
    Process recorder({EDGEFLOW_BINARY, "record", "--broker", uri, "--topic", "a/#", "-o",
                      dir_.file("out.jsonl")},
                     dir_.file("record"));
    const auto code = recorder.wait(20s);
    ASSERT_TRUE(code.has_value()) << "record kept trying an unreachable broker";
    EXPECT_EQ(*code, 1);
    EXPECT_NE(
        recorder.err().find("edgeflow record: cannot connect to " + uri + ": Connection refused"),
        std::string::npos)
        << recorder.err();
}

TEST_F(RecordCommand, BadArgumentsExitTwo) {
    const std::vector<std::vector<std::string>> cases{
        {"--topic", "a", "-o", "x"},                                  // no broker
        {"--broker", broker_->uri(), "-o", "x"},                      // no topic
        {"--broker", broker_->uri(), "--topic", "a"},                 // no output
        {"--broker", broker_->uri(), "--topic", "a/#/b", "-o", "x"},  // bad filter
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--qos", "2"},
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--count", "0"},
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--seconds", "soon"},
        {"--broker", "http://127.0.0.1", "--topic", "a", "-o", "x"},
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--ca-file", "ca.pem"},
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--password-file", "p"},
        {"--broker", broker_->uri(), "--topic", "a", "-o", dir_.file("no/such/dir/x")},
        {"--broker", broker_->uri(), "--topic", "a", "-o", "x", "--colour"},
    };
    int n = 0;
    for (auto args : cases) {
        args.insert(args.begin(), {EDGEFLOW_BINARY, "record"});
        Process recorder(args, dir_.file("bad-" + std::to_string(++n)), dir_.path());
        const auto code = recorder.wait(10s);
        ASSERT_TRUE(code.has_value());
        EXPECT_EQ(*code, 2) << "case " << n << ": " << recorder.err();
        EXPECT_NE(recorder.err().find("edgeflow record: "), std::string::npos) << recorder.err();
    }
}

}  // namespace
