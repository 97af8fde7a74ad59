// MqttConnection with `auth: {method: K8S-SAT}` against the scripted broker
// (tests/support/scripted_broker.h), which plays the Azure IoT Operations broker's side of
// Kubernetes service-account-token authentication; mosquitto has no such method. The tokens
// are unsigned JWTs in a kubelet-style projected directory (tests/support/projected_token.h),
// rotated by the same symlink swap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/mqtt/mqtt_connection.h"
#include "tests/support/projected_token.h"
#include "tests/support/run_output.h"
#include "tests/support/scripted_broker.h"

namespace edgeflow {
namespace {

using namespace std::chrono_literals;
using test::bytes;
using test::Bytes;
using test::RawPacket;
using test::ScriptedBroker;
using testing::HasSubstr;

// ---- the bytes the broker reads and writes ---------------------------------------------------

std::uint32_t read_varint(std::string_view& in) {
    std::uint32_t value = 0;
    for (int shift = 0; !in.empty(); shift += 7) {
        const auto b = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        value |= static_cast<std::uint32_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    return value;
}

std::string_view read_string(std::string_view& in) {
    const auto n = static_cast<std::size_t>(static_cast<std::uint8_t>(in[0]) << 8 |
                                            static_cast<std::uint8_t>(in[1]));
    const auto s = in.substr(2, n);
    in.remove_prefix(2 + n);
    return s;
}

/// The authentication method (0x15) and data (0x16) of a property block, skipping the other
/// properties a client puts in CONNECT or AUTH.
struct AuthProperties {
    std::optional<std::string> method;
    std::optional<std::string> data;
};

AuthProperties auth_properties(std::string_view block) {
    AuthProperties out;
    while (!block.empty()) {
        const auto id = static_cast<std::uint8_t>(block.front());
        block.remove_prefix(1);
        switch (id) {
            case 0x15:
                out.method = std::string(read_string(block));
                break;
            case 0x16:
                out.data = std::string(read_string(block));
                break;
            case 0x11:  // session expiry
            case 0x27:  // maximum packet size
                block.remove_prefix(4);
                break;
            case 0x21:  // receive maximum
            case 0x22:  // topic alias maximum
                block.remove_prefix(2);
                break;
            case 0x17:  // request problem information
            case 0x19:  // request response information
                block.remove_prefix(1);
                break;
            case 0x26:  // user property
                read_string(block);
                read_string(block);
                break;
            default:
                ADD_FAILURE() << "unexpected property " << int{id};
                return out;
        }
    }
    return out;
}

/// What a CONNECT says about authentication.
struct ConnectAuth {
    bool username = false;
    bool password = false;
    AuthProperties properties;
};

ConnectAuth connect_auth(const RawPacket& connect) {
    std::string_view body = connect.body;
    read_string(body);      // "MQTT"
    body.remove_prefix(1);  // protocol level
    const auto flags = static_cast<std::uint8_t>(body.front());
    body.remove_prefix(3);  // flags, keep alive
    const std::uint32_t length = read_varint(body);
    return {(flags & 0x80) != 0, (flags & 0x40) != 0, auth_properties(body.substr(0, length))};
}

/// An AUTH from the client: its reason code and properties.
struct ClientAuth {
    std::uint8_t reason = 0;
    AuthProperties properties;
};

std::optional<ClientAuth> as_auth(const std::optional<RawPacket>& packet) {
    if (!packet || packet->header != 0xF0 || packet->body.empty()) {
        return std::nullopt;
    }
    std::string_view body = packet->body;
    ClientAuth out;
    out.reason = static_cast<std::uint8_t>(body.front());
    body.remove_prefix(1);
    const std::uint32_t length = read_varint(body);
    out.properties = auth_properties(body.substr(0, length));
    return out;
}

/// The next AUTH the client sends within `timeout`, skipping PINGREQs.
std::optional<ClientAuth> next_auth(ScriptedBroker& broker, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        const auto packet =
            broker.read_packet(std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now()));
        if (!packet) {
            return std::nullopt;
        }
        if (packet->header != 0xC0) {
            return as_auth(packet);
        }
    }
    return std::nullopt;
}

/// AUTH from the broker: reason code, method K8S-SAT, optional data.
Bytes broker_auth(int reason, std::string_view data = {}) {
    Bytes properties = bytes({0x15, 0, 7}) + "K8S-SAT";
    if (!data.empty()) {
        properties += bytes({0x16, static_cast<int>(data.size() >> 8),
                             static_cast<int>(data.size() & 0xFF)}) +
                      std::string(data);
    }
    const Bytes body = bytes({reason, static_cast<int>(properties.size())}) + properties;
    return bytes({0xF0, static_cast<int>(body.size())}) + body;
}

// CONNACK accepted, with the method the client used (the broker echoes it on success).
Bytes connack_k8s_sat() {
    const Bytes properties = bytes({0x15, 0, 7}) + "K8S-SAT";
    return bytes({0x20, static_cast<int>(3 + properties.size()), 0, 0,
                  static_cast<int>(properties.size())}) +
           properties;
}

class RecordingHandler final : public MqttHandler {
public:
    Status on_connected(MqttConnection&) override {
        connects.fetch_add(1);
        return Status::ok();
    }
    Taken on_message(const mqtt::PublishView&, std::uint64_t) override {
        return Taken::acknowledge;
    }
    std::atomic<int> connects{0};
};

// ---- the tests -------------------------------------------------------------------------------

class K8sSatTest : public testing::Test {
protected:
    MqttConfig config(const test::ProjectedToken& token) const {
        MqttConfig c;
        c.broker = "tcp://127.0.0.1:" + std::to_string(broker_.port());
        c.client_id = "k8s-sat";
        c.keep_alive = 0;
        c.connect_timeout = 3;
        c.reconnect_initial_ms = 10;
        c.reconnect_max_ms = 20;
        c.auth.method = MqttAuthConfig::Method::k8s_sat;
        c.auth.token_file = token.path().string();
        return c;
    }
    void start(MqttConfig c) {
        connection_ =
            std::make_unique<MqttConnection>("sat", std::move(c), disconnects_, reconnects_);
        ASSERT_TRUE(connection_->start(handler_));
    }
    void TearDown() override {
        if (connection_) {
            connection_->stop();
        }
    }
    bool connected() {
        return test::eventually([&] { return connection_->connected(); }, 3s);
    }
    /// Accepts the client, checks its CONNECT carries `token`, and accepts it.
    void accept_with(const std::string& token) {
        ASSERT_TRUE(broker_.accept_client());
        const ConnectAuth auth = connect_auth(broker_.connect_packet());
        EXPECT_EQ(auth.properties.method, "K8S-SAT");
        EXPECT_EQ(auth.properties.data, token);
        broker_.send(connack_k8s_sat());
        ASSERT_TRUE(connected());
    }

    ScriptedBroker broker_;
    RecordingHandler handler_;
    std::atomic<std::uint64_t> disconnects_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    std::unique_ptr<MqttConnection> connection_;
};

const std::string first_token = test::fake_service_account_jwt(test::unix_seconds(1h));
const std::string second_token = test::fake_service_account_jwt(test::unix_seconds(2h));

TEST_F(K8sSatTest, ConnectCarriesTheMethodAndTheTokenAndNoUsername) {
    test::ProjectedToken token(first_token + "\n");
    start(config(token));
    ASSERT_TRUE(broker_.accept_client());
    const ConnectAuth auth = connect_auth(broker_.connect_packet());
    EXPECT_FALSE(auth.username);
    EXPECT_FALSE(auth.password);
    EXPECT_EQ(auth.properties.method, "K8S-SAT");
    EXPECT_EQ(auth.properties.data, first_token) << "the raw token, without its newline";
    broker_.send(connack_k8s_sat());
    EXPECT_TRUE(connected());
}

TEST_F(K8sSatTest, ContinueAuthenticationDuringConnectIsAnsweredWithTheToken) {
    test::ProjectedToken token(first_token);
    start(config(token));
    ASSERT_TRUE(broker_.accept_client());
    broker_.send(broker_auth(0x18));
    const auto answer = next_auth(broker_, 3s);
    ASSERT_TRUE(answer.has_value()) << "no AUTH answering the broker's continue";
    EXPECT_EQ(answer->reason, 0x18);
    EXPECT_EQ(answer->properties.method, "K8S-SAT");
    EXPECT_EQ(answer->properties.data, first_token);
    broker_.send(connack_k8s_sat());
    EXPECT_TRUE(connected());
    EXPECT_EQ(connection_->reauthentications(), 0u) << "the connect is not a re-authentication";
}

TEST_F(K8sSatTest, ARotatedTokenReauthenticatesTheLiveConnection) {
    test::ProjectedToken token(first_token);
    start(config(token));
    accept_with(first_token);
    token.rotate(second_token);
    const auto reauth = next_auth(broker_, 5s);
    ASSERT_TRUE(reauth.has_value()) << "no AUTH after the token file was rotated";
    EXPECT_EQ(reauth->reason, 0x19);
    EXPECT_EQ(reauth->properties.method, "K8S-SAT");
    EXPECT_EQ(reauth->properties.data, second_token);
    broker_.send(broker_auth(0x00));
    EXPECT_TRUE(test::eventually([&] { return connection_->reauthentications() == 1; }, 3s));
    EXPECT_TRUE(connection_->connected());
    EXPECT_EQ(connection_->reauthentication_failures(), 0u);
    EXPECT_EQ(disconnects_.load(), 0u);
    EXPECT_EQ(reconnects_.load(), 0u);
    EXPECT_EQ(handler_.connects.load(), 1);
    // The same connection goes on: nothing else arrives, in particular no second AUTH.
    EXPECT_FALSE(broker_.read_packet(1200ms).has_value());
}

TEST_F(K8sSatTest, ARefusedReauthenticationReconnectsWithTheNewToken) {
    test::ProjectedToken token(first_token);
    start(config(token));
    accept_with(first_token);
    token.rotate(second_token);
    const auto reauth = next_auth(broker_, 5s);
    ASSERT_TRUE(reauth.has_value());
    EXPECT_EQ(reauth->properties.data, second_token);
    broker_.send(bytes({0xE0, 2, 0x87, 0}));  // DISCONNECT: not authorized
    ASSERT_TRUE(broker_.accept_client()) << "no reconnect after the refusal";
    const ConnectAuth again = connect_auth(broker_.connect_packet());
    EXPECT_EQ(again.properties.method, "K8S-SAT");
    EXPECT_EQ(again.properties.data, second_token);
    broker_.send(connack_k8s_sat());
    ASSERT_TRUE(connected());
    EXPECT_EQ(connection_->reauthentication_failures(), 1u);
    EXPECT_EQ(connection_->reauthentications(), 0u);
    EXPECT_EQ(disconnects_.load(), 1u);
    EXPECT_EQ(connection_->protocol_errors(), 0u);
}

TEST_F(K8sSatTest, ATokenNearItsExpiryReauthenticatesWithoutANewFile) {
    // No iat: renewal a minute before exp, which is a second from now.
    const std::string expiring = test::fake_service_account_jwt(test::unix_seconds(61s));
    test::ProjectedToken token(expiring);
    start(config(token));
    accept_with(expiring);
    const auto reauth = next_auth(broker_, 4s);
    ASSERT_TRUE(reauth.has_value()) << "no AUTH as the token neared its expiry";
    EXPECT_EQ(reauth->reason, 0x19);
    EXPECT_EQ(reauth->properties.data, expiring) << "the file still holds the same token";
    broker_.send(broker_auth(0x00));
    EXPECT_TRUE(test::eventually([&] { return connection_->reauthentications() == 1; }, 3s));
    // Once per token: the same token is not sent again and again.
    EXPECT_FALSE(broker_.read_packet(1200ms).has_value());
    EXPECT_EQ(disconnects_.load(), 0u);
}

// The file is read again at every connect, not only watched while connected.
TEST_F(K8sSatTest, ATokenRotatedWhileDisconnectedIsUsedByTheReconnect) {
    test::ProjectedToken token(first_token);
    start(config(token));
    accept_with(first_token);
    token.rotate(second_token);
    broker_.drop();
    ASSERT_TRUE(broker_.accept_client()) << "no reconnect";
    EXPECT_EQ(connect_auth(broker_.connect_packet()).properties.data, second_token);
}

TEST_F(K8sSatTest, AnUnansweredReauthenticationLosesTheConnection) {
    test::ProjectedToken token(first_token);
    auto c = config(token);
    c.connect_timeout = 1;
    start(c);
    accept_with(first_token);
    token.rotate(second_token);
    const auto reauth = next_auth(broker_, 5s);
    ASSERT_TRUE(reauth.has_value());
    // No answer: after connect_timeout the client gives the connection up and comes back.
    ASSERT_TRUE(broker_.accept_client(4s)) << "the unanswered connection was not given up";
    EXPECT_EQ(connect_auth(broker_.connect_packet()).properties.data, second_token);
    EXPECT_EQ(connection_->reauthentication_failures(), 1u);
    EXPECT_EQ(disconnects_.load(), 1u);
}

TEST_F(K8sSatTest, AnAuthSuccessNobodyAskedForIsAProtocolError) {
    test::ProjectedToken token(first_token);
    start(config(token));
    accept_with(first_token);
    broker_.send(broker_auth(0x00));
    const auto disconnect = broker_.read_packet();
    ASSERT_TRUE(disconnect.has_value());
    EXPECT_EQ(disconnect->header, 0xE0);
    ASSERT_FALSE(disconnect->body.empty());
    EXPECT_EQ(static_cast<std::uint8_t>(disconnect->body[0]), mqtt::reason::protocol_error);
    ASSERT_TRUE(broker_.accept_client()) << "no reconnect";
}

TEST_F(K8sSatTest, AMissingTokenFileFailsTheAttemptUntilItAppears) {
    test::ProjectedToken token(first_token);
    auto c = config(token);
    const std::string missing = (token.dir() / "not-yet").string();
    c.auth.token_file = missing;
    c.reconnect_initial_ms = 50;
    c.reconnect_max_ms = 50;
    start(c);
    EXPECT_TRUE(test::eventually(
        [&] { return connection_->last_error().find(missing) != std::string::npos; }, 3s));
    EXPECT_THAT(connection_->last_error(),
                HasSubstr("the service account token file '" + missing + "' does not exist"));
    std::filesystem::create_symlink(token.path(), missing);
    // Attempts before the file appeared open the socket and close it without a CONNECT.
    const auto until = std::chrono::steady_clock::now() + 3s;
    bool connected_with_token = false;
    while (!connected_with_token && std::chrono::steady_clock::now() < until) {
        connected_with_token = broker_.accept_client(500ms);
    }
    ASSERT_TRUE(connected_with_token);
    EXPECT_EQ(connect_auth(broker_.connect_packet()).properties.data, first_token);
}

// Without `auth` nothing changes: an AUTH from the broker is a protocol error.
TEST_F(K8sSatTest, WithoutAuthAnAuthFromTheBrokerIsAProtocolError) {
    test::ProjectedToken token(first_token);
    auto c = config(token);
    c.auth = {};
    start(c);
    ASSERT_TRUE(broker_.accept_client());
    const ConnectAuth auth = connect_auth(broker_.connect_packet());
    EXPECT_FALSE(auth.properties.method.has_value());
    EXPECT_FALSE(auth.properties.data.has_value());
    broker_.send(bytes({0x20, 3, 0, 0, 0}));
    ASSERT_TRUE(connected());
    broker_.send(broker_auth(0x18));
    const auto disconnect = broker_.read_packet();
    ASSERT_TRUE(disconnect.has_value());
    EXPECT_EQ(disconnect->header, 0xE0);
    ASSERT_FALSE(disconnect->body.empty());
    EXPECT_EQ(static_cast<std::uint8_t>(disconnect->body[0]), mqtt::reason::protocol_error);
    EXPECT_EQ(connection_->reauthentications(), 0u);
}

}  // namespace
}  // namespace edgeflow
