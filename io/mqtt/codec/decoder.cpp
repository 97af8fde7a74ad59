// Decoder::next and the property walk behind for_each_user_property. Every check is written
// against MQTT 5.0 and 3.1.1; the reason code of each failure is the one MQTT 5 names for it
// (a Malformed Packet for bytes that cannot be read as the packet's shape, a Protocol Error for
// a readable packet that breaks a rule).
#include <cstdint>
#include <string_view>

#include "io/mqtt/codec/codec.h"
#include "io/mqtt/codec/wire.h"

namespace edgeflow::mqtt {
namespace {

using wire::PropertyType;
using wire::Reader;

bool fail(DecodeError& error, std::uint8_t reason_code, std::string_view what) noexcept {
    error = DecodeError{reason_code, what};
    return false;
}

constexpr std::uint64_t bits() noexcept {
    return 0;
}
template <typename... Ids>
constexpr std::uint64_t bits(std::uint8_t id, Ids... rest) noexcept {
    return (std::uint64_t{1} << id) | bits(rest...);
}

// Which properties each received packet may carry (MQTT 5 2.2.2.2, table 2-4).
constexpr std::uint64_t connack_properties =
    bits(0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C,
         0x15, 0x16);
constexpr std::uint64_t publish_properties = bits(0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x0B, 0x03);
constexpr std::uint64_t ack_properties = bits(0x1F, 0x26);
constexpr std::uint64_t disconnect_properties = bits(0x11, 0x1F, 0x26, 0x1C);
constexpr std::uint64_t auth_properties = bits(0x15, 0x16, 0x1F, 0x26);
// User Property and Subscription Identifier may appear more than once; every other property
// at most once.
constexpr std::uint64_t repeatable_properties = bits(0x26, 0x0B);

// Reason codes each received packet may carry (MQTT 5 3.x.2.1 tables). 256 bits, one per code.
struct CodeSet {
    std::uint64_t words[4] = {};
    constexpr CodeSet(std::initializer_list<std::uint8_t> codes) noexcept {
        for (auto c : codes) {
            words[c >> 6] |= std::uint64_t{1} << (c & 63u);
        }
    }
    constexpr bool contains(std::uint8_t c) const noexcept {
        return (words[c >> 6] >> (c & 63u)) & 1u;
    }
};
constexpr CodeSet connack_codes = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                   0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                   0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
constexpr CodeSet puback_codes = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
constexpr CodeSet suback_codes = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                  0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr CodeSet suback_311_codes = {0x00, 0x01, 0x02, 0x80};
constexpr CodeSet unsuback_codes = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
// 0x04 (disconnect with will) is the client's alone.
constexpr CodeSet disconnect_codes = {0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E,
                                      0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A,
                                      0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
constexpr CodeSet auth_codes = {0x00, 0x18, 0x19};

/// Walks a property block, checking each identifier against `allowed`, repetition, and UTF-8,
/// and hands each property to `on(id, first, second)`, which returns false after setting
/// `error`. `user_properties` becomes the whole block when it holds at least one.
template <typename On>
bool walk_properties(std::string_view block, std::uint64_t allowed,
                     std::string_view& user_properties, DecodeError& error, On&& on) {
    Reader r(block);
    std::uint64_t seen = 0;
    while (!r.empty()) {
        std::uint8_t id = 0;
        std::string_view first;
        std::string_view second;
        if (!wire::read_property(r, id, first, second)) {
            return fail(error, reason::malformed_packet, "property cut short or unknown");
        }
        // An identifier not valid for the packet makes it malformed (MQTT 5 2.2.2.2).
        if (id >= 64 || ((allowed >> id) & 1u) == 0) {
            return fail(error, reason::malformed_packet, "property not allowed in this packet");
        }
        const std::uint64_t bit = std::uint64_t{1} << id;
        if ((seen & bit) != 0 && (repeatable_properties & bit) == 0) {
            return fail(error, reason::protocol_error, "property repeated");
        }
        seen |= bit;
        const PropertyType type = wire::property_type(id);
        if ((type == PropertyType::utf8 || type == PropertyType::pair) &&
            (!wire::valid_utf8(first) || !wire::valid_utf8(second))) {
            return fail(error, reason::malformed_packet, "property string not valid UTF-8");
        }
        if (id == 0x26) {
            user_properties = block;
            continue;
        }
        if (!on(id, first, second)) {
            return false;
        }
    }
    return true;
}

/// Reads the property length and splits off the block; false when it overruns the packet.
bool property_block(Reader& r, std::string_view& block, DecodeError& error) noexcept {
    std::uint32_t length = 0;
    if (!r.varint(length)) {
        return fail(error, reason::malformed_packet, "property length malformed");
    }
    if (!r.bytes(length, block)) {
        return fail(error, reason::malformed_packet, "property length beyond the packet");
    }
    return true;
}

std::uint8_t u8_of(std::string_view v) noexcept {
    return static_cast<std::uint8_t>(v[0]);
}

bool boolean_property(std::string_view v, bool& out, DecodeError& error) noexcept {
    const std::uint8_t b = u8_of(v);
    if (b > 1) {
        return fail(error, reason::protocol_error, "boolean property not 0 or 1");
    }
    out = b == 1;
    return true;
}

bool has_wildcard(std::string_view topic) noexcept {
    return topic.find_first_of("+#") != std::string_view::npos;
}

bool decode_connack(Reader r, Version version, ConnackView& c, DecodeError& error) {
    std::uint8_t flags = 0;
    if (!r.u8(flags) || !r.u8(c.reason)) {
        return fail(error, reason::malformed_packet, "CONNACK too short");
    }
    if ((flags & 0xFEu) != 0) {
        return fail(error, reason::malformed_packet, "CONNACK acknowledge flags reserved bits");
    }
    c.session_present = (flags & 1u) != 0;
    if (c.session_present && c.reason != 0) {
        return fail(error, reason::protocol_error, "CONNACK session present with a refusal");
    }
    if (version == Version::v311) {
        if (!r.empty()) {
            return fail(error, reason::malformed_packet, "CONNACK longer than 2 bytes");
        }
        return true;
    }
    if (!connack_codes.contains(c.reason)) {
        return fail(error, reason::protocol_error, "CONNACK reason code not defined");
    }
    std::string_view block;
    if (!property_block(r, block, error)) {
        return false;
    }
    if (!r.empty()) {
        return fail(error, reason::malformed_packet, "bytes after the CONNACK properties");
    }
    return walk_properties(
        block, connack_properties, c.user_properties, error,
        [&](std::uint8_t id, std::string_view v, std::string_view) {
            switch (id) {
                case 0x11:
                    c.session_expiry = wire::load_u32(v);
                    return true;
                case 0x21:
                    c.receive_maximum = wire::load_u16(v);
                    return c.receive_maximum != 0 ||
                           fail(error, reason::protocol_error, "receive maximum 0");
                case 0x24:
                    c.maximum_qos = u8_of(v);
                    return c.maximum_qos <= 1 ||
                           fail(error, reason::protocol_error, "maximum QoS not 0 or 1");
                case 0x25:
                    return boolean_property(v, c.retain_available, error);
                case 0x27:
                    c.maximum_packet_size = wire::load_u32(v);
                    return c.maximum_packet_size != 0 ||
                           fail(error, reason::protocol_error, "maximum packet size 0");
                case 0x12:
                    c.assigned_client_id = v;
                    return true;
                case 0x22:
                    c.topic_alias_maximum = wire::load_u16(v);
                    return true;
                case 0x1F:
                    c.reason_string = v;
                    return true;
                case 0x28:
                    return boolean_property(v, c.wildcard_subscription_available, error);
                case 0x29:
                    return boolean_property(v, c.subscription_identifiers_available, error);
                case 0x2A:
                    return boolean_property(v, c.shared_subscription_available, error);
                case 0x13:
                    c.server_keep_alive = wire::load_u16(v);
                    return true;
                case 0x1A:
                    c.response_information = v;
                    return true;
                case 0x1C:
                    c.server_reference = v;
                    return true;
                case 0x15:
                    c.authentication_method = v;
                    return true;
                case 0x16:
                    c.authentication_data = v;
                    return true;
                default:
                    return true;
            }
        });
}

bool decode_publish(Reader r, Version version, std::uint8_t flags, PublishView& p,
                    InboundTopicAliases& aliases, DecodeError& error) {
    p.qos = static_cast<std::uint8_t>((flags >> 1) & 3u);
    p.retain = (flags & 1u) != 0;
    p.dup = (flags & 8u) != 0;
    if (!r.prefixed(p.topic)) {
        return fail(error, reason::malformed_packet, "PUBLISH topic cut short");
    }
    if (!wire::valid_utf8(p.topic)) {
        return fail(error, reason::malformed_packet, "PUBLISH topic not valid UTF-8");
    }
    if (has_wildcard(p.topic)) {
        return fail(error, reason::topic_name_invalid, "PUBLISH topic has a wildcard");
    }
    if (p.qos > 0) {
        if (!r.u16(p.packet_id)) {
            return fail(error, reason::malformed_packet, "PUBLISH packet id cut short");
        }
        if (p.packet_id == 0) {
            return fail(error, reason::protocol_error, "PUBLISH packet id 0 at QoS > 0");
        }
    }
    bool has_alias = false;
    if (version == Version::v5) {
        std::string_view block;
        if (!property_block(r, block, error)) {
            return false;
        }
        const bool ok = walk_properties(
            block, publish_properties, p.user_properties, error,
            [&](std::uint8_t id, std::string_view v, std::string_view) {
                switch (id) {
                    case 0x01:
                        p.payload_format = u8_of(v);
                        return *p.payload_format <= 1 ||
                               fail(error, reason::protocol_error, "payload format not 0 or 1");
                    case 0x02:
                        p.message_expiry = wire::load_u32(v);
                        return true;
                    case 0x23:
                        has_alias = true;
                        p.topic_alias = wire::load_u16(v);
                        return p.topic_alias != 0 ||
                               fail(error, reason::topic_alias_invalid, "topic alias 0");
                    case 0x08:
                        p.response_topic = v;
                        return !has_wildcard(v) ||
                               fail(error, reason::protocol_error, "response topic has a wildcard");
                    case 0x09:
                        p.correlation_data = v;
                        return true;
                    case 0x03:
                        p.content_type = v;
                        return true;
                    case 0x0B: {
                        std::uint32_t id_value = 0;
                        std::size_t length = 0;
                        (void)wire::decode_varint(v, id_value, length);
                        if (id_value == 0) {
                            return fail(error, reason::protocol_error, "subscription identifier 0");
                        }
                        // The first identifier; further ones stay in the block.
                        if (p.subscription_identifier == 0) {
                            p.subscription_identifier = id_value;
                        }
                        return true;
                    }
                    default:
                        return true;
                }
            });
        if (!ok) {
            return false;
        }
    }
    p.payload = r.rest();
    // The alias table changes only once the whole packet is known to be valid.
    if (has_alias) {
        if (p.topic_alias > aliases.maximum()) {
            return fail(error, reason::topic_alias_invalid, "topic alias above the maximum");
        }
        const auto topic = aliases.resolve(p.topic_alias, p.topic);
        if (!topic) {
            return fail(error, reason::protocol_error, "empty topic with an unknown alias");
        }
        p.topic = *topic;
    } else if (p.topic.empty()) {
        return fail(error, reason::protocol_error, "PUBLISH with an empty topic and no alias");
    }
    return true;
}

/// PUBACK: packet id, then on MQTT 5 an optional reason code and optional properties.
bool decode_puback(Reader r, Version version, AckView& a, DecodeError& error) {
    if (!r.u16(a.packet_id)) {
        return fail(error, reason::malformed_packet, "PUBACK too short");
    }
    if (a.packet_id == 0) {
        return fail(error, reason::protocol_error, "PUBACK packet id 0");
    }
    if (version == Version::v311 || r.empty()) {
        return r.empty() || fail(error, reason::malformed_packet, "PUBACK longer than 2 bytes");
    }
    (void)r.u8(a.reason);
    if (!puback_codes.contains(a.reason)) {
        return fail(error, reason::protocol_error, "PUBACK reason code not defined");
    }
    if (r.empty()) {
        return true;
    }
    std::string_view block;
    if (!property_block(r, block, error)) {
        return false;
    }
    if (!r.empty()) {
        return fail(error, reason::malformed_packet, "bytes after the PUBACK properties");
    }
    return walk_properties(block, ack_properties, a.user_properties, error,
                           [&](std::uint8_t, std::string_view v, std::string_view) {
                               a.reason_string = v;  // 0x1F, the only other one allowed
                               return true;
                           });
}

/// SUBACK and UNSUBACK: packet id, MQTT 5 properties, one reason code per filter (none in a
/// 3.1.1 UNSUBACK).
bool decode_suback(Reader r, Version version, bool unsuback, SubackView& s, DecodeError& error) {
    if (!r.u16(s.packet_id)) {
        return fail(error, reason::malformed_packet, "SUBACK/UNSUBACK too short");
    }
    if (s.packet_id == 0) {
        return fail(error, reason::protocol_error, "SUBACK/UNSUBACK packet id 0");
    }
    if (version == Version::v5) {
        std::string_view block;
        if (!property_block(r, block, error)) {
            return false;
        }
        const bool ok = walk_properties(block, ack_properties, s.user_properties, error,
                                        [&](std::uint8_t, std::string_view v, std::string_view) {
                                            s.reason_string = v;
                                            return true;
                                        });
        if (!ok) {
            return false;
        }
    } else if (unsuback) {
        return r.empty() ||
               fail(error, reason::malformed_packet, "3.1.1 UNSUBACK longer than 2 bytes");
    }
    s.reason_codes = r.rest();
    if (s.reason_codes.empty()) {
        return fail(error, reason::protocol_error, "SUBACK/UNSUBACK without reason codes");
    }
    const CodeSet& codes = unsuback                 ? unsuback_codes
                           : version == Version::v5 ? suback_codes
                                                    : suback_311_codes;
    for (char c : s.reason_codes) {
        if (!codes.contains(static_cast<std::uint8_t>(c))) {
            return fail(error, reason::protocol_error, "SUBACK/UNSUBACK reason code not defined");
        }
    }
    return true;
}

bool decode_disconnect(Reader r, Version version, DisconnectView& d, DecodeError& error) {
    if (version == Version::v311 || r.empty()) {
        return r.empty() || fail(error, reason::malformed_packet, "3.1.1 DISCONNECT not empty");
    }
    (void)r.u8(d.reason);
    if (!disconnect_codes.contains(d.reason)) {
        return fail(error, reason::protocol_error, "DISCONNECT reason code not defined");
    }
    if (r.empty()) {
        return true;
    }
    std::string_view block;
    if (!property_block(r, block, error)) {
        return false;
    }
    if (!r.empty()) {
        return fail(error, reason::malformed_packet, "bytes after the DISCONNECT properties");
    }
    return walk_properties(block, disconnect_properties, d.user_properties, error,
                           [&](std::uint8_t id, std::string_view v, std::string_view) {
                               switch (id) {
                                   case 0x11:
                                       d.session_expiry = wire::load_u32(v);
                                       break;
                                   case 0x1F:
                                       d.reason_string = v;
                                       break;
                                   case 0x1C:
                                       d.server_reference = v;
                                       break;
                                   default:
                                       break;
                               }
                               return true;
                           });
}

bool decode_auth(Reader r, AuthView& a, DecodeError& error) {
    if (r.empty()) {
        return true;  // Remaining Length 0: success, no properties
    }
    (void)r.u8(a.reason);
    if (!auth_codes.contains(a.reason)) {
        return fail(error, reason::protocol_error, "AUTH reason code not defined");
    }
    if (r.empty()) {
        return true;
    }
    std::string_view block;
    if (!property_block(r, block, error)) {
        return false;
    }
    if (!r.empty()) {
        return fail(error, reason::malformed_packet, "bytes after the AUTH properties");
    }
    return walk_properties(block, auth_properties, a.user_properties, error,
                           [&](std::uint8_t id, std::string_view v, std::string_view) {
                               switch (id) {
                                   case 0x15:
                                       a.authentication_method = v;
                                       break;
                                   case 0x16:
                                       a.authentication_data = v;
                                       break;
                                   case 0x1F:
                                       a.reason_string = v;
                                       break;
                                   default:
                                       break;
                               }
                               return true;
                           });
}

/// The first byte alone: is this a packet a client receives, with the flags MQTT fixes for it.
bool check_first_byte(std::uint8_t byte, Version version, DecodeError& error) noexcept {
    const unsigned type = byte >> 4;
    const unsigned flags = byte & 0x0Fu;
    switch (static_cast<PacketType>(type)) {
        case PacketType::publish:
            if (((flags >> 1) & 3u) == 3u) {
                return fail(error, reason::malformed_packet, "PUBLISH QoS 3");
            }
            if ((flags & 8u) != 0 && ((flags >> 1) & 3u) == 0) {
                return fail(error, reason::malformed_packet, "PUBLISH DUP set at QoS 0");
            }
            return true;
        case PacketType::auth:
            if (version == Version::v311) {
                return fail(error, reason::protocol_error, "AUTH on MQTT 3.1.1");
            }
            [[fallthrough]];
        case PacketType::connack:
        case PacketType::puback:
        case PacketType::suback:
        case PacketType::unsuback:
        case PacketType::pingresp:
        case PacketType::disconnect:
            if (flags != 0) {
                return fail(error, reason::malformed_packet, "fixed header reserved flags set");
            }
            return true;
        case PacketType::connect:
        case PacketType::subscribe:
        case PacketType::unsubscribe:
        case PacketType::pingreq:
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
            // PUBREC, PUBREL and PUBCOMP belong to QoS 2 exchanges, which this client never starts
            // and never acknowledges.
            return fail(error, reason::protocol_error, "packet type a client does not receive");
    }
    return fail(error, reason::malformed_packet, "reserved packet type 0");
}

}  // namespace

DecodeStatus Decoder::next(std::string_view bytes, Packet& out, DecodeError& error) {
    need_ = 0;
    if (bytes.empty()) {
        return DecodeStatus::need_more;
    }
    const auto first = static_cast<std::uint8_t>(bytes[0]);
    if (!check_first_byte(first, version_, error)) {
        return DecodeStatus::error;
    }
    std::uint32_t remaining = 0;
    std::size_t length_bytes = 0;
    switch (wire::decode_varint(bytes.substr(1), remaining, length_bytes)) {
        case wire::VarintStatus::incomplete:
            return DecodeStatus::need_more;
        case wire::VarintStatus::malformed:
            error = DecodeError{reason::malformed_packet, "remaining length malformed"};
            return DecodeStatus::error;
        case wire::VarintStatus::ok:
            break;
    }
    const std::size_t total = 1 + length_bytes + remaining;
    // Checked before the body arrives, so an oversized packet is never buffered.
    if (maximum_packet_size_ != 0 && total > maximum_packet_size_) {
        error = DecodeError{reason::packet_too_large, "packet larger than the maximum"};
        return DecodeStatus::error;
    }
    if (bytes.size() < total) {
        need_ = total;
        return DecodeStatus::need_more;
    }
    const Reader body(bytes.substr(1 + length_bytes, remaining));
    out.type = static_cast<PacketType>(first >> 4);
    out.size = total;
    bool ok = true;
    switch (out.type) {
        case PacketType::connack:
            out.connack = ConnackView{};
            ok = decode_connack(body, version_, out.connack, error);
            break;
        case PacketType::publish:
            out.publish = PublishView{};
            ok = decode_publish(body, version_, first & 0x0Fu, out.publish, aliases_, error);
            break;
        case PacketType::puback:
            out.ack = AckView{};
            ok = decode_puback(body, version_, out.ack, error);
            break;
        case PacketType::suback:
        case PacketType::unsuback:
            out.suback = SubackView{};
            ok = decode_suback(body, version_, out.type == PacketType::unsuback, out.suback, error);
            break;
        case PacketType::pingresp:
            ok = body.empty() || fail(error, reason::malformed_packet, "PINGRESP not empty");
            break;
        case PacketType::disconnect:
            out.disconnect = DisconnectView{};
            ok = decode_disconnect(body, version_, out.disconnect, error);
            break;
        case PacketType::auth:
            out.auth = AuthView{};
            ok = decode_auth(body, out.auth, error);
            break;
        default:
            ok = fail(error, reason::protocol_error, "packet type a client does not receive");
            break;
    }
    return ok ? DecodeStatus::packet : DecodeStatus::error;
}

void InboundTopicAliases::reset(std::uint16_t maximum) {
    topics_.resize(maximum);
    for (auto& topic : topics_) {
        topic.clear();  // keeps capacity for the next connection
    }
}

std::optional<std::string_view> InboundTopicAliases::resolve(std::uint16_t alias,
                                                             std::string_view topic) {
    if (alias == 0 || alias > topics_.size()) {
        return std::nullopt;
    }
    std::string& slot = topics_[alias - 1u];
    if (!topic.empty()) {
        slot.assign(topic);
        return topic;
    }
    if (slot.empty()) {
        return std::nullopt;
    }
    return std::string_view(slot);
}

namespace detail {
bool next_property(std::string_view& block, std::uint8_t& id, std::string_view& first,
                   std::string_view& second) noexcept {
    wire::Reader r(block);
    if (!wire::read_property(r, id, first, second)) {
        block = {};
        return false;
    }
    block = r.rest();
    return true;
}
}  // namespace detail

}  // namespace edgeflow::mqtt
