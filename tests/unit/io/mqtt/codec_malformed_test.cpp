// The decoder on broken input: each malformed or forbidden form gives DecodeStatus::error with
// the MQTT 5 reason code the client must disconnect with, and every valid packet cut short at
// any byte gives need_more, never an error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/mqtt/codec/codec.h"
#include "tests/unit/io/mqtt/codec_bytes.h"

namespace edgeflow::mqtt {
namespace {

using namespace testing;

struct Broken {
    const char* name;
    Version version;
    std::string bytes;
    std::uint8_t reason;
};

std::string publish5(std::string_view properties, std::string_view topic = "t") {
    return packet(0x30, str(topic) + props(properties) + "x");
}

std::vector<Broken> broken_packets() {
    const auto v5 = Version::v5;
    const auto v4 = Version::v311;
    const std::uint8_t malformed = reason::malformed_packet;
    const std::uint8_t protocol = reason::protocol_error;
    return {
        // Fixed header
        {"reserved type 0", v5, raw({0x00, 0}), malformed},
        {"CONNECT", v5, raw({0x10, 0}), protocol},
        {"SUBSCRIBE", v5, raw({0x82, 0}), protocol},
        {"UNSUBSCRIBE", v4, raw({0xA2, 0}), protocol},
        {"PINGREQ", v5, raw({0xC0, 0}), protocol},
        {"PUBREC", v5, raw({0x50, 2, 0, 1}), protocol},
        {"PUBREL", v4, raw({0x62, 2, 0, 1}), protocol},
        {"PUBCOMP", v5, raw({0x70, 2, 0, 1}), protocol},
        {"AUTH on 3.1.1", v4, raw({0xF0, 0}), protocol},
        {"PUBLISH QoS 3", v5, packet(0x36, str("t") + u16(1) + props("")), malformed},
        {"PUBLISH DUP at QoS 0", v4, packet(0x38, str("t")), malformed},
        {"CONNACK flags", v5, raw({0x21, 3, 0, 0, 0}), malformed},
        {"PUBACK flags", v4, raw({0x42, 2, 0, 1}), malformed},
        {"SUBACK flags", v5, raw({0x92, 4, 0, 1, 0, 0}), malformed},
        {"UNSUBACK flags", v4, raw({0xB1, 2, 0, 1}), malformed},
        {"PINGRESP flags", v5, raw({0xD4, 0}), malformed},
        {"DISCONNECT flags", v5, raw({0xE1, 0}), malformed},
        {"AUTH flags", v5, raw({0xF8, 0}), malformed},
        {"remaining length of 5 bytes", v5, raw({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), malformed},
        {"remaining length not minimal", v5, raw({0xD0, 0x80, 0x00}), malformed},
        // Lengths inside the packet
        {"PINGRESP with a body", v5, raw({0xD0, 1, 0}), malformed},
        {"CONNACK 3.1.1 trailing", v4, raw({0x20, 3, 0, 0, 0}), malformed},
        {"CONNACK too short", v4, raw({0x20, 1, 0}), malformed},
        {"CONNACK 5 without property length", v5, raw({0x20, 2, 0, 0}), malformed},
        {"CONNACK 5 trailing after properties", v5, raw({0x20, 4, 0, 0, 0, 9}), malformed},
        {"CONNACK reserved ack flags", v4, raw({0x20, 2, 0x02, 0}), malformed},
        {"CONNACK session present with refusal", v4, raw({0x20, 2, 0x01, 0x05}), protocol},
        {"CONNACK undefined reason", v5, raw({0x20, 3, 0, 0x01, 0}), protocol},
        {"property length past packet", v5, raw({0x20, 4, 0, 0, 5, 0x24}), malformed},
        {"property value cut short", v5, packet(0x20, raw({0, 0}) + props(raw({0x11, 0, 0}))),
         malformed},
        {"property length varint malformed", v5, raw({0x20, 7, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1}),
         malformed},
        {"unknown property", v5, packet(0x20, raw({0, 0}) + props(raw({0x05, 0}))), malformed},
        {"two-byte property identifier", v5,
         packet(0x20, raw({0, 0}) + props(raw({0x81, 0x01, 0}))), malformed},
        {"property not allowed in CONNACK", v5,
         packet(0x20, raw({0, 0}) + props(prop_u16(0x23, 1))), malformed},
        {"property not allowed in PUBLISH", v5, publish5(prop_u32(0x11, 1)), malformed},
        {"property not allowed in PUBACK", v5,
         packet(0x40, u16(1) + raw({0}) + props(prop_str(0x03, "x"))), malformed},
        {"property not allowed in DISCONNECT", v5,
         packet(0xE0, raw({0}) + props(prop_str(0x15, "x"))), malformed},
        {"property not allowed in AUTH", v5, packet(0xF0, raw({0x18}) + props(prop_u8(0x24, 0))),
         malformed},
        {"property not allowed in SUBACK", v5,
         packet(0x90, u16(1) + props(prop_u8(0x01, 0)) + raw({0})), malformed},
        {"repeated receive maximum", v5,
         packet(0x20, raw({0, 0}) + props(prop_u16(0x21, 1) + prop_u16(0x21, 2))), protocol},
        {"repeated content type", v5, publish5(prop_str(0x03, "a") + prop_str(0x03, "b")),
         protocol},
        {"repeated topic alias", v5, publish5(prop_u16(0x23, 1) + prop_u16(0x23, 1)), protocol},
        {"repeated reason string", v5,
         packet(0x40, u16(1) + raw({0}) + props(prop_str(0x1F, "a") + prop_str(0x1F, "b"))),
         protocol},
        {"receive maximum 0", v5, packet(0x20, raw({0, 0}) + props(prop_u16(0x21, 0))), protocol},
        {"maximum QoS 2", v5, packet(0x20, raw({0, 0}) + props(prop_u8(0x24, 2))), protocol},
        {"retain available 2", v5, packet(0x20, raw({0, 0}) + props(prop_u8(0x25, 2))), protocol},
        {"maximum packet size 0", v5, packet(0x20, raw({0, 0}) + props(prop_u32(0x27, 0))),
         protocol},
        {"payload format 2", v5, publish5(prop_u8(0x01, 2)), protocol},
        {"subscription identifier 0", v5, publish5(raw({0x0B, 0})), protocol},
        {"response topic with wildcard", v5, publish5(prop_str(0x08, "a/+")), protocol},
        // UTF-8
        {"topic with U+0000", v5, publish5("", raw({'a', 0x00})), malformed},
        {"long ASCII topic with U+0000", v5,
         publish5("", raw({'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 0x00, 'k'})), malformed},
        {"long ASCII topic with U+0000 in the first eight", v5,
         publish5("", raw({'a', 'b', 'c', 0x00, 'e', 'f', 'g', 'h', 'i'})), malformed},
        {"long ASCII topic with a bad byte after eight", v5,
         publish5("", "abcdefghijklmnop" + raw({0xFF})), malformed},
        {"topic with a surrogate", v5, publish5("", raw({0xED, 0xA0, 0x80})), malformed},
        {"topic overlong", v4, packet(0x30, str(raw({0xC0, 0xAF}))), malformed},
        {"topic overlong 3 bytes", v5, publish5("", raw({0xE0, 0x80, 0xAF})), malformed},
        {"topic above U+10FFFF", v5, publish5("", raw({0xF4, 0x90, 0x80, 0x80})), malformed},
        {"topic truncated sequence", v5, publish5("", raw({'a', 0xE2, 0x82})), malformed},
        {"topic stray continuation", v5, publish5("", raw({0x80})), malformed},
        {"reason string not UTF-8", v5,
         packet(0x40, u16(1) + raw({0}) + props(raw({0x1F}) + str(raw({0xFF})))), malformed},
        {"user property value not UTF-8", v5, publish5(user_prop("k", raw({0xC3}))), malformed},
        // PUBLISH rules
        {"topic with +", v5, publish5("", "a/+/b"), reason::topic_name_invalid},
        {"topic with #", v4, packet(0x30, str("a/#")), reason::topic_name_invalid},
        {"topic cut short", v4, packet(0x30, raw({0, 5, 'a'})), malformed},
        {"QoS 1 packet id 0", v5, packet(0x32, str("t") + u16(0) + props("")), protocol},
        {"QoS 1 packet id 0 on 3.1.1", v4, packet(0x32, str("t") + u16(0)), protocol},
        {"QoS 1 packet id cut short", v4, packet(0x32, str("t") + raw({1})), malformed},
        {"empty topic without alias", v5, publish5("", ""), protocol},
        {"empty topic on 3.1.1", v4, packet(0x30, str("") + "x"), protocol},
        {"topic alias 0", v5, publish5(prop_u16(0x23, 0)), reason::topic_alias_invalid},
        {"topic alias above the maximum", v5, publish5(prop_u16(0x23, 3)),
         reason::topic_alias_invalid},
        {"empty topic with an unknown alias", v5, publish5(prop_u16(0x23, 1), ""), protocol},
        // Acknowledgements
        {"PUBACK packet id 0", v4, raw({0x40, 2, 0, 0}), protocol},
        {"PUBACK too short", v5, raw({0x40, 1, 0}), malformed},
        {"PUBACK 3.1.1 trailing", v4, raw({0x40, 3, 0, 1, 0}), malformed},
        {"PUBACK undefined reason", v5, raw({0x40, 3, 0, 1, 0x01}), protocol},
        {"PUBACK trailing after properties", v5, raw({0x40, 5, 0, 1, 0, 0, 0}), malformed},
        {"SUBACK without codes", v4, raw({0x90, 2, 0, 1}), protocol},
        {"SUBACK 5 without codes", v5, raw({0x90, 3, 0, 1, 0}), protocol},
        {"SUBACK undefined code on 3.1.1", v4, raw({0x90, 3, 0, 1, 0x87}), protocol},
        {"SUBACK undefined code", v5, raw({0x90, 4, 0, 1, 0, 0x03}), protocol},
        {"SUBACK packet id 0", v5, raw({0x90, 4, 0, 0, 0, 0}), protocol},
        {"UNSUBACK 3.1.1 trailing", v4, raw({0xB0, 3, 0, 1, 0}), malformed},
        {"UNSUBACK 5 without codes", v5, raw({0xB0, 3, 0, 1, 0}), protocol},
        {"UNSUBACK undefined code", v5, raw({0xB0, 4, 0, 1, 0, 0x02}), protocol},
        {"DISCONNECT 3.1.1 with a body", v4, raw({0xE0, 1, 0}), malformed},
        {"DISCONNECT undefined reason", v5, raw({0xE0, 1, 0x01}), protocol},
        {"DISCONNECT with the client's will reason", v5, raw({0xE0, 1, 0x04}), protocol},
        {"DISCONNECT trailing after properties", v5, raw({0xE0, 3, 0, 0, 0}), malformed},
        {"AUTH undefined reason", v5, raw({0xF0, 1, 0x87}), protocol},
        {"AUTH trailing after properties", v5, raw({0xF0, 3, 0x18, 0, 0}), malformed},
    };
}

TEST(MqttDecoderMalformed, EachFormIsAnErrorWithItsReason) {
    for (const Broken& b : broken_packets()) {
        Decoder decoder(b.version);
        decoder.aliases().reset(2);
        Packet packet_out;
        DecodeError error;
        EXPECT_EQ(decoder.next(b.bytes, packet_out, error), DecodeStatus::error) << b.name;
        EXPECT_EQ(static_cast<int>(error.reason), static_cast<int>(b.reason))
            << b.name << ": " << error.what;
        EXPECT_FALSE(error.what.empty()) << b.name;
    }
}

TEST(MqttDecoderMalformed, PacketLargerThanTheMaximumIsRejectedFromItsHeader) {
    Decoder decoder;
    decoder.set_maximum_packet_size(64);
    const std::string fits = packet(0x30, str("t") + props("") + std::string(58, 'x'));
    ASSERT_EQ(fits.size(), 64u);
    Packet p;
    DecodeError error;
    EXPECT_EQ(decoder.next(fits, p, error), DecodeStatus::packet) << error.what;
    const std::string big = packet(0x30, str("t") + props("") + std::string(59, 'x'));
    // Two bytes of header are enough to refuse it: the body need not be buffered.
    EXPECT_EQ(decoder.next(big.substr(0, 2), p, error), DecodeStatus::error);
    EXPECT_EQ(error.reason, reason::packet_too_large);
    EXPECT_EQ(decoder.next(big, p, error), DecodeStatus::error);
    EXPECT_EQ(error.reason, reason::packet_too_large);
}

TEST(MqttDecoderMalformed, AnErrorLeavesTheAliasTableAlone) {
    Decoder decoder;
    decoder.aliases().reset(2);
    // Sets alias 1, but the packet is broken after the properties are read.
    const std::string bad =
        packet(0x32, str("first") + u16(1) + props(prop_u16(0x23, 1) + prop_u8(0x01, 7)));
    Packet p;
    DecodeError error;
    EXPECT_EQ(decoder.next(bad, p, error), DecodeStatus::error);
    EXPECT_FALSE(decoder.aliases().resolve(1, ""));
}

std::vector<std::pair<Version, std::string>> valid_packets() {
    const auto v5 = Version::v5;
    const auto v4 = Version::v311;
    return {
        {v4, raw({0x20, 2, 1, 0})},
        {v5, packet(0x20, raw({0, 0}) + props(prop_u16(0x21, 10) + user_prop("k", "v") +
                                              prop_str(0x12, "id")))},
        {v4, packet(0x32, str("a/b") + u16(1) + "payload")},
        {v5, packet(0x32, str("a/b") + u16(1) +
                              props(prop_u16(0x23, 1) + prop_str(0x03, "json") + raw({0x0B}) +
                                    varint(200)) +
                              std::string(200, 'p'))},
        {v4, raw({0x40, 2, 0, 1})},
        {v5, packet(0x40, u16(1) + raw({0x10}) + props(prop_str(0x1F, "r")))},
        {v4, raw({0x90, 3, 0, 1, 0})},
        {v5, packet(0x90, u16(1) + props("") + raw({0, 1}))},
        {v4, raw({0xB0, 2, 0, 1})},
        {v5, packet(0xB0, u16(1) + props("") + raw({0}))},
        {v5, raw({0xD0, 0})},
        {v5, packet(0xE0, raw({0x8B}) + props(prop_str(0x1C, "elsewhere")))},
        {v5, packet(0xF0, raw({0x18}) + props(prop_str(0x15, "m") + prop_str(0x16, "d")))},
    };
}

TEST(MqttDecoderMalformed, EveryTruncationNeedsMoreAndNeverErrs) {
    for (const auto& [version, bytes] : valid_packets()) {
        Packet p;
        DecodeError error;
        {
            Decoder whole(version);
            whole.aliases().reset(2);
            ASSERT_EQ(whole.next(bytes, p, error), DecodeStatus::packet) << error.what;
        }
        // Header length: first byte plus the remaining-length bytes.
        std::size_t header = 2;
        while (static_cast<std::uint8_t>(bytes[header - 1]) & 0x80u) {
            ++header;
        }
        for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
            Decoder decoder(version);
            decoder.aliases().reset(2);
            EXPECT_EQ(decoder.next(std::string_view(bytes).substr(0, cut), p, error),
                      DecodeStatus::need_more)
                << "cut at " << cut << " of " << bytes.size();
            EXPECT_EQ(decoder.need(), cut >= header ? bytes.size() : 0u) << cut;
        }
    }
}

TEST(MqttDecoderMalformed, WalkingABrokenBlockStopsWithoutReadingPastIt) {
    // for_each_user_property is meant for validated blocks; a broken one must still end.
    const std::string block = user_prop("k", "v") + raw({0x26, 0, 9, 'x'});
    int seen = 0;
    for_each_user_property(block, [&](UserPropertyView u) {
        EXPECT_EQ(u.key, "k");
        ++seen;
    });
    EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace edgeflow::mqtt
