// The codec on well-formed packets: every encoder against bytes written from the MQTT 3.1.1 and
// 5.0 layouts, every received packet type decoded in both versions, each property, and
// PUBLISH round trips through encoder and decoder. codec_allocations.cpp counts operator new, to
// show that a warm decoder and encoder do not allocate.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "io/mqtt/codec/codec.h"
#include "tests/unit/io/mqtt/codec_bytes.h"

namespace edgeflow::mqtt {
namespace {

using namespace testing;

std::string bytes_of(const WriteBuffer& out) {
    return std::string(out.pending());
}

/// Decodes exactly one packet that takes all of `bytes`.
Packet decode_one(Decoder& decoder, std::string_view bytes) {
    Packet packet;
    DecodeError error;
    const DecodeStatus status = decoder.next(bytes, packet, error);
    EXPECT_EQ(status, DecodeStatus::packet) << error.what;
    EXPECT_EQ(packet.size, bytes.size());
    return packet;
}

/// The same for bytes built in the call: they are kept until the test ends, since the packet's
/// views point into them.
Packet decode_one(Decoder& decoder, std::string&& bytes) {
    static std::deque<std::string> kept;
    kept.push_back(std::move(bytes));
    return decode_one(decoder, std::string_view(kept.back()));
}

// ---- Encoder ------------------------------------------------------------------------------

TEST(MqttEncoder, PutVarintUsesTheShortestForm) {
    const std::vector<std::pair<std::uint32_t, std::string>> cases = {
        {0, raw({0x00})},
        {127, raw({0x7F})},
        {128, raw({0x80, 0x01})},
        {16'383, raw({0xFF, 0x7F})},
        {16'384, raw({0x80, 0x80, 0x01})},
        {2'097'151, raw({0xFF, 0xFF, 0x7F})},
        {2'097'152, raw({0x80, 0x80, 0x80, 0x01})},
        {max_remaining_length, raw({0xFF, 0xFF, 0xFF, 0x7F})},
    };
    for (const auto& [value, expected] : cases) {
        WriteBuffer out;
        out.put_varint(value);
        EXPECT_EQ(bytes_of(out), expected) << value;
    }
}

TEST(MqttEncoder, PutIntegersAreBigEndianAndStringsLengthPrefixed) {
    WriteBuffer out;
    out.put_u16(0x1234);
    out.put_u32(0xA1B2C3D4);
    out.put_string("hi");
    out.put_string("");
    EXPECT_EQ(bytes_of(out), raw({0x12, 0x34, 0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 'h', 'i', 0, 0}));
}

TEST(MqttEncoder, PingreqIsTwoBytes) {
    WriteBuffer out;
    encode_pingreq(out);
    EXPECT_EQ(bytes_of(out), raw({0xC0, 0x00}));
}

TEST(MqttEncoder, Connect311Minimal) {
    WriteBuffer out;
    ConnectOptions c;
    c.version = Version::v311;
    c.client_id = "id";
    c.keep_alive = 60;
    encode_connect(out, c);
    EXPECT_EQ(bytes_of(out),
              raw({0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'i', 'd'}));
}

TEST(MqttEncoder, Connect311WillUsernamePasswordNoCleanSession) {
    WriteBuffer out;
    ConnectOptions c;
    c.version = Version::v311;
    c.client_id = "c";
    c.clean_start = false;
    c.keep_alive = 10;
    c.username = "u";
    c.password = "pw";
    c.will_topic = "w/t";
    c.will_payload = "bye";
    c.will_qos = 1;
    c.will_retain = true;
    encode_connect(out, c);
    // flags: username 0x80 | password 0x40 | will retain 0x20 | will QoS 1 0x08 | will 0x04
    const std::string body = raw({0, 4, 'M', 'Q', 'T', 'T', 4, 0xEC, 0, 10}) + str("c") +
                             str("w/t") + str("bye") + str("u") + str("pw");
    EXPECT_EQ(bytes_of(out), packet(0x10, body));
}

TEST(MqttEncoder, Connect5MinimalHasAnEmptyPropertyBlock) {
    WriteBuffer out;
    ConnectOptions c;
    c.client_id = "id";
    c.keep_alive = 60;
    encode_connect(out, c);
    EXPECT_EQ(bytes_of(out),
              raw({0x10, 15, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0, 0, 2, 'i', 'd'}));
}

TEST(MqttEncoder, Connect5EveryProperty) {
    WriteBuffer out;
    const std::array<UserPropertyView, 2> user = {UserPropertyView{"a", "1"},
                                                  UserPropertyView{"b", "2"}};
    ConnectOptions c;
    c.client_id = "dev";
    c.keep_alive = 30;
    c.session_expiry = 3600;
    c.receive_maximum = 100;
    c.maximum_packet_size = 65536;
    c.topic_alias_maximum = 10;
    c.request_problem_information = false;
    c.authentication_method = "SCRAM";
    c.authentication_data = "xyz";
    c.user_properties = user;
    encode_connect(out, c);
    const std::string properties = prop_u32(0x11, 3600) + prop_u16(0x21, 100) +
                                   prop_u32(0x27, 65536) + prop_u16(0x22, 10) + prop_u8(0x17, 0) +
                                   user_prop("a", "1") + user_prop("b", "2") +
                                   prop_str(0x15, "SCRAM") + prop_str(0x16, "xyz");
    const std::string body =
        raw({0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 30}) + props(properties) + str("dev");
    EXPECT_EQ(bytes_of(out), packet(0x10, body));
}

TEST(MqttEncoder, Connect5WillHasEmptyWillPropertiesAndPasswordMayComeAlone) {
    WriteBuffer out;
    ConnectOptions c;
    c.client_id = "c";
    c.password = "secret";
    c.will_topic = "gone";
    c.will_payload = "x";
    encode_connect(out, c);
    // flags: password 0x40 | will 0x04 | clean start 0x02; no username.
    const std::string body = raw({0, 4, 'M', 'Q', 'T', 'T', 5, 0x46, 0, 30}) + props("") +
                             str("c") + props("") + str("gone") + str("x") + str("secret");
    EXPECT_EQ(bytes_of(out), packet(0x10, body));
}

TEST(MqttEncoder, Publish311Qos0) {
    WriteBuffer out;
    PublishOptions p;
    p.topic = "a/b";
    p.payload = "hello";
    encode_publish(out, Version::v311, p);
    EXPECT_EQ(bytes_of(out), raw({0x30, 10, 0, 3, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'}));
    EXPECT_EQ(publish_size(Version::v311, p), out.size());
}

TEST(MqttEncoder, Publish311Qos1RetainDup) {
    WriteBuffer out;
    PublishOptions p;
    p.topic = "t";
    p.payload = "x";
    p.qos = 1;
    p.retain = true;
    p.dup = true;
    p.packet_id = 0x0102;
    encode_publish(out, Version::v311, p);
    EXPECT_EQ(bytes_of(out), raw({0x3B, 6, 0, 1, 't', 1, 2, 'x'}));
    EXPECT_EQ(publish_size(Version::v311, p), out.size());
}

TEST(MqttEncoder, Publish5WithoutPropertiesHasPropertyLengthZero) {
    WriteBuffer out;
    PublishOptions p;
    p.topic = "t";
    p.payload = "x";
    encode_publish(out, Version::v5, p);
    EXPECT_EQ(bytes_of(out), raw({0x30, 5, 0, 1, 't', 0, 'x'}));
    EXPECT_EQ(publish_size(Version::v5, p), out.size());
}

TEST(MqttEncoder, Publish5EveryProperty) {
    WriteBuffer out;
    const std::array<UserPropertyView, 2> user = {UserPropertyView{"k", "v"},
                                                  UserPropertyView{"k", "w"}};
    PublishOptions p;
    p.topic = "t/1";
    p.payload = "{}";
    p.qos = 1;
    p.packet_id = 7;
    p.topic_alias = 3;
    p.payload_format = 1;
    p.message_expiry = 60;
    p.content_type = "application/json";
    p.response_topic = "reply/1";
    p.correlation_data = "cd";
    p.user_properties = user;
    encode_publish(out, Version::v5, p);
    const std::string properties = prop_u8(0x01, 1) + prop_u32(0x02, 60) + prop_u16(0x23, 3) +
                                   prop_str(0x08, "reply/1") + prop_str(0x09, "cd") +
                                   prop_str(0x03, "application/json") + user_prop("k", "v") +
                                   user_prop("k", "w");
    EXPECT_EQ(bytes_of(out), packet(0x32, str("t/1") + u16(7) + props(properties) + "{}"));
    EXPECT_EQ(publish_size(Version::v5, p), out.size());
}

TEST(MqttEncoder, PublishSizeMatchesAcrossRemainingLengthBoundaries) {
    for (std::size_t payload_size :
         {0u, 100u, 120u, 121u, 122u, 127u, 16'370u, 16'400u, 2'097'200u}) {
        const std::string payload(payload_size, 'p');
        for (Version version : {Version::v311, Version::v5}) {
            PublishOptions p;
            p.topic = "abc";
            p.payload = payload;
            WriteBuffer out;
            encode_publish(out, version, p);
            EXPECT_EQ(publish_size(version, p), out.size()) << payload_size;
        }
    }
}

TEST(MqttEncoder, Puback) {
    WriteBuffer out;
    encode_puback(out, Version::v311, 0x1234);
    EXPECT_EQ(bytes_of(out), raw({0x40, 2, 0x12, 0x34}));
    out.clear();
    encode_puback(out, Version::v5, 0x1234);
    EXPECT_EQ(bytes_of(out), raw({0x40, 2, 0x12, 0x34}));
    out.clear();
    encode_puback(out, Version::v5, 9, reason::quota_exceeded);
    EXPECT_EQ(bytes_of(out), raw({0x40, 3, 0, 9, 0x97}));
    out.clear();
    // 3.1.1 has no reason code: the two-byte form whatever the caller asks.
    encode_puback(out, Version::v311, 9, reason::quota_exceeded);
    EXPECT_EQ(bytes_of(out), raw({0x40, 2, 0, 9}));
}

TEST(MqttEncoder, Subscribe5OptionsAndIdentifier) {
    WriteBuffer out;
    const std::array<Subscription, 2> subs = {
        Subscription{"a/+", 1, true, true, 2},
        Subscription{"$share/g/b/#", 0, false, false, 1},
    };
    encode_subscribe(out, Version::v5, 10, subs, 200);
    const std::string body = u16(10) + props(raw({0x0B}) + varint(200)) + str("a/+") +
                             raw({0x01 | 0x04 | 0x08 | 0x20}) + str("$share/g/b/#") + raw({0x10});
    EXPECT_EQ(bytes_of(out), packet(0x82, body));
}

TEST(MqttEncoder, Subscribe5WithoutIdentifierAnd311QosOnly) {
    WriteBuffer out;
    const std::array<Subscription, 1> subs = {Subscription{"x", 2, true, true, 2}};
    encode_subscribe(out, Version::v5, 1, subs);
    EXPECT_EQ(bytes_of(out), packet(0x82, u16(1) + props("") + str("x") + raw({0x2E})));
    out.clear();
    encode_subscribe(out, Version::v311, 1, subs, 200);
    EXPECT_EQ(bytes_of(out), packet(0x82, u16(1) + str("x") + raw({0x02})));
}

TEST(MqttEncoder, Unsubscribe) {
    WriteBuffer out;
    const std::array<std::string_view, 2> filters = {"a/#", "b"};
    encode_unsubscribe(out, Version::v5, 5, filters);
    EXPECT_EQ(bytes_of(out), packet(0xA2, u16(5) + props("") + str("a/#") + str("b")));
    out.clear();
    encode_unsubscribe(out, Version::v311, 5, filters);
    EXPECT_EQ(bytes_of(out), packet(0xA2, u16(5) + str("a/#") + str("b")));
}

TEST(MqttEncoder, Disconnect) {
    WriteBuffer out;
    encode_disconnect(out, Version::v311, reason::unspecified_error, 10, "why");
    EXPECT_EQ(bytes_of(out), raw({0xE0, 0}));
    out.clear();
    encode_disconnect(out, Version::v5);
    EXPECT_EQ(bytes_of(out), raw({0xE0, 0}));
    out.clear();
    encode_disconnect(out, Version::v5, reason::disconnect_with_will);
    EXPECT_EQ(bytes_of(out), raw({0xE0, 2, 0x04, 0}));
    out.clear();
    encode_disconnect(out, Version::v5, reason::malformed_packet, 0, "bad");
    EXPECT_EQ(bytes_of(out),
              packet(0xE0, raw({0x81}) + props(prop_u32(0x11, 0) + prop_str(0x1F, "bad"))));
    out.clear();
    // Success with a session expiry still needs the long form.
    encode_disconnect(out, Version::v5, reason::success, 30);
    EXPECT_EQ(bytes_of(out), packet(0xE0, raw({0x00}) + props(prop_u32(0x11, 30))));
}

TEST(MqttEncoder, Auth) {
    WriteBuffer out;
    encode_auth(out, reason::success, "", "");
    EXPECT_EQ(bytes_of(out), raw({0xF0, 0}));
    out.clear();
    encode_auth(out, reason::continue_authentication, "SCRAM", "abc");
    EXPECT_EQ(bytes_of(out),
              packet(0xF0, raw({0x18}) + props(prop_str(0x15, "SCRAM") + prop_str(0x16, "abc"))));
    out.clear();
    encode_auth(out, reason::reauthenticate, "M", "");
    EXPECT_EQ(bytes_of(out), packet(0xF0, raw({0x19}) + props(prop_str(0x15, "M"))));
}

TEST(MqttWriteBuffer, ConsumeDropsFromTheFrontAndResetsWhenEmpty) {
    WriteBuffer out;
    out.append("abcdef");
    out.consume(2);
    EXPECT_EQ(out.pending(), "cdef");
    out.consume(100);  // more than pending: everything
    EXPECT_TRUE(out.empty());
    out.append("xy");
    EXPECT_EQ(out.pending(), "xy");
}

TEST(MqttWriteBuffer, PartialConsumesKeepTheBufferBounded) {
    WriteBuffer out;
    const std::string chunk(1000, 'c');
    out.append(chunk);
    // The transport always leaves some bytes behind: without compaction the buffer would grow
    // by 1000 bytes per round and reallocate again and again.
    auto round = [&] {
        out.append(chunk);
        out.consume(1000);
    };
    for (int i = 0; i < 100; ++i) {
        round();
    }
    const std::size_t before = allocation_count();
    for (int i = 0; i < 10'000; ++i) {
        round();
    }
    EXPECT_EQ(allocation_count(), before);
    EXPECT_EQ(out.size(), 1000u);
    EXPECT_EQ(out.pending(), chunk);
}

// ---- Decoder ------------------------------------------------------------------------------

TEST(MqttDecoder, Connack311) {
    Decoder decoder(Version::v311);
    Packet p = decode_one(decoder, raw({0x20, 2, 0x01, 0x00}));
    EXPECT_EQ(p.type, PacketType::connack);
    EXPECT_TRUE(p.connack.session_present);
    EXPECT_EQ(p.connack.reason, 0);
    p = decode_one(decoder, raw({0x20, 2, 0x00, 0x04}));
    EXPECT_FALSE(p.connack.session_present);
    EXPECT_EQ(p.connack.reason, 4);
    EXPECT_EQ(connack_311_text(p.connack.reason), "bad user name or password");
}

TEST(MqttDecoder, Connack5Defaults) {
    Decoder decoder;
    const Packet p = decode_one(decoder, raw({0x20, 3, 0x00, 0x00, 0x00}));
    EXPECT_EQ(p.connack.receive_maximum, 65535);
    EXPECT_EQ(p.connack.maximum_qos, 2);
    EXPECT_TRUE(p.connack.retain_available);
    EXPECT_EQ(p.connack.maximum_packet_size, 0u);
    EXPECT_FALSE(p.connack.session_expiry);
    EXPECT_FALSE(p.connack.server_keep_alive);
    EXPECT_TRUE(p.connack.wildcard_subscription_available);
    EXPECT_TRUE(p.connack.subscription_identifiers_available);
    EXPECT_TRUE(p.connack.shared_subscription_available);
    EXPECT_TRUE(p.connack.user_properties.empty());
}

TEST(MqttDecoder, Connack5EveryProperty) {
    const std::string properties =
        prop_u32(0x11, 120) + prop_u16(0x21, 20) + prop_u8(0x24, 1) + prop_u8(0x25, 0) +
        prop_u32(0x27, 4096) + prop_str(0x12, "auto-1") + prop_u16(0x22, 8) +
        prop_str(0x1F, "welcome") + user_prop("region", "eu") + prop_u8(0x28, 0) +
        prop_u8(0x29, 0) + prop_u8(0x2A, 0) + prop_u16(0x13, 45) + prop_str(0x1A, "resp") +
        prop_str(0x1C, "other:1883") + prop_str(0x15, "SCRAM") + prop_str(0x16, "data") +
        user_prop("second", "x");
    Decoder decoder;
    const std::string bytes = packet(0x20, raw({0x01, 0x00}) + props(properties));
    const Packet p = decode_one(decoder, bytes);
    const ConnackView& c = p.connack;
    EXPECT_TRUE(c.session_present);
    EXPECT_EQ(c.session_expiry, 120u);
    EXPECT_EQ(c.receive_maximum, 20);
    EXPECT_EQ(c.maximum_qos, 1);
    EXPECT_FALSE(c.retain_available);
    EXPECT_EQ(c.maximum_packet_size, 4096u);
    EXPECT_EQ(c.assigned_client_id, "auto-1");
    EXPECT_EQ(c.topic_alias_maximum, 8);
    EXPECT_EQ(c.reason_string, "welcome");
    EXPECT_FALSE(c.wildcard_subscription_available);
    EXPECT_FALSE(c.subscription_identifiers_available);
    EXPECT_FALSE(c.shared_subscription_available);
    EXPECT_EQ(c.server_keep_alive, 45);
    EXPECT_EQ(c.response_information, "resp");
    EXPECT_EQ(c.server_reference, "other:1883");
    EXPECT_EQ(c.authentication_method, "SCRAM");
    EXPECT_EQ(c.authentication_data, "data");
    std::vector<std::pair<std::string, std::string>> seen;
    for_each_user_property(c.user_properties, [&](UserPropertyView u) {
        seen.emplace_back(std::string(u.key), std::string(u.value));
    });
    const std::vector<std::pair<std::string, std::string>> expected = {{"region", "eu"},
                                                                       {"second", "x"}};
    EXPECT_EQ(seen, expected);
}

TEST(MqttDecoder, Connack5Refusal) {
    Decoder decoder;
    const Packet p = decode_one(decoder, packet(0x20, raw({0x00, 0x87}) + props("")));
    EXPECT_EQ(p.connack.reason, reason::not_authorized);
    EXPECT_EQ(reason_text(p.connack.reason), "not authorized");
}

TEST(MqttDecoder, Publish311Qos0And1) {
    Decoder decoder(Version::v311);
    const std::string qos0 = packet(0x31, str("a/b") + "payload");
    Packet p = decode_one(decoder, qos0);
    EXPECT_EQ(p.type, PacketType::publish);
    EXPECT_EQ(p.publish.topic, "a/b");
    EXPECT_EQ(p.publish.payload, "payload");
    EXPECT_EQ(p.publish.qos, 0);
    EXPECT_TRUE(p.publish.retain);
    EXPECT_FALSE(p.publish.dup);
    EXPECT_EQ(p.publish.packet_id, 0);
    // Zero copy: views into the input.
    EXPECT_EQ(p.publish.topic.data(), qos0.data() + 4);
    EXPECT_EQ(p.publish.payload.data(), qos0.data() + 7);

    p = decode_one(decoder, packet(0x3A, str("t") + u16(513) + ""));
    EXPECT_EQ(p.publish.qos, 1);
    EXPECT_TRUE(p.publish.dup);
    EXPECT_FALSE(p.publish.retain);
    EXPECT_EQ(p.publish.packet_id, 513);
    EXPECT_TRUE(p.publish.payload.empty());
}

TEST(MqttDecoder, Publish311DoesNotReadPropertiesOutOfThePayload) {
    // 0x00 right after the topic is payload on 3.1.1, a property length on 5.
    Decoder decoder(Version::v311);
    const Packet p = decode_one(decoder, packet(0x30, str("t") + raw({0x00, 'x'})));
    EXPECT_EQ(p.publish.payload, raw({0x00, 'x'}));
}

TEST(MqttDecoder, PublishTopicInAnyWellFormedUtf8) {
    // Two-, three- and four-byte sequences, the highest code point, and a long ASCII run.
    const std::string topic =
        "plant/temp\xC3\xA9rature/\xE2\x88\x91/\xF0\x9F\x98\x80/"
        "\xF4\x8F\xBF\xBF/abcdefghijklmnopqrstuvwxyz";
    Decoder decoder;
    const Packet p = decode_one(decoder, packet(0x30, str(topic) + props("") + "x"));
    EXPECT_EQ(p.publish.topic, topic);
}

TEST(MqttDecoder, PublishQos2IsDecoded) {
    Decoder decoder;
    const Packet p = decode_one(decoder, packet(0x34, str("t") + u16(9) + props("") + "x"));
    EXPECT_EQ(p.publish.qos, 2);
    EXPECT_EQ(p.publish.packet_id, 9);
}

TEST(MqttDecoder, Publish5EveryProperty) {
    const std::string properties =
        prop_u8(0x01, 1) + prop_u32(0x02, 90) + prop_str(0x08, "reply/here") +
        prop_str(0x09, raw({0x00, 0xFF})) + user_prop("a", "1") + raw({0x0B}) + varint(300) +
        raw({0x0B}) + varint(5) + prop_str(0x03, "text/plain") + user_prop("b", "2");
    Decoder decoder;
    const Packet p =
        decode_one(decoder, packet(0x32, str("s/1") + u16(77) + props(properties) + "body"));
    const PublishView& pub = p.publish;
    EXPECT_EQ(pub.topic, "s/1");
    EXPECT_EQ(pub.packet_id, 77);
    EXPECT_EQ(pub.payload_format, 1);
    EXPECT_EQ(pub.message_expiry, 90u);
    EXPECT_EQ(pub.response_topic, "reply/here");
    EXPECT_EQ(pub.correlation_data, raw({0x00, 0xFF}));
    EXPECT_EQ(pub.content_type, "text/plain");
    EXPECT_EQ(pub.subscription_identifier, 300u);
    EXPECT_EQ(pub.topic_alias, 0);
    EXPECT_EQ(pub.payload, "body");
    int count = 0;
    std::string keys;
    for_each_user_property(pub.user_properties, [&](UserPropertyView u) {
        ++count;
        keys += std::string(u.key) + "=" + std::string(u.value) + ";";
    });
    EXPECT_EQ(count, 2);
    EXPECT_EQ(keys, "a=1;b=2;");
}

TEST(MqttDecoder, Publish5WithoutOptionalPropertiesLeavesThemAbsent) {
    Decoder decoder;
    const Packet p = decode_one(decoder, packet(0x30, str("t") + props("") + "x"));
    EXPECT_FALSE(p.publish.payload_format);
    EXPECT_FALSE(p.publish.message_expiry);
    EXPECT_TRUE(p.publish.content_type.empty());
    EXPECT_TRUE(p.publish.user_properties.empty());
    EXPECT_EQ(p.publish.subscription_identifier, 0u);
}

TEST(MqttDecoder, PublishRoundTripsThroughTheEncoder) {
    const std::array<UserPropertyView, 2> user = {UserPropertyView{"source", "plc-7"},
                                                  UserPropertyView{"unit", "C"}};
    PublishOptions in;
    in.topic = "plant/line1/telemetry";
    in.payload = R"({"deviceId":"d1","temperature":21.5})";
    in.qos = 1;
    in.retain = true;
    in.packet_id = 4242;
    in.payload_format = 1;
    in.message_expiry = 10;
    in.content_type = "application/json";
    in.response_topic = "r";
    in.correlation_data = "c";
    in.user_properties = user;
    for (Version version : {Version::v311, Version::v5}) {
        WriteBuffer out;
        encode_publish(out, version, in);
        Decoder decoder(version);
        const Packet p = decode_one(decoder, out.pending());
        EXPECT_EQ(p.publish.topic, in.topic);
        EXPECT_EQ(p.publish.payload, in.payload);
        EXPECT_EQ(p.publish.qos, 1);
        EXPECT_TRUE(p.publish.retain);
        EXPECT_EQ(p.publish.packet_id, 4242);
        if (version == Version::v5) {
            EXPECT_EQ(p.publish.payload_format, 1);
            EXPECT_EQ(p.publish.message_expiry, 10u);
            EXPECT_EQ(p.publish.content_type, "application/json");
            EXPECT_EQ(p.publish.response_topic, "r");
            EXPECT_EQ(p.publish.correlation_data, "c");
            std::vector<std::string> got;
            for_each_user_property(p.publish.user_properties, [&](UserPropertyView u) {
                got.push_back(std::string(u.key) + ":" + std::string(u.value));
            });
            EXPECT_EQ(got, (std::vector<std::string>{"source:plc-7", "unit:C"}));
        } else {
            EXPECT_FALSE(p.publish.payload_format);
        }
    }
}

TEST(MqttDecoder, PublishTopicAliasSetThenUsed) {
    Decoder decoder;
    decoder.aliases().reset(4);
    const std::string first = packet(0x30, str("long/topic/name") + props(prop_u16(0x23, 2)) + "1");
    Packet p = decode_one(decoder, first);
    EXPECT_EQ(p.publish.topic, "long/topic/name");
    EXPECT_EQ(p.publish.topic_alias, 2);
    EXPECT_EQ(p.publish.topic.data(), first.data() + 4);  // the input's bytes, not the table's

    std::string second = packet(0x30, str("") + props(prop_u16(0x23, 2)) + "2");
    p = decode_one(decoder, second);
    EXPECT_EQ(p.publish.topic, "long/topic/name");
    EXPECT_EQ(p.publish.payload, "2");
    // Resolved from the table: still valid once the input is overwritten.
    second.assign(second.size(), 'z');
    EXPECT_EQ(p.publish.topic, "long/topic/name");

    p = decode_one(decoder, packet(0x30, str("other") + props(prop_u16(0x23, 2)) + "3"));
    p = decode_one(decoder, packet(0x30, str("") + props(prop_u16(0x23, 2)) + "4"));
    EXPECT_EQ(p.publish.topic, "other");
}

TEST(MqttDecoder, Puback311And5) {
    Decoder v311(Version::v311);
    EXPECT_EQ(decode_one(v311, raw({0x40, 2, 0, 5})).ack.packet_id, 5);

    Decoder v5;
    Packet p = decode_one(v5, raw({0x40, 2, 0, 6}));
    EXPECT_EQ(p.type, PacketType::puback);
    EXPECT_EQ(p.ack.packet_id, 6);
    EXPECT_EQ(p.ack.reason, 0);
    p = decode_one(v5, raw({0x40, 3, 0, 7, 0x10}));
    EXPECT_EQ(p.ack.reason, reason::no_matching_subscribers);
    p = decode_one(v5, packet(0x40, u16(8) + raw({0x97}) +
                                        props(prop_str(0x1F, "slow down") + user_prop("k", "v"))));
    EXPECT_EQ(p.ack.packet_id, 8);
    EXPECT_EQ(p.ack.reason, reason::quota_exceeded);
    EXPECT_EQ(p.ack.reason_string, "slow down");
    int users = 0;
    for_each_user_property(p.ack.user_properties, [&](UserPropertyView u) {
        EXPECT_EQ(u.key, "k");
        ++users;
    });
    EXPECT_EQ(users, 1);
}

TEST(MqttDecoder, Suback311And5) {
    Decoder v311(Version::v311);
    Packet p = decode_one(v311, raw({0x90, 4, 0, 3, 0x01, 0x80}));
    EXPECT_EQ(p.type, PacketType::suback);
    EXPECT_EQ(p.suback.packet_id, 3);
    EXPECT_EQ(p.suback.reason_codes, raw({0x01, 0x80}));

    Decoder v5;
    p = decode_one(
        v5, packet(0x90, u16(4) + props(prop_str(0x1F, "partial")) + raw({0x00, 0x02, 0xA2})));
    EXPECT_EQ(p.suback.packet_id, 4);
    EXPECT_EQ(p.suback.reason_string, "partial");
    EXPECT_EQ(p.suback.reason_codes, raw({0x00, 0x02, 0xA2}));
}

TEST(MqttDecoder, Unsuback311And5) {
    Decoder v311(Version::v311);
    Packet p = decode_one(v311, raw({0xB0, 2, 0, 9}));
    EXPECT_EQ(p.type, PacketType::unsuback);
    EXPECT_EQ(p.suback.packet_id, 9);
    EXPECT_TRUE(p.suback.reason_codes.empty());

    Decoder v5;
    p = decode_one(v5, packet(0xB0, u16(10) + props(user_prop("a", "b")) + raw({0x00, 0x11})));
    EXPECT_EQ(p.suback.packet_id, 10);
    EXPECT_EQ(p.suback.reason_codes, raw({0x00, 0x11}));
    EXPECT_FALSE(p.suback.user_properties.empty());
}

TEST(MqttDecoder, Pingresp) {
    for (Version version : {Version::v311, Version::v5}) {
        Decoder decoder(version);
        EXPECT_EQ(decode_one(decoder, raw({0xD0, 0})).type, PacketType::pingresp);
    }
}

TEST(MqttDecoder, Disconnect) {
    Decoder v311(Version::v311);
    EXPECT_EQ(decode_one(v311, raw({0xE0, 0})).type, PacketType::disconnect);

    Decoder v5;
    Packet p = decode_one(v5, raw({0xE0, 0}));
    EXPECT_EQ(p.disconnect.reason, 0);
    p = decode_one(v5, raw({0xE0, 1, 0x8E}));
    EXPECT_EQ(p.disconnect.reason, reason::session_taken_over);
    p = decode_one(
        v5, packet(0xE0, raw({0x9C}) + props(prop_u32(0x11, 5) + prop_str(0x1F, "move") +
                                             prop_str(0x1C, "b2:1883") + user_prop("x", "y"))));
    EXPECT_EQ(p.disconnect.reason, 0x9C);
    EXPECT_EQ(p.disconnect.session_expiry, 5u);
    EXPECT_EQ(p.disconnect.reason_string, "move");
    EXPECT_EQ(p.disconnect.server_reference, "b2:1883");
    EXPECT_FALSE(p.disconnect.user_properties.empty());
}

TEST(MqttDecoder, Auth) {
    Decoder decoder;
    Packet p = decode_one(decoder, raw({0xF0, 0}));
    EXPECT_EQ(p.type, PacketType::auth);
    EXPECT_EQ(p.auth.reason, 0);
    p = decode_one(
        decoder,
        packet(0xF0, raw({0x18}) + props(prop_str(0x15, "SCRAM") + prop_str(0x16, "challenge") +
                                         prop_str(0x1F, "more") + user_prop("k", "v"))));
    EXPECT_EQ(p.auth.reason, reason::continue_authentication);
    EXPECT_EQ(p.auth.authentication_method, "SCRAM");
    EXPECT_EQ(p.auth.authentication_data, "challenge");
    EXPECT_EQ(p.auth.reason_string, "more");
    EXPECT_FALSE(p.auth.user_properties.empty());
}

TEST(MqttDecoder, SeveralPacketsInOneBuffer) {
    Decoder decoder;
    const std::string stream =
        raw({0xD0, 0}) + packet(0x30, str("t") + props("") + "abc") + raw({0x40, 2, 0, 1});
    std::string_view rest = stream;
    std::vector<PacketType> types;
    Packet p;
    DecodeError error;
    while (decoder.next(rest, p, error) == DecodeStatus::packet) {
        types.push_back(p.type);
        rest.remove_prefix(p.size);
    }
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(types, (std::vector<PacketType>{PacketType::pingresp, PacketType::publish,
                                              PacketType::puback}));
}

TEST(MqttDecoder, NeedReportsTheWholePacketOnceTheHeaderIsComplete) {
    Decoder decoder;
    const std::string big = packet(0x30, str("t") + props("") + std::string(300, 'x'));
    Packet p;
    DecodeError error;
    EXPECT_EQ(decoder.next(big.substr(0, 2), p, error), DecodeStatus::need_more);
    EXPECT_EQ(decoder.need(), 0u);  // the remaining length has a second byte
    EXPECT_EQ(decoder.next(big.substr(0, 3), p, error), DecodeStatus::need_more);
    EXPECT_EQ(decoder.need(), big.size());
    EXPECT_EQ(decoder.next(big, p, error), DecodeStatus::packet);
    EXPECT_EQ(decoder.need(), 0u);
}

TEST(MqttDecoder, WarmDecodeAndEncodeDoNotAllocate) {
    const std::array<UserPropertyView, 2> user = {UserPropertyView{"a", "1"},
                                                  UserPropertyView{"b", "2"}};
    PublishOptions in;
    in.topic = "plant/line1/telemetry";
    in.payload = std::string_view("{\"v\":1}");
    in.qos = 1;
    in.packet_id = 1;
    in.content_type = "application/json";
    in.user_properties = user;
    in.topic_alias = 1;
    WriteBuffer out;
    Decoder decoder;
    decoder.aliases().reset(1);
    Packet p;
    DecodeError error;
    std::size_t users = 0;
    auto round = [&] {
        out.clear();
        encode_publish(out, Version::v5, in);
        ASSERT_EQ(decoder.next(out.pending(), p, error), DecodeStatus::packet) << error.what;
        for_each_user_property(p.publish.user_properties, [&](UserPropertyView) { ++users; });
    };
    round();  // warm: buffer capacity and the alias slot
    const std::size_t before = allocation_count();
    for (int i = 0; i < 100; ++i) {
        round();
    }
    EXPECT_EQ(allocation_count(), before);
    EXPECT_EQ(users, 202u);
}

// ---- Topic aliases and texts --------------------------------------------------------------

TEST(MqttInboundTopicAliases, ResolveAndReset) {
    InboundTopicAliases aliases(2);
    EXPECT_EQ(aliases.maximum(), 2);
    EXPECT_FALSE(aliases.resolve(0, "t"));
    EXPECT_FALSE(aliases.resolve(3, "t"));
    EXPECT_FALSE(aliases.resolve(1, ""));  // unknown
    EXPECT_EQ(aliases.resolve(1, "a/b"), "a/b");
    EXPECT_EQ(aliases.resolve(1, ""), "a/b");
    EXPECT_EQ(aliases.resolve(2, "c"), "c");
    EXPECT_EQ(aliases.resolve(1, "d"), "d");
    EXPECT_EQ(aliases.resolve(1, ""), "d");
    aliases.reset(1);
    EXPECT_EQ(aliases.maximum(), 1);
    EXPECT_FALSE(aliases.resolve(1, ""));  // forgotten on a new connection
    EXPECT_FALSE(aliases.resolve(2, "c"));
}

TEST(MqttOutboundTopicAliases, FirstUseSendsTopicLaterOnlyTheAlias) {
    OutboundTopicAliases aliases;
    aliases.reset(2);
    auto u = aliases.use("a");
    EXPECT_EQ(u.alias, 1);
    EXPECT_TRUE(u.send_topic);
    u = aliases.use("a");
    EXPECT_EQ(u.alias, 1);
    EXPECT_FALSE(u.send_topic);
    u = aliases.use("b");
    EXPECT_EQ(u.alias, 2);
    EXPECT_TRUE(u.send_topic);
    u = aliases.use("c");  // past the maximum
    EXPECT_EQ(u.alias, 0);
    EXPECT_TRUE(u.send_topic);
    u = aliases.use("c");
    EXPECT_EQ(u.alias, 0);
    EXPECT_EQ(aliases.use("b").alias, 2);
    aliases.reset(2);
    u = aliases.use("c");
    EXPECT_EQ(u.alias, 1);
    EXPECT_TRUE(u.send_topic);
}

TEST(MqttOutboundTopicAliases, NoAliasesWithoutAMaximum) {
    OutboundTopicAliases aliases;
    aliases.reset(0);
    const auto u = aliases.use("a");
    EXPECT_EQ(u.alias, 0);
    EXPECT_TRUE(u.send_topic);
}

TEST(MqttOutboundTopicAliases, KnownTopicLookupDoesNotAllocate) {
    OutboundTopicAliases aliases;
    aliases.reset(10);
    const std::string topic(64, 't');  // longer than any small-string buffer
    (void)aliases.use(topic);
    const std::size_t before = allocation_count();
    const auto u = aliases.use(std::string_view(topic));
    EXPECT_EQ(allocation_count(), before);
    EXPECT_FALSE(u.send_topic);
}

TEST(MqttReasonText, KnownAndUnknownCodes) {
    EXPECT_EQ(reason_text(reason::success), "success");
    EXPECT_EQ(reason_text(reason::malformed_packet), "malformed packet");
    EXPECT_EQ(reason_text(reason::topic_alias_invalid), "topic alias invalid");
    EXPECT_EQ(reason_text(reason::packet_too_large), "packet too large");
    EXPECT_EQ(reason_text(0x03), "unknown reason code");
    EXPECT_EQ(reason_text(0xFF), "unknown reason code");
    EXPECT_EQ(connack_311_text(0), "connection accepted");
    EXPECT_EQ(connack_311_text(5), "not authorized");
    EXPECT_EQ(connack_311_text(6), "unknown reason code");
}

}  // namespace
}  // namespace edgeflow::mqtt
