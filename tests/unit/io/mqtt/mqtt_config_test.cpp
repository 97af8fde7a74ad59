#include "io/mqtt/mqtt_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/yaml_loader.h"
#include "io/registry.h"

namespace edgeflow {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

struct Parsed {
    MqttConfig config;
    std::vector<std::string> errors;  ///< ConfigError::to_string(), in file order
};

// Parses a pipeline and then its first source (or, with `source` false, first destination) as
// an mqtt endpoint. Raw string literals start with a newline, dropped so that line 1 is the
// line after R"(.
Parsed parse(std::string_view text, bool source = true, const std::string& file = "pipeline.yaml") {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    ConfigErrors errors(file);
    Parsed out;
    auto root = load_yaml_text(std::string(text), errors);
    EXPECT_TRUE(root.has_value()) << errors.to_string();
    if (root) {
        const PipelineConfig pipeline = parse_pipeline(*root, errors);
        const auto& endpoints = source ? pipeline.sources : pipeline.destinations;
        if (!endpoints.empty()) {
            out.config = MqttConfig::parse(endpoints.front(), source, errors);
        }
    }
    std::istringstream lines(errors.to_string());
    for (std::string line; std::getline(lines, line);) {
        out.errors.push_back(line);
    }
    return out;
}

// An mqtt source on lines 1-3 whose keys continue on line 4; a null destination follows.
Parsed source_with(std::string_view keys) {
    return parse("sources:\n  - kind: mqtt\n    broker: tcp://localhost:1883\n" +
                 std::string(keys) + "destinations:\n  - kind: null\n");
}

TEST(TopicFilter, ValidFilters) {
    for (const char* filter : {"a", "a/b", "#", "+", "a/+/c", "a/#", "+/+/#", "a//b", "/a", "a/",
                               "$SYS/#", "$share/g/a/#", "$share/edgeflow/+", "$share/g/#"}) {
        EXPECT_EQ(check_topic_filter(filter), "") << filter;
    }
}

TEST(TopicFilter, InvalidFilters) {
    struct Case {
        const char* filter;
        const char* why;
    };
    const Case cases[] = {
        {"", "an empty filter"},
        {"a/#/b", "'#' must be a whole level and the last one"},
        {"a#", "'#' must be a whole level and the last one"},
        {"#/a", "'#' must be a whole level and the last one"},
        {"a/b#", "'#' must be a whole level and the last one"},
        {"a/+b", "'+' must be a whole level"},
        {"a+/c", "'+' must be a whole level"},
        {"++", "'+' must be a whole level"},
        {"$share//x", "a shared subscription needs $share/<group>/<filter>"},
        {"$share/g", "a shared subscription needs $share/<group>/<filter>"},
        {"$share/g/", "a shared subscription needs $share/<group>/<filter>"},
        {"$share/", "a shared subscription needs $share/<group>/<filter>"},
        {"$share/g+/x", "a shared subscription group cannot hold '+' or '#'"},
        {"$share/#/x", "a shared subscription group cannot hold '+' or '#'"},
        {"$share/g/a/#/b", "'#' must be a whole level and the last one"},
        {"$share/g/a+", "'+' must be a whole level"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(check_topic_filter(c.filter), c.why) << c.filter;
    }
}

TEST(MqttConfig, SourceDefaults) {
    const auto parsed = source_with("    topics: plant/#\n");
    ASSERT_THAT(parsed.errors, IsEmpty());
    const MqttConfig& c = parsed.config;
    EXPECT_EQ(c.broker, "tcp://localhost:1883");
    EXPECT_EQ(c.client_id, "edgeflow-source-1-" + std::to_string(::getpid()));
    EXPECT_EQ(c.protocol, 5);
    EXPECT_EQ(c.qos, 1);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(c.session_expiry, 0u);
    EXPECT_EQ(c.keep_alive, 30u);
    EXPECT_EQ(c.connect_timeout, 10u);
    EXPECT_FALSE(c.tls.enabled);
    EXPECT_EQ(c.reconnect_initial_ms, 250u);
    EXPECT_EQ(c.reconnect_max_ms, 10000u);
    // A single string is a list of one.
    EXPECT_EQ(c.topics, std::vector<std::string>{"plant/#"});
}

TEST(MqttConfig, SourceWithEveryKey) {
    const auto parsed = parse(R"(
sources:
  - name: plant
    kind: mqtt
    broker: ssl://broker.local:8883
    client_id: edge-1
    protocol: 3.1.1
    qos: 0
    clean_start: false
    keep_alive: 60
    connect_timeout: 5
    username: edge
    password: secret
    reconnect: {initial_delay_ms: 100, max_delay_ms: 2000}
    tls: {ca_file: ca.pem, cert_file: /abs/client.pem, key_file: keys/client.key, verify: false}
    topics:
      - factory/+/telemetry
      - $share/edgeflow/plant/#
destinations:
  - kind: null
)",
                              true, "/etc/edgeflow/pipeline.yaml");
    ASSERT_THAT(parsed.errors, IsEmpty());
    const MqttConfig& c = parsed.config;
    EXPECT_EQ(c.broker, "ssl://broker.local:8883");
    EXPECT_EQ(c.client_id, "edge-1");
    EXPECT_EQ(c.protocol, 4);
    EXPECT_EQ(c.qos, 0);
    EXPECT_FALSE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 60u);
    EXPECT_EQ(c.connect_timeout, 5u);
    EXPECT_EQ(c.username, "edge");
    EXPECT_EQ(c.password, "secret");
    EXPECT_EQ(c.reconnect_initial_ms, 100u);
    EXPECT_EQ(c.reconnect_max_ms, 2000u);
    EXPECT_TRUE(c.tls.enabled);
    EXPECT_EQ(c.tls.ca_file, "/etc/edgeflow/ca.pem");
    EXPECT_EQ(c.tls.cert_file, "/abs/client.pem");
    EXPECT_EQ(c.tls.key_file, "/etc/edgeflow/keys/client.key");
    EXPECT_FALSE(c.tls.verify);
    EXPECT_EQ(c.topics,
              (std::vector<std::string>{"factory/+/telemetry", "$share/edgeflow/plant/#"}));
}

TEST(MqttConfig, ProtocolVersions) {
    EXPECT_EQ(source_with("    topics: a\n    protocol: 5\n").config.protocol, 5);
    EXPECT_EQ(source_with("    topics: a\n    protocol: \"5\"\n").config.protocol, 5);
    EXPECT_EQ(source_with("    topics: a\n    protocol: 3.1.1\n").config.protocol, 4);
    EXPECT_EQ(source_with("    topics: a\n    protocol: 4\n").config.protocol, 4);
}

TEST(MqttConfig, SessionExpiryWithProtocol5) {
    const auto parsed = source_with(
        "    topics: a\n    clean_start: false\n"
        "    session_expiry: 3600\n");
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.session_expiry, 3600u);
}

TEST(MqttConfig, TlsSchemes) {
    for (const char* broker : {"ssl://h:8883", "mqtts://h:8883"}) {
        const auto parsed = parse("sources:\n  - kind: mqtt\n    broker: " + std::string(broker) +
                                  "\n    topics: a\n    tls: {verify: true}\n"
                                  "destinations:\n  - kind: null\n");
        EXPECT_THAT(parsed.errors, IsEmpty()) << broker;
        EXPECT_TRUE(parsed.config.tls.enabled) << broker;
    }
    for (const char* broker : {"tcp://h:1883", "mqtt://h:1883"}) {
        const auto parsed = parse("sources:\n  - kind: mqtt\n    broker: " + std::string(broker) +
                                  "\n    topics: a\ndestinations:\n  - kind: null\n");
        EXPECT_THAT(parsed.errors, IsEmpty()) << broker;
        EXPECT_FALSE(parsed.config.tls.enabled) << broker;
    }
}

TEST(MqttConfig, DestinationKeys) {
    const auto parsed = parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - name: cloud
    kind: mqtt
    broker: mqtt://cloud:1883
    topic: out/{topic}
    retain: true
    max_inflight: 10
    drain_timeout: 0
)",
                              false);
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_TRUE(parsed.config.retain);
    EXPECT_EQ(parsed.config.max_inflight, 10u);
    EXPECT_EQ(parsed.config.drain_timeout, 0u);
    EXPECT_EQ(parsed.config.client_id, "edgeflow-cloud-" + std::to_string(::getpid()));
    EXPECT_TRUE(parsed.config.topics.empty());
}

class PasswordFile : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("edgeflow-mqtt-config-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string pipeline_file() const { return (dir_ / "pipeline.yaml").string(); }
    std::filesystem::path dir_;
};

TEST_F(PasswordFile, IsReadRelativeToThePipelineWithoutTrailingNewlines) {
    std::ofstream(dir_ / "password") << "s3cret\r\n\n";
    const auto parsed = parse(R"(
sources:
  - kind: mqtt
    broker: tcp://h:1883
    topics: a
    username: edge
    password_file: password
destinations:
  - kind: null
)",
                              true, pipeline_file());
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.password, "s3cret");
}

TEST_F(PasswordFile, UnreadableFileIsAnError) {
    const auto missing = (dir_ / "absent").string();
    EXPECT_THAT(parse(R"(
sources:
  - kind: mqtt
    broker: tcp://h:1883
    topics: a
    password_file: absent
destinations:
  - kind: null
)",
                      true, pipeline_file())
                    .errors,
                ElementsAre(pipeline_file() +
                            ":5:20: sources[0].password_file: expected a "
                            "readable password file, found \"" +
                            missing + "\" cannot be read"));
}

TEST_F(PasswordFile, NotTogetherWithPassword) {
    std::ofstream(dir_ / "password") << "x";
    EXPECT_THAT(parse(R"(
sources:
  - kind: mqtt
    broker: tcp://h:1883
    topics: a
    username: edge
    password: inline
    password_file: password
destinations:
  - kind: null
)",
                      true, pipeline_file())
                    .errors,
                ElementsAre(pipeline_file() + ":7:20: sources[0].password_file: expected "
                                              "password or password_file, not both, found both"));
}

TEST(PasswordEnv, IsReadFromTheEnvironmentAtLoad) {
    ::setenv("EDGEFLOW_TEST_MQTT_PASSWORD", "from-env", 1);
    const auto parsed = source_with(
        "    topics: a\n    username: edge\n    password_env: EDGEFLOW_TEST_MQTT_PASSWORD\n");
    ASSERT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.password, "from-env");
}

TEST(PasswordEnv, AnUnsetVariableIsAnError) {
    ::unsetenv("EDGEFLOW_TEST_MQTT_UNSET");
    EXPECT_THAT(source_with("    topics: a\n    username: edge\n"
                            "    password_env: EDGEFLOW_TEST_MQTT_UNSET\n")
                    .errors,
                ElementsAre("pipeline.yaml:6:19: sources[0].password_env: expected a set "
                            "environment variable, found \"EDGEFLOW_TEST_MQTT_UNSET\" is not set"));
}

TEST(PasswordEnv, NotTogetherWithPassword) {
    ::setenv("EDGEFLOW_TEST_MQTT_PASSWORD", "from-env", 1);
    EXPECT_THAT(source_with("    topics: a\n    username: edge\n    password: inline\n"
                            "    password_env: EDGEFLOW_TEST_MQTT_PASSWORD\n")
                    .errors,
                ElementsAre("pipeline.yaml:7:19: sources[0].password_env: expected one of "
                            "password, password_file and password_env, found more than one"));
}

TEST(MqttConfigErrors, MissingBrokerAndTopics) {
    EXPECT_THAT(parse("sources:\n  - kind: mqtt\ndestinations:\n  - kind: null\n").errors,
                ElementsAre("pipeline.yaml:2:5: sources[0].broker: expected a broker URI such as "
                            "tcp://127.0.0.1:1883 or ssl://host:8883, found no such key",
                            "pipeline.yaml:2:5: sources[0].topics: expected a list of topic "
                            "filters to subscribe to, found no such key"));
}

TEST(MqttConfigErrors, BrokerScheme) {
    EXPECT_THAT(parse("sources:\n  - kind: mqtt\n    broker: http://h:1883\n    topics: a\n"
                      "destinations:\n  - kind: null\n")
                    .errors,
                ElementsAre("pipeline.yaml:3:13: sources[0].broker: expected a broker URI "
                            "starting tcp://, mqtt://, ssl:// or mqtts://, found "
                            "\"http://h:1883\""));
    EXPECT_THAT(parse("sources:\n  - kind: mqtt\n    broker: localhost:1883\n    topics: a\n"
                      "destinations:\n  - kind: null\n")
                    .errors,
                ElementsAre("pipeline.yaml:3:13: sources[0].broker: expected a broker URI "
                            "starting tcp://, mqtt://, ssl:// or mqtts://, found "
                            "\"localhost:1883\""));
}

TEST(MqttConfigErrors, BadTopicFilterInAList) {
    EXPECT_THAT(source_with("    topics:\n      - ok/#\n      - a/#/b\n      - a/+b\n"
                            "      - $share//x\n")
                    .errors,
                ElementsAre("pipeline.yaml:6:9: sources[0].topics[1]: expected an MQTT topic "
                            "filter, found \"a/#/b\": '#' must be a whole level and the last one",
                            "pipeline.yaml:7:9: sources[0].topics[2]: expected an MQTT topic "
                            "filter, found \"a/+b\": '+' must be a whole level",
                            "pipeline.yaml:8:9: sources[0].topics[3]: expected an MQTT topic "
                            "filter, found \"$share//x\": a shared subscription needs "
                            "$share/<group>/<filter>"));
}

TEST(MqttConfigErrors, BadSingleTopicFilter) {
    EXPECT_THAT(source_with("    topics: a/+b\n").errors,
                ElementsAre("pipeline.yaml:4:13: sources[0].topics: expected an MQTT topic "
                            "filter, found \"a/+b\": '+' must be a whole level"));
}

TEST(MqttConfigErrors, TopicsOfTheWrongShape) {
    // (What is found is not checked: "a list", for an empty one, does not say what is wrong.)
    EXPECT_THAT(source_with("    topics: []\n").errors,
                ElementsAre(testing::StartsWith(
                    "pipeline.yaml:4:13: sources[0].topics: expected a list of text, found ")));
    EXPECT_THAT(source_with("    topics: {a: 1}\n").errors,
                ElementsAre("pipeline.yaml:4:13: sources[0].topics: expected a list of text, "
                            "found a map"));
    EXPECT_THAT(source_with("    topics: [a, [b]]\n").errors,
                ElementsAre("pipeline.yaml:4:17: sources[0].topics[1]: expected text, found a "
                            "list"));
}

TEST(MqttConfigErrors, TlsOnlyWithSsl) {
    EXPECT_THAT(source_with("    topics: a\n    tls: {ca_file: ca.pem}\n").errors,
                ElementsAre("pipeline.yaml:5:10: sources[0].tls: expected tls only with an "
                            "ssl:// or mqtts:// broker, found a tls block"));
}

TEST(MqttConfigErrors, UnknownTlsKey) {
    EXPECT_THAT(
        parse("sources:\n  - kind: mqtt\n    broker: ssl://h:8883\n    topics: a\n"
              "    tls: {ca: x}\ndestinations:\n  - kind: null\n")
            .errors,
        ElementsAre("pipeline.yaml:5:11: sources[0].tls.ca: expected one of the keys of "
                    "tls: ca_dir ca_file cert_file key_file verify, found unknown key \"ca\""));
}

TEST(MqttConfigErrors, Protocol) {
    EXPECT_THAT(source_with("    topics: a\n    protocol: 3\n").errors,
                ElementsAre("pipeline.yaml:5:15: sources[0].protocol: expected 5 or 3.1.1, found "
                            "\"3\""));
}

TEST(MqttConfigErrors, SessionExpiryNeedsProtocol5) {
    EXPECT_THAT(source_with("    topics: a\n    protocol: 3.1.1\n    session_expiry: 60\n").errors,
                ElementsAre("pipeline.yaml:6:21: sources[0].session_expiry: expected "
                            "session_expiry only with protocol: 5, found 60"));
}

TEST(MqttConfigErrors, NumbersOutOfRange) {
    EXPECT_THAT(source_with("    topics: a\n    qos: 2\n").errors,
                ElementsAre("pipeline.yaml:5:10: sources[0].qos: expected a whole number from 0 "
                            "to 1, found \"2\""));
    EXPECT_THAT(source_with("    topics: a\n    keep_alive: 65536\n").errors,
                ElementsAre("pipeline.yaml:5:17: sources[0].keep_alive: expected a whole number "
                            "from 0 to 65535, found \"65536\""));
    EXPECT_THAT(source_with("    topics: a\n    connect_timeout: 0\n").errors,
                ElementsAre("pipeline.yaml:5:22: sources[0].connect_timeout: expected a whole "
                            "number from 1 to 3600, found \"0\""));
    EXPECT_THAT(source_with("    topics: a\n    clean_start: yes\n").errors,
                ElementsAre("pipeline.yaml:5:18: sources[0].clean_start: expected true or false, "
                            "found \"yes\""));
}

TEST(MqttConfigErrors, KeepAliveUnderFiveSecondsOtherThanOff) {
    EXPECT_THAT(source_with("    topics: a\n    keep_alive: 4\n").errors,
                ElementsAre("pipeline.yaml:5:17: sources[0].keep_alive: expected 0 (off) or 5 to "
                            "65535 seconds, found \"4\""));
    EXPECT_THAT(source_with("    topics: a\n    keep_alive: 0\n").errors, IsEmpty());
    EXPECT_THAT(source_with("    topics: a\n    keep_alive: 5\n").errors, IsEmpty());
}

TEST(MqttConfigErrors, PasswordNeedsAUsername) {
    EXPECT_THAT(source_with("    topics: a\n    password: secret\n").errors,
                ElementsAre("pipeline.yaml:5:15: sources[0].password: expected a username with "
                            "the password, found a password without a username"));
    EXPECT_THAT(source_with("    topics: a\n    username: edge\n    password: secret\n").errors,
                IsEmpty());
}

TEST(MqttConfigErrors, ReconnectDelays) {
    EXPECT_THAT(
        source_with("    topics: a\n    reconnect: {initial_delay_ms: 500, max_delay_ms: 100}\n")
            .errors,
        ElementsAre("pipeline.yaml:5:16: sources[0].reconnect: expected max_delay_ms at least "
                    "initial_delay_ms, found 100 < 500"));
}

TEST(MqttConfigErrors, UnknownSourceKey) {
    EXPECT_THAT(source_with("    topics: a\n    retain: true\n").errors,
                ElementsAre("pipeline.yaml:5:5: sources[0].retain: expected one of the keys of "
                            "an mqtt source: acknowledge auth broker clean_start client_id "
                            "connect_timeout keep_alive kind max_inflight name password "
                            "password_env password_file protocol qos reconnect session_expiry tls "
                            "topics username, found unknown key \"retain\""));
}

TEST(MqttConfigErrors, UnknownDestinationKey) {
    EXPECT_THAT(parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: mqtt
    broker: tcp://h:1883
    topics: a
)",
                      false)
                    .errors,
                ElementsAre("pipeline.yaml:7:5: destinations[0].topics: expected one of the "
                            "keys of an mqtt destination: auth broker clean_start client_id "
                            "connect_timeout dead_letter drain_timeout keep_alive kind "
                            "max_inflight name password password_env password_file protocol qos "
                            "reconnect "
                            "retain session_expiry tls topic username, found unknown key "
                            "\"topics\""));
}

// auth: K8S-SAT (MQTT 5 enhanced authentication with a Kubernetes service account token).
TEST(MqttAuth, K8sSatWithTheTokenFileResolvedAgainstThePipeline) {
    const auto parsed = parse(
        "sources:\n  - kind: mqtt\n    broker: ssl://aio-broker:18883\n"
        "    topics: a\n"
        "    auth: {method: K8S-SAT, token_file: tokens/mqtt-client-token}\n"
        "destinations:\n  - kind: null\n",
        true, "/etc/edgeflow/pipeline.yaml");
    EXPECT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.auth.method, MqttAuthConfig::Method::k8s_sat);
    EXPECT_EQ(parsed.config.auth.token_file, "/etc/edgeflow/tokens/mqtt-client-token");
    // The file is not read at load: outside the cluster it does not exist.
}

TEST(MqttAuth, DestinationsTakeItToo) {
    const auto parsed = parse(R"(
sources:
  - kind: file
    path: in.jsonl
destinations:
  - kind: mqtt
    broker: ssl://aio-broker:18883
    topic: out
    auth:
      method: K8S-SAT
      token_file: /var/run/secrets/tokens/mqtt-client-token
)",
                              false);
    EXPECT_THAT(parsed.errors, IsEmpty());
    EXPECT_EQ(parsed.config.auth.method, MqttAuthConfig::Method::k8s_sat);
    EXPECT_EQ(parsed.config.auth.token_file, "/var/run/secrets/tokens/mqtt-client-token");
}

TEST(MqttAuth, WithoutAuthThereIsNone) {
    EXPECT_EQ(source_with("    topics: a\n").config.auth.method, MqttAuthConfig::Method::none);
}

TEST(MqttAuthErrors, UnknownMethodSaysWhichAreAccepted) {
    EXPECT_THAT(
        source_with("    topics: a\n    auth: {method: SCRAM-SHA-1, token_file: t}\n").errors,
        ElementsAre("pipeline.yaml:5:20: sources[0].auth.method: expected an "
                    "authentication method edgeflow speaks: K8S-SAT (a Kubernetes service "
                    "account token; for a user name and password, use username and "
                    "password_file instead of auth), found \"SCRAM-SHA-1\""));
}

TEST(MqttAuthErrors, MissingTokenFileAndMethod) {
    EXPECT_THAT(source_with("    topics: a\n    auth: {method: K8S-SAT}\n").errors,
                ElementsAre("pipeline.yaml:5:11: sources[0].auth.token_file: expected the path "
                            "of the projected service account token, such as "
                            "/var/run/secrets/tokens/mqtt-client-token, found no such key"));
    EXPECT_THAT(source_with("    topics: a\n    auth: {token_file: t}\n").errors,
                ElementsAre("pipeline.yaml:5:11: sources[0].auth.method: expected an "
                            "authentication method: K8S-SAT, found no such key"));
}

TEST(MqttAuthErrors, EnhancedAuthenticationIsMqtt5Only) {
    EXPECT_THAT(source_with("    topics: a\n    protocol: 3.1.1\n"
                            "    auth: {method: K8S-SAT, token_file: t}\n")
                    .errors,
                ElementsAre("pipeline.yaml:5:15: sources[0].protocol: expected protocol: 5 with "
                            "auth (enhanced authentication is MQTT 5 only), found 3.1.1"));
}

TEST(MqttAuthErrors, NoUsernameOrPasswordWithK8sSat) {
    EXPECT_THAT(source_with("    topics: a\n    username: edge\n    password: secret\n"
                            "    auth: {method: K8S-SAT, token_file: t}\n")
                    .errors,
                ElementsAre("pipeline.yaml:5:15: sources[0].username: expected no username with "
                            "auth method K8S-SAT (the service account token alone authenticates "
                            "the client), found a username",
                            "pipeline.yaml:6:15: sources[0].password: expected no password with "
                            "auth method K8S-SAT (the service account token alone authenticates "
                            "the client), found a password"));
}

TEST(MqttAuthErrors, UnknownAuthKey) {
    EXPECT_THAT(
        source_with("    topics: a\n    auth: {method: K8S-SAT, token_file: t, audience: x}\n")
            .errors,
        ElementsAre("pipeline.yaml:5:44: sources[0].auth.audience: expected one of the keys of "
                    "auth: method token_file, found unknown key \"audience\""));
}

}  // namespace
}  // namespace edgeflow

namespace edgeflow {
namespace {

TEST(MqttConfig, AcknowledgeDefaultsToAfterDeliveryAndOnReceiptIsExplicit) {
    const auto defaults = source_with("    topics: a\n");
    EXPECT_THAT(defaults.errors, IsEmpty());
    EXPECT_EQ(defaults.config.acknowledge, MqttAcknowledge::after_delivery);
    const auto early = source_with("    topics: a\n    acknowledge: on_receipt\n");
    EXPECT_THAT(early.errors, IsEmpty());
    EXPECT_EQ(early.config.acknowledge, MqttAcknowledge::on_receipt);
    EXPECT_THAT(source_with("    topics: a\n    acknowledge: later\n").errors,
                ElementsAre(testing::HasSubstr("sources[0].acknowledge: expected one of")));
    EXPECT_EQ(source_with("    topics: a\n    max_inflight: 4000\n").config.max_inflight, 4000u);
    EXPECT_THAT(source_with("    topics: a\n    max_inflight: 70000\n").errors,
                ElementsAre(testing::HasSubstr("sources[0].max_inflight")));
}

// `check` says, per MQTT source, when messages are acknowledged, the window the broker is asked
// to respect and what the engine holds, and where they do not fit.
TEST(DescribeDelivery, ShowsTheInFlightWindowAgainstTheEnginesBounds) {
    ConfigErrors errors("pipeline.yaml");
    auto root = load_yaml_text(R"(sources:
  - {name: in, kind: mqtt, broker: tcp://localhost:1883, topics: [a], max_inflight: 10}
  - {name: early, kind: mqtt, broker: tcp://localhost:1883, topics: [b], acknowledge: on_receipt}
partition_key: id
stages:
  - {kind: lkv, persist: {destination: out, topic_prefix: lkv, interval: 2s}}
destinations:
  - {name: out, kind: mqtt, broker: tcp://localhost:1883, topic: x}
runtime: {batch_size: 16, ingest_queue: {capacity: 100}, egress_queue: {capacity: 32},
          max_in_flight_batches: 4}
)",
                               errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    const PipelineConfig pipeline = parse_pipeline(*root, errors);
    ASSERT_TRUE(errors.empty()) << errors.to_string();
    const auto lines = describe_delivery(pipeline);
    ASSERT_EQ(lines.size(), 4u) << testing::PrintToString(lines);
    EXPECT_EQ(lines[0],
              "delivery    in: QoS 1, acknowledged after delivery; the broker sends at most 10 "
              "unacknowledged (max_inflight); the engine holds up to 196 messages (ingest queue "
              "100 + 6 batches of 16)");
    EXPECT_THAT(lines[1], testing::HasSubstr("max_inflight 10 is below batch_size 16"));
    EXPECT_THAT(lines[2], testing::HasSubstr("persist interval 2s): at most 10 messages"));
    EXPECT_THAT(lines[3], testing::HasSubstr("early: QoS 1, acknowledged on receipt"));
}

// `check` warns when a pipeline that keeps state per key subscribes through `$share/`: the
// broker would split each key's messages across the group's members.
TEST(DescribeSharedSubscriptions, WarnsForSharedFiltersOfAStatefulPipeline) {
    ConfigErrors errors("pipeline.yaml");
    auto root = load_yaml_text(R"(sources:
  - name: plant
    kind: mqtt
    broker: tcp://localhost:1883
    topics: [factory/a, "$share/edge/factory/#"]
  - {name: one, kind: mqtt, broker: tcp://localhost:1883, topics: $share/g/x}
  - {name: file, kind: file, path: in.jsonl}
destinations:
  - {name: out, kind: null}
)",
                               errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    const PipelineConfig pipeline = parse_pipeline(*root, errors);
    ASSERT_TRUE(errors.empty()) << errors.to_string();

    EXPECT_THAT(describe_shared_subscriptions(pipeline, {}), testing::IsEmpty());

    const auto lines = describe_shared_subscriptions(pipeline, {"lkv", "heuristics"});
    ASSERT_EQ(lines.size(), 2U) << testing::PrintToString(lines);
    EXPECT_THAT(lines[0], testing::StartsWith("warning     pipeline.yaml:5:25: "
                                              "sources[0].topics[1]: \"$share/edge/factory/#\" "
                                              "is a shared subscription"));
    EXPECT_THAT(lines[0], testing::HasSubstr("keeps state per key (lkv, heuristics)"));
    EXPECT_THAT(lines[0], testing::HasSubstr("a key's messages are split across instances"));
    EXPECT_THAT(lines[1],
                testing::StartsWith("warning     pipeline.yaml:6:67: sources[1].topics: "));
}

}  // namespace
}  // namespace edgeflow
