// MqttConnection against a scripted broker (tests/support/scripted_broker.h): a loopback
// listener in the test that writes packets byte by byte as the MQTT 5.0 specification lays them
// out and reads what the client sends. mosquitto is the interop partner in the integration
// tests; these cases need a broker that misbehaves on cue (malformed packets, a small Receive
// Maximum, topic aliases it chooses, a session it drops), which a real broker does not do.
#include "io/mqtt/mqtt_connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/scripted_broker.h"

namespace edgeflow {
namespace {

using namespace std::chrono_literals;
using test::bytes;
using test::Bytes;
using test::ScriptedBroker;

/// Records what the connection tells its owner; on_message can be held until released.
class RecordingHandler final : public MqttHandler {
public:
    Status on_connected(MqttConnection&) override {
        connects.fetch_add(1);
        return Status::ok();
    }
    Taken on_message(const mqtt::PublishView& message, std::uint64_t ack_token) override {
        std::unique_lock lock(mutex_);
        topics.emplace_back(message.topic);
        payloads.emplace_back(message.payload);
        tokens.push_back(ack_token);
        arrived_.notify_all();
        released_.wait(lock, [this] { return !hold; });
        return !take ? Taken::no : later ? Taken::later : Taken::acknowledge;
    }
    std::vector<std::uint64_t> token_list() {
        std::lock_guard lock(mutex_);
        return tokens;
    }
    void on_published(std::uint16_t packet_id, std::uint8_t, const void* tag) override {
        std::lock_guard lock(mutex_);
        acknowledged.push_back(packet_id);
        published_tags.push_back(tag);
    }
    void on_abandoned(const void* tag) override {
        std::lock_guard lock(mutex_);
        abandoned_tags.push_back(tag);
    }
    std::vector<const void*> published_tag_list() {
        std::lock_guard lock(mutex_);
        return published_tags;
    }
    void release() {
        {
            std::lock_guard lock(mutex_);
            hold = false;
        }
        released_.notify_all();
    }
    bool wait_for_messages(std::size_t n) {
        std::unique_lock lock(mutex_);
        return arrived_.wait_for(lock, 3s, [&] { return topics.size() >= n; });
    }
    std::vector<std::string> topic_list() {
        std::lock_guard lock(mutex_);
        return topics;
    }

    std::atomic<int> connects{0};
    bool hold = false;
    bool take = true;    ///< what on_message answers: false as when the engine is aborting
    bool later = false;  ///< answer Taken::later: the test acknowledges each token itself
    std::vector<std::uint64_t> tokens;
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
    std::vector<std::uint16_t> acknowledged;
    std::vector<const void*> published_tags;
    std::vector<const void*> abandoned_tags;

private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::condition_variable released_;
};

MqttConfig config_for(int port) {
    MqttConfig config;
    config.broker = "tcp://127.0.0.1:" + std::to_string(port);
    config.client_id = "scripted";
    config.keep_alive = 0;  // no PINGREQs in the scripts
    config.connect_timeout = 3;
    config.reconnect_initial_ms = 10;
    config.reconnect_max_ms = 20;
    config.max_inflight = 16;
    return config;
}

// CONNACK: flags, reason 0, properties as given.
Bytes connack(bool session_present = false, const Bytes& properties = {}) {
    Bytes out = bytes({0x20, static_cast<int>(3 + properties.size()), session_present ? 1 : 0, 0,
                       static_cast<int>(properties.size())});
    return out + properties;
}

class MqttConnectionTest : public testing::Test {
protected:
    void start(MqttConfig config) {
        connection_ =
            std::make_unique<MqttConnection>("test", std::move(config), disconnects_, reconnects_);
        ASSERT_TRUE(connection_->start(handler_));
    }
    void TearDown() override {
        handler_.release();
        if (connection_) {
            connection_->stop();
        }
    }
    bool wait_connected() {
        const auto until = std::chrono::steady_clock::now() + 3s;
        while (!connection_->connected() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(1ms);
        }
        return connection_->connected();
    }

    ScriptedBroker broker_;
    RecordingHandler handler_;
    std::atomic<std::uint64_t> disconnects_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    std::unique_ptr<MqttConnection> connection_;
};

TEST_F(MqttConnectionTest, QoS1PubackIsSentOnlyAfterTheOwnerHasTheMessage) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.hold = true;
    // PUBLISH QoS 1, topic "a/b", packet id 7, no properties, payload "x".
    broker_.send(bytes({0x32, 9, 0, 3, 'a', '/', 'b', 0, 7, 0, 'x'}));
    ASSERT_TRUE(handler_.wait_for_messages(1));
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "a PUBACK before the owner returned";
    handler_.release();
    const auto puback = broker_.read_packet();
    ASSERT_TRUE(puback.has_value());
    EXPECT_EQ(puback->header, 0x40);
    ASSERT_GE(puback->body.size(), 2u);
    EXPECT_EQ(puback->body.substr(0, 2), bytes({0, 7}));
}

// A message the owner did not take (the engine is aborting) is not acknowledged: with a kept
// session the broker sends it again.
TEST_F(MqttConnectionTest, AMessageNotTakenIsNotAcknowledged) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.take = false;
    broker_.send(bytes({0x32, 9, 0, 3, 'a', '/', 'b', 0, 7, 0, 'x'}));
    ASSERT_TRUE(handler_.wait_for_messages(1));
    EXPECT_FALSE(broker_.read_packet(300ms).has_value()) << "a PUBACK for a message not taken";
}

TEST_F(MqttConnectionTest, InboundTopicAliasNamesTheTopicOfItsFirstUse) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    // QoS 0 PUBLISH "a/b" with Topic Alias 1, then one with an empty topic and alias 1.
    broker_.send(bytes({0x30, 10, 0, 3, 'a', '/', 'b', 3, 0x23, 0, 1, 'x'}));
    broker_.send(bytes({0x30, 7, 0, 0, 3, 0x23, 0, 1, 'y'}));
    ASSERT_TRUE(handler_.wait_for_messages(2));
    EXPECT_EQ(handler_.topic_list(), (std::vector<std::string>{"a/b", "a/b"}));
}

TEST_F(MqttConnectionTest, MalformedPacketIsAProtocolErrorThenACountedReconnect) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    // PINGRESP has no body: a remaining length of 1 is malformed.
    broker_.send(bytes({0xD0, 1, 0}));
    const auto disconnect = broker_.read_packet();
    ASSERT_TRUE(disconnect.has_value());
    EXPECT_EQ(disconnect->header, 0xE0);
    ASSERT_FALSE(disconnect->body.empty());
    EXPECT_EQ(static_cast<std::uint8_t>(disconnect->body[0]), mqtt::reason::malformed_packet);
    ASSERT_TRUE(broker_.accept_client()) << "the connection did not come back";
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    EXPECT_EQ(connection_->protocol_errors(), 1u);
    EXPECT_EQ(disconnects_.load(), 1u);
    EXPECT_EQ(reconnects_.load(), 1u);
    EXPECT_EQ(handler_.connects.load(), 2);
}

TEST_F(MqttConnectionTest, ReceiveMaximumBoundsPublishesAwaitingAcknowledgement) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(false, bytes({0x21, 0, 2})));  // Receive Maximum 2
    ASSERT_TRUE(wait_connected());
    for (int i = 0; i < 5; ++i) {
        OutgoingMessage m;
        m.topic = "out";
        m.payload = "p";
        m.qos = 1;
        ASSERT_EQ(connection_->publish(m), PublishResult::queued);
    }
    connection_->flush();
    std::vector<Bytes> ids;
    for (int i = 0; i < 2; ++i) {
        const auto publish = broker_.read_packet();
        ASSERT_TRUE(publish.has_value());
        EXPECT_EQ(publish->header & 0xF6, 0x32);        // PUBLISH, QoS 1
        ids.push_back(publish->body.substr(2 + 3, 2));  // after the topic "out"
    }
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "more than Receive Maximum in flight";
    broker_.send(bytes({0x40, 2}) + ids[0]);
    const auto third = broker_.read_packet();
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->header & 0xF0, 0x30);
    EXPECT_EQ(connection_->outstanding(), 4u);
}

TEST_F(MqttConnectionTest, UnacknowledgedPublishesGoOutAgainInOrderAfterAReconnect) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    const std::vector<std::string> payloads = {"one", "two", "three"};
    for (const auto& p : payloads) {
        OutgoingMessage m;
        m.topic = "t";
        m.payload = p;
        m.qos = 1;
        ASSERT_EQ(connection_->publish(m), PublishResult::queued);
    }
    connection_->flush();
    std::vector<Bytes> first_ids;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const auto publish = broker_.read_packet();
        ASSERT_TRUE(publish.has_value());
        EXPECT_EQ(publish->header, 0x32);
        first_ids.push_back(publish->body.substr(3, 2));
    }
    // The broker acknowledges the first, then the connection drops; it keeps the session.
    broker_.send(bytes({0x40, 2}) + first_ids[0]);
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(true));
    for (std::size_t i = 1; i < payloads.size(); ++i) {
        const auto publish = broker_.read_packet();
        ASSERT_TRUE(publish.has_value());
        EXPECT_EQ(publish->header, 0x3A) << "QoS 1 with DUP";
        EXPECT_EQ(publish->body.substr(3, 2), first_ids[i]) << "the original packet id";
        EXPECT_TRUE(publish->body.ends_with(payloads[i]));
    }
    // Without the session the broker has seen none of them: they go out again, without DUP.
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(false));
    for (std::size_t i = 1; i < payloads.size(); ++i) {
        const auto publish = broker_.read_packet();
        ASSERT_TRUE(publish.has_value());
        EXPECT_EQ(publish->header, 0x32);
        EXPECT_TRUE(publish->body.ends_with(payloads[i]));
    }
}

TEST_F(MqttConnectionTest, OversizePublishIsRefusedAgainstTheBrokersMaximumPacketSize) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(false, bytes({0x27, 0, 0, 0, 64})));  // Maximum Packet Size 64
    ASSERT_TRUE(wait_connected());
    OutgoingMessage big;
    big.topic = "t";
    const std::string payload(100, 'x');
    big.payload = payload;
    big.qos = 1;
    EXPECT_EQ(connection_->publish(big), PublishResult::too_large);
    OutgoingMessage small = big;
    small.payload = "ok";
    EXPECT_EQ(connection_->publish(small), PublishResult::queued);
    connection_->flush();
    const auto publish = broker_.read_packet();
    ASSERT_TRUE(publish.has_value());
    EXPECT_TRUE(publish->body.ends_with("ok"));
}

TEST_F(MqttConnectionTest, BrokerDisconnectIsALossAndTheConnectionReturns) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    // DISCONNECT, reason 0x8E (session taken over), no properties.
    broker_.send(bytes({0xE0, 2, 0x8E, 0}));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    EXPECT_EQ(disconnects_.load(), 1u);
    EXPECT_EQ(connection_->protocol_errors(), 0u);
}

TEST_F(MqttConnectionTest, RefusedConnectionIsRetriedWithTheReasonAsLastError) {
    auto config = config_for(broker_.port());
    config.reconnect_initial_ms = 400;  // time to read the error before the retry clears it
    config.reconnect_max_ms = 400;
    start(config);
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(bytes({0x20, 3, 0, 0x87, 0}));  // CONNACK: not authorized
    const auto until = std::chrono::steady_clock::now() + 1s;
    while (connection_->last_error().empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(connection_->last_error(), "not authorized");
    EXPECT_NE(connection_->state().find("never connected"), std::string::npos);
    ASSERT_TRUE(broker_.accept_client()) << "no retry after a refusal";
    EXPECT_FALSE(connection_->connected());
}

// Keep-alive: after keep_alive seconds without a write a PINGREQ goes out; a PINGRESP missing
// for as long again is a lost connection, made again. (1 s here; the config refuses 1 to 4 s
// for users, the connection itself takes any value.)
TEST_F(MqttConnectionTest, MissingPingrespIsALostConnection) {
    auto config = config_for(broker_.port());
    config.keep_alive = 1;
    start(config);
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    const auto ping = broker_.read_packet(4s);
    ASSERT_TRUE(ping.has_value()) << "no PINGREQ";
    EXPECT_EQ(ping->header, 0xC0);
    broker_.send(bytes({0xD0, 0}));  // the first one is answered
    const auto second = broker_.read_packet(4s);
    ASSERT_TRUE(second.has_value()) << "no second PINGREQ";
    EXPECT_EQ(second->header, 0xC0);
    // The second is not: a keep-alive later the client gives up this connection.
    const auto unanswered = std::chrono::steady_clock::now();
    ASSERT_TRUE(broker_.wait_closed(5s)) << "the silent connection was not given up";
    EXPECT_GE(std::chrono::steady_clock::now() - unanswered, 900ms);
    ASSERT_TRUE(broker_.accept_client()) << "no new connection";
    EXPECT_EQ(disconnects_.load(), 1u);
}

// A broker's Server Keep Alive replaces the one the client asked for.
TEST_F(MqttConnectionTest, ServerKeepAliveIsFollowed) {
    auto config = config_for(broker_.port());
    config.keep_alive = 60;
    start(config);
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(false, bytes({0x13, 0, 1})));  // Server Keep Alive 1 s
    ASSERT_TRUE(wait_connected());
    const auto ping = broker_.read_packet(4s);
    ASSERT_TRUE(ping.has_value()) << "no PINGREQ within the broker's keep-alive";
    EXPECT_EQ(ping->header, 0xC0);
}

}  // namespace
}  // namespace edgeflow

namespace edgeflow {
namespace {

using test::RawPacket;

// PUBLISH QoS 1 "a/b" with packet id `id`, no properties, payload "x"; DUP set when `dup`.
Bytes qos1_publish(int id, bool dup = false) {
    return bytes({dup ? 0x3A : 0x32, 9, 0, 3, 'a', '/', 'b', 0, id, 0, 'x'});
}

// The packet id of a PUBACK the client wrote, or -1 when the packet is something else.
int puback_id(const std::optional<RawPacket>& packet) {
    if (!packet || packet->header != 0x40 || packet->body.size() < 2) {
        return -1;
    }
    return static_cast<std::uint8_t>(packet->body[0]) * 256 +
           static_cast<std::uint8_t>(packet->body[1]);
}

// [MQTT-4.6.0-2]: PUBACKs in the order the PUBLISHes arrived, however the owner finishes them.
TEST_F(MqttConnectionTest, PubacksLeaveInArrivalOrderWhateverOrderTheOwnerFinishesIn) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.later = true;
    for (int id = 1; id <= 3; ++id) {
        broker_.send(qos1_publish(id));
    }
    ASSERT_TRUE(handler_.wait_for_messages(3));
    const auto tokens = handler_.token_list();
    connection_->acknowledge(tokens[2]);
    connection_->flush();
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "the third acknowledged first";
    connection_->acknowledge(tokens[0]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 1);
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "the third before the second";
    connection_->acknowledge(tokens[1]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 2);
    EXPECT_EQ(puback_id(broker_.read_packet()), 3);
    EXPECT_EQ(connection_->unacknowledged(), 0u);
}

// A broker that sends more than max_inflight unacknowledged messages (one ignoring the Receive
// Maximum, or a 3.1.1 broker with a larger in-flight limit) is not read from until the owner's
// acknowledgements make room: the messages wait in the socket, none is lost.
TEST_F(MqttConnectionTest, AFullInboundRingStopsReadingUntilAMessageIsAcknowledged) {
    MqttConfig config = config_for(broker_.port());
    config.max_inflight = 2;
    start(config);
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.later = true;
    for (int id = 1; id <= 3; ++id) {
        broker_.send(qos1_publish(id));
    }
    ASSERT_TRUE(handler_.wait_for_messages(2));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(handler_.topic_list().size(), 2u) << "taken beyond max_inflight";
    EXPECT_EQ(connection_->unacknowledged(), 2u);
    connection_->acknowledge(handler_.token_list()[0]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 1);
    ASSERT_TRUE(handler_.wait_for_messages(3)) << "reading did not resume";
    const auto tokens = handler_.token_list();
    connection_->acknowledge(tokens[1]);
    connection_->acknowledge(tokens[2]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 2);
    EXPECT_EQ(puback_id(broker_.read_packet()), 3);
}

// A message taken on a connection that was lost is not acknowledged on the next one (its
// packet id means nothing there); the broker sends it again, with DUP, which is counted.
TEST_F(MqttConnectionTest, AcknowledgementsOfALostConnectionAreDroppedAndRedeliveriesCounted) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.later = true;
    broker_.send(qos1_publish(5));
    ASSERT_TRUE(handler_.wait_for_messages(1));
    broker_.drop();
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack(true));
    ASSERT_TRUE(wait_connected());
    connection_->acknowledge(handler_.token_list()[0]);
    connection_->flush();
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "acknowledged on another connection";
    broker_.send(qos1_publish(5, true));
    ASSERT_TRUE(handler_.wait_for_messages(2));
    EXPECT_EQ(connection_->duplicates(), 1u);
    connection_->acknowledge(handler_.token_list()[1]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 5);
}

// Paused (a graceful stop under way), the connection takes nothing more and acknowledges
// nothing new, but still writes the PUBACKs of what it took before.
TEST_F(MqttConnectionTest, PausedItTakesNoMoreMessagesButStillAcknowledgesEarlierOnes) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    handler_.later = true;
    broker_.send(qos1_publish(1));
    ASSERT_TRUE(handler_.wait_for_messages(1));
    connection_->pause_receiving();
    broker_.send(qos1_publish(2));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(handler_.topic_list().size(), 1u) << "a message taken while paused";
    EXPECT_EQ(connection_->refused_while_paused(), 1u);
    connection_->acknowledge(handler_.token_list()[0]);
    connection_->flush();
    EXPECT_EQ(puback_id(broker_.read_packet()), 1);
    EXPECT_FALSE(broker_.read_packet(200ms).has_value()) << "the message not taken acknowledged";
}

// A publish's tag comes back when the broker acknowledges it; one still in the outbox when the
// connection stops comes back as abandoned, so its owner does not count it delivered.
TEST_F(MqttConnectionTest, PublishTagsComeBackAcknowledgedOrAbandoned) {
    start(config_for(broker_.port()));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(connack());
    ASSERT_TRUE(wait_connected());
    int first = 0;
    int second = 0;
    for (const void* tag : {static_cast<const void*>(&first), static_cast<const void*>(&second)}) {
        OutgoingMessage m;
        m.topic = "t";
        m.payload = "p";
        m.qos = 1;
        m.tag = tag;
        ASSERT_EQ(connection_->publish(m), PublishResult::queued);
    }
    connection_->flush();
    const auto publish = broker_.read_packet();
    ASSERT_TRUE(publish.has_value());
    ASSERT_TRUE(broker_.read_packet().has_value());
    broker_.send(bytes({0x40, 2}) + publish->body.substr(3, 2));
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (handler_.published_tag_list().empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(handler_.published_tag_list(), (std::vector<const void*>{&first}));
    connection_->stop();
    EXPECT_EQ(handler_.abandoned_tags, (std::vector<const void*>{&second}));
}

}  // namespace
}  // namespace edgeflow
