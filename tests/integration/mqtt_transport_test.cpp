// The MQTT transport under every mqtt endpoint, as users meet it through `edgeflow run`
// against a real mosquitto: TLS (trust, client certificates, host names), credentials, and the
// limits an MQTT 5 broker announces (receive maximum, maximum packet size, topic aliases).
//
// Only what a user sees is asserted: what a subscriber receives, the engine's summary and
// /metrics, its exit code and the engine's own log lines ("connected to", "subscribed to",
// "cannot connect to", "refused the connection"), never the client library's texts. Each test
// starts its own broker on free loopback ports and its own engine; endpoints retry every 50 to
// 200 ms, so a connection that fails shows its retries within a second or two. The test's own
// clients use the broker's plain anonymous listener (Mosquitto::client_uri()), so they work
// whatever the listener under test demands.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/certificates.h"
#include "tests/support/mosquitto.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/process.h"
#include "tests/support/run_output.h"

using namespace std::chrono_literals;
using edgeflow::test::eventually;
using edgeflow::test::free_loopback_port;
using edgeflow::test::Mosquitto;
using edgeflow::test::MosquittoOptions;
using edgeflow::test::MosquittoTls;
using edgeflow::test::Process;
using edgeflow::test::Received;
using edgeflow::test::seq_of;
using edgeflow::test::summary_value;
using edgeflow::test::TempDir;
using edgeflow::test::TestCertificates;
using edgeflow::test::TestPublisher;
using edgeflow::test::TestSubscriber;

namespace {

// Short, so a failing connection is retried several times within the tests' waits.
constexpr const char* fast_reconnect = "    reconnect: {initial_delay_ms: 50, max_delay_ms: 200}\n";

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

/// The value of the sample `series` (name and labels exactly as exported) on the engine's
/// /metrics, or -1 when the scrape fails or the series is missing.
double metric(int http_port, const std::string& series) {
    httplib::Client client("127.0.0.1", http_port);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    const auto reply = client.Get("/metrics");
    if (!reply || reply->status != 200) {
        return -1;
    }
    std::istringstream lines(reply->body);
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return -1;
}

/// Both endpoints kept their first connection and the destination had nothing refused: what
/// a broker does to a client that breaks the limits it announced (it disconnects it, or
/// answers its publishes with an error reason code).
void expect_no_loss_and_no_refusal(int http_port, const std::string& log) {
    EXPECT_EQ(metric(http_port, R"(edgeflow_mqtt_disconnects_total{endpoint="in",role="source"})"),
              0)
        << log;
    EXPECT_EQ(
        metric(http_port, R"(edgeflow_mqtt_disconnects_total{endpoint="out",role="destination"})"),
        0)
        << log;
    EXPECT_EQ(
        metric(http_port, R"(edgeflow_destination_failed_total{destination="out",kind="mqtt"})"), 0)
        << log;
    EXPECT_EQ(log.find(": connection to "), std::string::npos) << log;  // "... lost: ..."
}

const std::string source_connected = R"(edgeflow_mqtt_connected{endpoint="in",role="source"})";
const std::string destination_connected =
    R"(edgeflow_mqtt_connected{endpoint="out",role="destination"})";

// Made once per test program: key generation takes about a second.
const TestCertificates& certificates() {
    static TempDir dir("mqtt-transport-certs");
    static std::string error;
    static const std::optional<TestCertificates> certs = TestCertificates::make(dir.path(), error);
    if (!certs) {
        ADD_FAILURE() << error;
        static const TestCertificates none;
        return none;
    }
    return *certs;
}

std::string tls_keys(const std::string& ca_file, const std::string& extra = "") {
    return "    tls: {ca_file: " + ca_file + extra + "}\n";
}

class MqttTransport : public testing::Test {
protected:
    void start_broker(MosquittoOptions options) {
        broker_ = std::make_unique<Mosquitto>(dir_.path(), std::move(options));
        std::string error;
        ASSERT_TRUE(broker_->start(error)) << error;
    }

    MosquittoOptions tls_broker(const std::string& cert, const std::string& key,
                                bool require_certificate = false) {
        MosquittoOptions options;
        options.tls = MosquittoTls{certificates().ca_file, cert, key, require_certificate};
        return options;
    }

    /// A pipeline from `plant/+/telemetry` on the broker to `out/{topic.2}`, each endpoint with
    /// the short reconnect delays and its own extra keys (TLS, credentials), and /metrics on a
    /// port of its own.
    std::string write_pipeline(const std::string& source_keys, const std::string& destination_keys,
                               const std::string& name = "pipeline.yaml",
                               const std::string& stages = "") {
        http_port_ = free_loopback_port();
        const std::string path = dir_.file(name);
        const std::string client_id = name.substr(0, name.find('.'));
        std::ofstream out(path);
        out << "sources:\n"
            << "  - name: in\n    kind: mqtt\n    broker: " << broker_->uri() << "\n"
            << "    client_id: " << client_id << "-in\n    topics: [\"plant/+/telemetry\"]\n"
            << "    qos: 1\n"
            << fast_reconnect << source_keys << "destinations:\n"
            << "  - name: out\n    kind: mqtt\n    broker: " << broker_->uri() << "\n"
            << "    client_id: " << client_id << "-out\n    qos: 1\n    topic: out/{topic.2}\n"
            << "    drain_timeout: 2\n"
            << fast_reconnect << destination_keys << stages << "runtime:\n  workers: 2\n"
            << "  http: {listen: \"127.0.0.1:" << http_port_ << "\"}\n";
        return path;
    }

    std::unique_ptr<Process> start_engine(const std::string& pipeline, const std::string& log) {
        auto engine = std::make_unique<Process>(
            std::vector<std::string>{EDGEFLOW_BINARY, "run", "-c", pipeline}, dir_.file(log));
        EXPECT_TRUE(engine->started());
        return engine;
    }

    /// Starts the engine and waits until both endpoints are up: the source subscribed (what
    /// is published before then is not the engine's) and the destination connected.
    std::unique_ptr<Process> start_connected_engine(const std::string& pipeline,
                                                    const std::string& log) {
        auto engine = start_engine(pipeline, log);
        EXPECT_TRUE(engine->wait_for_err("in: subscribed to", 15s)) << engine->err();
        EXPECT_TRUE(engine->wait_for_err("out: connected to " + broker_->uri(), 15s))
            << engine->err();
        return engine;
    }

    /// Publishes `n` messages to plant/<line>/telemetry and expects exactly them in order on
    /// out/<line> at `subscriber`.
    void expect_round_trip(TestSubscriber& subscriber, Process& engine, int n,
                           const std::string& line = "a") {
        TestPublisher publisher(broker_->client_uri(), "test-pub-" + line);
        const std::size_t before = subscriber.count();
        for (int i = 0; i < n; ++i) {
            publisher.publish_async("plant/" + line + "/telemetry",
                                    "{\"device\":\"d\",\"seq\":" + std::to_string(i) + "}");
        }
        ASSERT_TRUE(publisher.flush(20s));
        ASSERT_TRUE(subscriber.wait_for(before + n, 20s))
            << "received " << subscriber.count() - before << " of " << n << "\n"
            << engine.err();
        std::this_thread::sleep_for(300ms);  // anything extra (a duplicate) would arrive by now
        const auto messages = subscriber.messages();
        ASSERT_EQ(messages.size(), before + n);
        for (int i = 0; i < n; ++i) {
            const auto& m = messages[before + i];
            EXPECT_EQ(m.topic, "out/" + line);
            EXPECT_EQ(seq_of(m.payload), i) << m.payload;
        }
    }

    /// The engine keeps failing to connect its source and says so: at least two "cannot
    /// connect to" lines (the first failure and a later one) within 10 s, no "connected to",
    /// the gauge at 0, nothing published reaches the destination, and SIGTERM still stops it
    /// at once with exit code 0.
    void expect_source_never_connects(Process& engine, TestSubscriber& subscriber) {
        const std::string failed = "in: cannot connect to " + broker_->uri();
        ASSERT_TRUE(eventually([&] { return occurrences(engine.err(), failed) >= 2; }, 10s))
            << "expected the first failure and a retry to be logged\n"
            << engine.err();
        EXPECT_EQ(engine.err().find("in: connected to"), std::string::npos) << engine.err();
        EXPECT_EQ(metric(http_port_, source_connected), 0);

        TestPublisher publisher(broker_->client_uri(), "test-pub");
        for (int i = 0; i < 20; ++i) {
            ASSERT_TRUE(publisher.publish("plant/a/telemetry",
                                          "{\"device\":\"d\",\"seq\":" + std::to_string(i) + "}"));
        }
        std::this_thread::sleep_for(500ms);
        EXPECT_EQ(subscriber.count(), 0u);
        EXPECT_EQ(metric(http_port_, R"(edgeflow_source_messages_total{source="in",kind="mqtt"})"),
                  0);
        EXPECT_EQ(metric(http_port_, source_connected), 0);

        const auto stop_at = std::chrono::steady_clock::now();
        engine.signal(SIGTERM);
        const auto code = engine.wait(5s);
        ASSERT_TRUE(code.has_value()) << "did not stop while its source could not connect";
        EXPECT_EQ(*code, 0) << engine.err();
        RecordProperty("stop_ms",
                       static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - stop_at)
                                            .count()));
        EXPECT_EQ(summary_value(engine.out(), "in (mqtt)", 0), 0u) << engine.out();
    }

    TempDir dir_{"mqtt-transport-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    std::unique_ptr<Mosquitto> broker_;
    int http_port_ = 0;
};

TEST_F(MqttTransport, TlsWithTheRightCaDeliversEverything) {
    const auto& certs = certificates();
    start_broker(tls_broker(certs.server_cert_file, certs.server_key_file));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    auto engine = start_connected_engine(
        write_pipeline(tls_keys(certs.ca_file), tls_keys(certs.ca_file)), "engine");
    // The connection can come up before the HTTP endpoint has the engine's metrics.
    EXPECT_TRUE(eventually([&] { return metric(http_port_, source_connected) == 1; }, 5s))
        << metric(http_port_, source_connected);
    // The connection can come up before the HTTP endpoint has the engine's metrics.
    EXPECT_TRUE(eventually([&] { return metric(http_port_, destination_connected) == 1; }, 5s))
        << metric(http_port_, destination_connected);

    constexpr int n = 200;
    expect_round_trip(subscriber, *engine, n);

    engine->signal(SIGTERM);
    ASSERT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
    EXPECT_EQ(summary_value(engine->out(), "in (mqtt)", 0), static_cast<std::uint64_t>(n))
        << engine->out();
    EXPECT_EQ(summary_value(engine->out(), "out (mqtt)", 0), static_cast<std::uint64_t>(n))
        << engine->out();
}

TEST_F(MqttTransport, TlsClientCertificateIsPresented) {
    const auto& certs = certificates();
    start_broker(tls_broker(certs.server_cert_file, certs.server_key_file, true));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));

    // Without a certificate the broker turns the source away, again and again.
    {
        auto engine = start_engine(
            write_pipeline(tls_keys(certs.ca_file), tls_keys(certs.ca_file), "no-cert.yaml"),
            "no-cert");
        expect_source_never_connects(*engine, subscriber);
    }

    const std::string with_cert =
        tls_keys(certs.ca_file,
                 ", cert_file: " + certs.client_cert_file + ", key_file: " + certs.client_key_file);
    auto engine = start_connected_engine(write_pipeline(with_cert, with_cert), "engine");
    expect_round_trip(subscriber, *engine, 50);
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
}

TEST_F(MqttTransport, UntrustedCaNeverConnectsAndRetries) {
    const auto& certs = certificates();
    start_broker(tls_broker(certs.server_cert_file, certs.server_key_file));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    // The destination trusts the right CA and connects: only the source's trust is wrong.
    auto engine = start_engine(
        write_pipeline(tls_keys(certs.other_ca_file), tls_keys(certs.ca_file)), "engine");
    ASSERT_TRUE(engine->wait_for_err("out: connected to " + broker_->uri(), 15s)) << engine->err();
    // The connection can come up before the HTTP endpoint has the engine's metrics.
    EXPECT_TRUE(eventually([&] { return metric(http_port_, destination_connected) == 1; }, 5s))
        << metric(http_port_, destination_connected);
    expect_source_never_connects(*engine, subscriber);
    // The log says why, in words a user can act on.
    EXPECT_NE(engine->err().find(
                  "in: cannot connect to " + broker_->uri() +
                  " (TLS certificate verify failed: self-signed certificate in certificate chain"),
              std::string::npos)
        << engine->err();
}

TEST_F(MqttTransport, WrongHostNameNeverConnects) {
    const auto& certs = certificates();
    // Signed by the trusted CA, but for another host than the `localhost` in the broker URI.
    start_broker(tls_broker(certs.wrong_host_cert_file, certs.wrong_host_key_file));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    auto engine =
        start_engine(write_pipeline(tls_keys(certs.ca_file), tls_keys(certs.ca_file)), "engine");
    ASSERT_TRUE(eventually(
        [&] { return occurrences(engine->err(), "out: cannot connect to " + broker_->uri()) >= 2; },
        10s))
        << engine->err();
    EXPECT_EQ(metric(http_port_, destination_connected), 0);
    expect_source_never_connects(*engine, subscriber);
    EXPECT_EQ(engine->err().find("out: connected to"), std::string::npos) << engine->err();
    EXPECT_NE(engine->err().find("out: cannot connect to " + broker_->uri() +
                                 " (TLS certificate verify failed: hostname mismatch"),
              std::string::npos)
        << engine->err();
}

// `verify: false` turns off the check of the broker's certificate and host name (docs), so the
// broker of WrongHostNameNeverConnects is accepted.
TEST_F(MqttTransport, VerifyFalseAcceptsTheWrongHostName) {
    const auto& certs = certificates();
    start_broker(tls_broker(certs.wrong_host_cert_file, certs.wrong_host_key_file));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    const std::string keys = tls_keys(certs.ca_file, ", verify: false");
    auto engine = start_connected_engine(write_pipeline(keys, keys), "engine");
    expect_round_trip(subscriber, *engine, 50);
    // Turning verification off is allowed, never silent.
    EXPECT_NE(engine->err().find("in: TLS verification of " + broker_->uri() + " is off"),
              std::string::npos)
        << engine->err();
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
}

TEST_F(MqttTransport, WrongPasswordNeverConnectsAndRetries) {
    MosquittoOptions options;
    options.users = {{"edgeflow", "right-password"}};
    start_broker(std::move(options));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    // The destination's credentials are right: only the source is turned away.
    auto engine =
        start_engine(write_pipeline("    username: edgeflow\n    password: wrong-password\n",
                                    "    username: edgeflow\n    password: right-password\n"),
                     "engine");
    ASSERT_TRUE(engine->wait_for_err("out: connected to " + broker_->uri(), 10s)) << engine->err();
    // The connection can come up before the HTTP endpoint has the engine's metrics.
    EXPECT_TRUE(eventually([&] { return metric(http_port_, destination_connected) == 1; }, 5s))
        << metric(http_port_, destination_connected);
    expect_source_never_connects(*engine, subscriber);
}

// The broker answers a wrong password with a CONNACK refusal (MQTT 5 reason 0x86, MQTT 3.1.1
// return code 4): the log must say the broker refused, on every attempt, and not that it
// never answered.
TEST_F(MqttTransport, WrongPasswordIsLoggedAsRefused) {
    MosquittoOptions options;
    options.users = {{"edgeflow", "right-password"}};
    start_broker(std::move(options));
    auto engine =
        start_engine(write_pipeline("    username: edgeflow\n    password: wrong-password\n",
                                    "    username: edgeflow\n    password: wrong-password\n"
                                    "    protocol: 3.1.1\n"),
                     "engine");
    for (const std::string endpoint : {"in", "out"}) {
        const std::string refused = endpoint + ": " + broker_->uri() + " refused the connection";
        // Every refusal is logged: two of them show the endpoint tried again.
        EXPECT_TRUE(eventually([&] { return occurrences(engine->err(), refused) >= 2; }, 10s))
            << refused << "\n"
            << engine->err();
    }
    EXPECT_EQ(engine->err().find("no CONNACK"), std::string::npos) << engine->err();
    EXPECT_EQ(engine->err().find("connected to " + broker_->uri()), std::string::npos)
        << engine->err();
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(5s).value_or(-1), 0) << engine->err();
}

TEST_F(MqttTransport, RightPasswordFromAFileOrInlineDelivers) {
    MosquittoOptions options;
    options.users = {{"edgeflow", "right-password"}, {"other", "other-password"}};
    start_broker(std::move(options));
    {
        // The trailing newline an editor leaves is not part of the password (docs).
        std::ofstream secret(dir_.file("mqtt-password"));
        secret << "right-password\n";
    }
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    auto engine = start_connected_engine(
        write_pipeline("    username: edgeflow\n    password_file: mqtt-password\n",
                       "    username: other\n    password: other-password\n"),
        "engine");
    expect_round_trip(subscriber, *engine, 100);
    EXPECT_EQ(engine->err().find("refused the connection"), std::string::npos) << engine->err();
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
}

// The broker announces a receive maximum of 2 and sends a client at most two QoS 1 messages
// awaiting acknowledgement. 2,000 wait for the source in its session at the broker when it
// connects, so it is given them two at a time, and the destination (max_inflight 256) may have
// only two publishes unacknowledged at once: nothing is lost, doubled or refused on the way.
TEST_F(MqttTransport, SmallReceiveMaximumLosesNothing) {
    MosquittoOptions options;
    options.max_inflight_messages = 2;
    start_broker(std::move(options));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    const auto pipeline = write_pipeline("    clean_start: false\n    session_expiry: 600\n", "");
    {
        // The first run leaves the session (and its subscription) at the broker.
        auto first = start_connected_engine(pipeline, "first");
        first->signal(SIGTERM);
        ASSERT_EQ(first->wait(20s).value_or(-1), 0) << first->err();
    }

    constexpr int n = 2000;
    {
        TestPublisher publisher(broker_->client_uri(), "test-pub");
        // One at a time: the limit applies to the test's own publisher too, which, with many
        // publishes queued behind it, left the last few unacknowledged.
        for (int i = 0; i < n; ++i) {
            ASSERT_TRUE(publisher.publish("plant/line" + std::to_string(i % 4) + "/telemetry",
                                          "{\"device\":\"d\",\"seq\":" + std::to_string(i) + "}"))
                << i;
        }
    }
    auto engine = start_connected_engine(pipeline, "engine");
    ASSERT_TRUE(subscriber.wait_for(n, 30s))
        << "received " << subscriber.count() << " of " << n << "\n"
        << engine->err();
    std::this_thread::sleep_for(300ms);
    const auto messages = subscriber.messages();
    EXPECT_EQ(messages.size(), static_cast<std::size_t>(n));
    std::map<std::string, int> last;
    std::set<int> seen;
    for (const auto& m : messages) {
        const int seq = seq_of(m.payload);
        ASSERT_GE(seq, 0) << m.payload;
        EXPECT_EQ(m.topic, "out/line" + std::to_string(seq % 4));
        auto [it, inserted] = last.emplace(m.topic, seq);
        if (!inserted) {
            EXPECT_GT(seq, it->second) << "out of order on " << m.topic;
            it->second = seq;
        }
        EXPECT_TRUE(seen.insert(seq).second) << "duplicate " << seq;
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
    expect_no_loss_and_no_refusal(http_port_, engine->err());
    engine->signal(SIGTERM);
    ASSERT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
    EXPECT_EQ(summary_value(engine->out(), "in (mqtt)", 0), static_cast<std::uint64_t>(n))
        << engine->out();
    EXPECT_EQ(summary_value(engine->out(), "out (mqtt)", 0), static_cast<std::uint64_t>(n))
        << engine->out();
    EXPECT_EQ(summary_value(engine->out(), "out (mqtt)", 1), 0u) << engine->out();
}

// The broker announces a maximum packet size of 1024 bytes. Inputs stay under it; a transform
// copies the `blob` field three times, so inputs with a 400-character blob become outputs of
// about 1.3 KB. Those must not be sent (a broker disconnects a client that exceeds its
// maximum): they are counted as failed, the connection stays up, and the small ones before,
// between and after them arrive.
TEST_F(MqttTransport, MaximumPacketSizeIsRespected) {
    MosquittoOptions options;
    options.max_packet_size = 1024;
    start_broker(std::move(options));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    const std::string stages =
        "stages:\n  - kind: transform\n    map:\n"
        "      - {inputs: ['*'], output: '*'}\n"
        "      - {inputs: [blob], output: copy1}\n"
        "      - {inputs: [blob], output: copy2}\n"
        "      - {inputs: [blob], output: copy3}\n";
    auto engine = start_connected_engine(write_pipeline("", "", "pipeline.yaml", stages), "engine");

    const std::string big(400, 'x');
    TestPublisher publisher(broker_->client_uri(), "test-pub");
    std::set<int> small;
    int oversize = 0;
    constexpr int n = 60;
    for (int i = 0; i < n; ++i) {
        const bool is_big = i >= 10 && i < 50 && i % 2 == 0;  // small ones first and last
        const std::string blob = is_big ? big : "s";
        ASSERT_TRUE(publisher.publish(
            "plant/a/telemetry",
            "{\"device\":\"d\",\"seq\":" + std::to_string(i) + ",\"blob\":\"" + blob + "\"}"));
        if (is_big) {
            ++oversize;
        } else {
            small.insert(i);
        }
    }
    ASSERT_TRUE(subscriber.wait_for(small.size(), 20s))
        << "received " << subscriber.count() << " of " << small.size() << "\n"
        << engine->err();
    std::this_thread::sleep_for(300ms);
    const auto messages = subscriber.messages();
    ASSERT_EQ(messages.size(), small.size()) << "an oversize output reached the subscriber";
    auto expected = small.begin();
    for (const auto& m : messages) {
        EXPECT_LT(m.payload.size(), 1024u);
        EXPECT_EQ(seq_of(m.payload), *expected++) << m.payload;
    }
    const std::string failed =
        R"(edgeflow_destination_failed_total{destination="out",kind="mqtt"})";
    EXPECT_TRUE(eventually([&] { return metric(http_port_, failed) == oversize; }, 5s))
        << metric(http_port_, failed) << " failed, expected " << oversize << "\n"
        << engine->err();
    // The connection can come up before the HTTP endpoint has the engine's metrics.
    EXPECT_TRUE(eventually([&] { return metric(http_port_, destination_connected) == 1; }, 5s))
        << metric(http_port_, destination_connected);
    EXPECT_EQ(
        metric(http_port_, R"(edgeflow_mqtt_disconnects_total{endpoint="out",role="destination"})"),
        0)
        << engine->err();
    EXPECT_EQ(engine->err().find("out: connection to"), std::string::npos) << engine->err();
    // Logged as a failed publish (docs: the first ten are logged).
    EXPECT_NE(engine->err().find("out: publish to 'out/a' failed"), std::string::npos)
        << engine->err();

    engine->signal(SIGTERM);
    ASSERT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
    EXPECT_EQ(summary_value(engine->out(), "out (mqtt)", 0), small.size()) << engine->out();
    EXPECT_EQ(summary_value(engine->out(), "out (mqtt)", 1), static_cast<std::uint64_t>(oversize))
        << engine->out();
}

// 30 output topics, more than the 10 topic aliases the broker accepts from a client: whether
// or not the destination uses aliases, every message reaches the subscriber on its own topic.
TEST_F(MqttTransport, TopicAliasesOnTheBrokerDoNotChangeTopics) {
    MosquittoOptions options;
    options.max_topic_alias = 10;
    start_broker(std::move(options));
    TestSubscriber subscriber(broker_->client_uri(), "test-sub");
    ASSERT_TRUE(subscriber.subscribe("out/#", 1));
    auto engine = start_connected_engine(write_pipeline("", ""), "engine");

    constexpr int topics = 30;
    constexpr int rounds = 4;  // each topic again after the others, so an alias would be reused
    TestPublisher publisher(broker_->client_uri(), "test-pub");
    for (int i = 0; i < topics * rounds; ++i) {
        publisher.publish_async("plant/t" + std::to_string(i % topics) + "/telemetry",
                                "{\"device\":\"d\",\"seq\":" + std::to_string(i) + "}");
    }
    ASSERT_TRUE(publisher.flush(20s));
    ASSERT_TRUE(subscriber.wait_for(topics * rounds, 20s))
        << "received " << subscriber.count() << "\n"
        << engine->err();
    std::this_thread::sleep_for(300ms);
    const auto messages = subscriber.messages();
    EXPECT_EQ(messages.size(), static_cast<std::size_t>(topics * rounds));
    std::map<std::string, int> per_topic;
    for (const auto& m : messages) {
        const int seq = seq_of(m.payload);
        ASSERT_GE(seq, 0) << m.payload;
        EXPECT_EQ(m.topic, "out/t" + std::to_string(seq % topics)) << m.payload;
        ++per_topic[m.topic];
    }
    EXPECT_EQ(per_topic.size(), static_cast<std::size_t>(topics));
    for (const auto& [topic, count] : per_topic) {
        EXPECT_EQ(count, rounds) << topic;
    }
    // An alias above the maximum, or one never defined, gets the destination disconnected.
    expect_no_loss_and_no_refusal(http_port_, engine->err());
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(20s).value_or(-1), 0) << engine->err();
}

}  // namespace
