#include <algorithm>

#include "io/mqtt/codec/codec.h"
#include "io/mqtt/codec/properties.h"
#include "io/mqtt/codec/wire.h"

namespace edgeflow::mqtt {
namespace properties {

ReadResult read_one(std::string_view& block, Property& out) noexcept {
    std::uint32_t id = 0;
    if (wire::read_varint(block, id) != wire::VarintResult::ok || id > 0x7F) {
        return ReadResult::malformed;  // every defined identifier fits in one byte
    }
    out.id = static_cast<std::uint8_t>(id);
    switch (type_of(out.id)) {
        case Type::none:
            return ReadResult::malformed;
        case Type::byte: {
            std::uint8_t v = 0;
            if (!wire::read_u8(block, v)) {
                return ReadResult::malformed;
            }
            out.number = v;
            return ReadResult::ok;
        }
        case Type::u16: {
            std::uint16_t v = 0;
            if (!wire::read_u16(block, v)) {
                return ReadResult::malformed;
            }
            out.number = v;
            return ReadResult::ok;
        }
        case Type::u32:
            return wire::read_u32(block, out.number) ? ReadResult::ok : ReadResult::malformed;
        case Type::varint:
            return wire::read_varint(block, out.number) == wire::VarintResult::ok
                       ? ReadResult::ok
                       : ReadResult::malformed;
        case Type::string:
            switch (wire::read_string(block, out.first)) {
                case wire::StringResult::ok:
                    return ReadResult::ok;
                case wire::StringResult::invalid:
                    return ReadResult::invalid_string;
                case wire::StringResult::short_input:
                    return ReadResult::malformed;
            }
            return ReadResult::malformed;
        case Type::binary:
            return wire::read_binary(block, out.first) ? ReadResult::ok : ReadResult::malformed;
        case Type::pair: {
            const auto key = wire::read_string(block, out.first);
            if (key == wire::StringResult::short_input) {
                return ReadResult::malformed;
            }
            const auto value = wire::read_string(block, out.second);
            if (value == wire::StringResult::short_input) {
                return ReadResult::malformed;
            }
            return key == wire::StringResult::ok && value == wire::StringResult::ok
                       ? ReadResult::ok
                       : ReadResult::invalid_string;
        }
    }
    return ReadResult::malformed;
}

}  // namespace properties

namespace detail {

bool next_property(std::string_view& block, std::uint8_t& id, std::string_view& first,
                   std::string_view& second) noexcept {
    properties::Property p;
    if (properties::read_one(block, p) != properties::ReadResult::ok) {
        block = {};
        return false;
    }
    id = p.id;
    first = p.first;
    second = p.second;
    return true;
}

}  // namespace detail

namespace {

namespace prop = properties;

constexpr DecodeError malformed(std::string_view what) noexcept {
    return {reason::malformed_packet, what};
}
constexpr DecodeError protocol(std::string_view what) noexcept {
    return {reason::protocol_error, what};
}

/// Reads a property block (its length, then the properties) from the front of `in`, checks
/// every property against `allowed` and repetition, and calls `on(Property)` for each. The
/// block's bytes (without the length) go to `raw` for user-property walks.
template <typename On>
bool read_properties(std::string_view& in, std::uint64_t allowed, std::string_view& raw,
                     DecodeError& error, On&& on) {
    std::uint32_t length = 0;
    if (wire::read_varint(in, length) != wire::VarintResult::ok || length > in.size()) {
        error = malformed("property length runs past the packet");
        return false;
    }
    std::string_view block = in.substr(0, length);
    in.remove_prefix(length);
    raw = block;
    std::uint64_t seen = 0;
    while (!block.empty()) {
        prop::Property p;
        switch (prop::read_one(block, p)) {
            case prop::ReadResult::ok:
                break;
            case prop::ReadResult::invalid_string:
                error = malformed("a property string is not valid UTF-8");
                return false;
            case prop::ReadResult::malformed:
                error = malformed("a property is cut short or unknown");
                return false;
        }
        if ((allowed & prop::bit(p.id)) == 0) {
            error = protocol("a property this packet may not carry");
            return false;
        }
        if ((seen & prop::bit(p.id) & ~prop::repeatable) != 0) {
            error = protocol("a property that may appear once appears twice");
            return false;
        }
        seen |= prop::bit(p.id);
        if (!on(p, error)) {
            return false;
        }
    }
    return true;
}

bool is_boolean(std::uint32_t v) noexcept {
    return v <= 1;
}

bool decode_connack(Version version, std::string_view body, ConnackView& out,
                    DecodeError& error) {
    out = ConnackView{};
    std::uint8_t flags = 0;
    if (!wire::read_u8(body, flags) || !wire::read_u8(body, out.reason)) {
        error = malformed("CONNACK shorter than two bytes");
        return false;
    }
    if ((flags & 0xFE) != 0) {
        error = malformed("CONNACK acknowledge flags use reserved bits");
        return false;
    }
    out.session_present = (flags & 1) != 0;
    if (version == Version::v311) {
        if (!body.empty()) {
            error = malformed("CONNACK longer than two bytes");
            return false;
        }
        return true;
    }
    if (body.empty()) {
        return true;  // no property length at all: tolerated as no properties
    }
    std::string_view raw;
    if (!read_properties(body, prop::connack_allowed, raw, error,
                         [&](const prop::Property& p, DecodeError& e) {
                             switch (p.id) {
                                 case prop::session_expiry:
                                     out.session_expiry = p.number;
                                     break;
                                 case prop::receive_maximum:
                                     if (p.number == 0) {
                                         e = protocol("Receive Maximum of 0");
                                         return false;
                                     }
                                     out.receive_maximum = static_cast<std::uint16_t>(p.number);
                                     break;
                                 case prop::maximum_qos:
                                     if (!is_boolean(p.number)) {
                                         e = protocol("Maximum QoS other than 0 or 1");
                                         return false;
                                     }
                                     out.maximum_qos = static_cast<std::uint8_t>(p.number);
                                     break;
                                 case prop::retain_available:
                                 case prop::wildcard_subscription_available:
                                 case prop::subscription_identifiers_available:
                                 case prop::shared_subscription_available:
                                     if (!is_boolean(p.number)) {
                                         e = protocol("an availability flag other than 0 or 1");
                                         return false;
                                     }
                                     if (p.id == prop::retain_available) {
                                         out.retain_available = p.number != 0;
                                     } else if (p.id == prop::wildcard_subscription_available) {
                                         out.wildcard_subscription_available = p.number != 0;
                                     } else if (p.id ==
                                                prop::subscription_identifiers_available) {
                                         out.subscription_identifiers_available = p.number != 0;
                                     } else {
                                         out.shared_subscription_available = p.number != 0;
                                     }
                                     break;
                                 case prop::maximum_packet_size:
                                     if (p.number == 0) {
                                         e = protocol("Maximum Packet Size of 0");
                                         return false;
                                     }
                                     out.maximum_packet_size = p.number;
                                     break;
                                 case prop::assigned_client_id:
                                     out.assigned_client_id = p.first;
                                     break;
                                 case prop::topic_alias_maximum:
                                     out.topic_alias_maximum = static_cast<std::uint16_t>(p.number);
                                     break;
                                 case prop::reason_string:
                                     out.reason_string = p.first;
                                     break;
                                 case prop::server_keep_alive:
                                     out.server_keep_alive = static_cast<std::uint16_t>(p.number);
                                     break;
                                 case prop::response_information:
                                     out.response_information = p.first;
                                     break;
                                 case prop::server_reference:
                                     out.server_reference = p.first;
                                     break;
                                 case prop::authentication_method:
                                     out.authentication_method = p.first;
                                     break;
                                 case prop::authentication_data:
                                     out.authentication_data = p.first;
                                     break;
                                 default:
                                     break;
                             }
                             return true;
                         })) {
        return false;
    }
    out.user_properties = raw;
    if (!body.empty()) {
        error = malformed("bytes after the CONNACK properties");
        return false;
    }
    return true;
}

bool decode_publish(Version version, std::uint8_t flags, std::string_view body,
                    InboundTopicAliases& aliases, PublishView& out, DecodeError& error) {
    out = PublishView{};
    out.retain = (flags & 0x01) != 0;
    out.qos = static_cast<std::uint8_t>((flags >> 1) & 0x03);
    out.dup = (flags & 0x08) != 0;
    if (out.qos == 3) {
        error = malformed("PUBLISH with QoS 3");
        return false;
    }
    if (out.dup && out.qos == 0) {
        error = protocol("PUBLISH with DUP at QoS 0");
        return false;
    }
    std::string_view topic;
    switch (wire::read_string(body, topic)) {
        case wire::StringResult::ok:
            break;
        case wire::StringResult::invalid:
            error = malformed("PUBLISH topic is not valid UTF-8");
            return false;
        case wire::StringResult::short_input:
            error = malformed("PUBLISH topic runs past the packet");
            return false;
    }
    if (topic.find_first_of("+#") != std::string_view::npos) {
        error = {reason::topic_name_invalid, "PUBLISH topic holds a wildcard"};
        return false;
    }
    if (out.qos > 0) {
        if (!wire::read_u16(body, out.packet_id)) {
            error = malformed("PUBLISH packet identifier runs past the packet");
            return false;
        }
        if (out.packet_id == 0) {
            error = protocol("PUBLISH at QoS 1 or 2 with packet identifier 0");
            return false;
        }
    }
    if (version == Version::v5) {
        std::string_view raw;
        bool alias_given = false;
        if (!read_properties(body, prop::publish_allowed, raw, error,
                             [&](const prop::Property& p, DecodeError& e) {
                                 switch (p.id) {
                                     case prop::payload_format:
                                         if (!is_boolean(p.number)) {
                                             e = protocol("Payload Format other than 0 or 1");
                                             return false;
                                         }
                                         out.payload_format = static_cast<std::uint8_t>(p.number);
                                         break;
                                     case prop::message_expiry:
                                         out.message_expiry = p.number;
                                         break;
                                     case prop::content_type:
                                         out.content_type = p.first;
                                         break;
                                     case prop::response_topic:
                                         if (p.first.empty() ||
                                             p.first.find_first_of("+#") !=
                                                 std::string_view::npos) {
                                             e = protocol("Response Topic is not a topic name");
                                             return false;
                                         }
                                         out.response_topic = p.first;
                                         break;
                                     case prop::correlation_data:
                                         out.correlation_data = p.first;
                                         break;
                                     case prop::subscription_identifier:
                                         if (p.number == 0) {
                                             e = protocol("Subscription Identifier of 0");
                                             return false;
                                         }
                                         if (out.subscription_identifier == 0) {
                                             out.subscription_identifier = p.number;
                                         }
                                         break;
                                     case prop::topic_alias:
                                         out.topic_alias = static_cast<std::uint16_t>(p.number);
                                         alias_given = true;
                                         break;
                                     default:
                                         break;
                                 }
                                 return true;
                             })) {
            return false;
        }
        out.user_properties = raw;
        if (alias_given) {
            if (out.topic_alias == 0 || out.topic_alias > aliases.maximum()) {
                error = {reason::topic_alias_invalid, "Topic Alias 0 or above the maximum"};
                return false;
            }
            const auto resolved = aliases.resolve(out.topic_alias, topic);
            if (!resolved) {
                error = protocol("empty topic with a Topic Alias never set");
                return false;
            }
            topic = *resolved;
        }
    }
    if (topic.empty()) {
        error = protocol("PUBLISH without a topic or Topic Alias");
        return false;
    }
    out.topic = topic;
    out.payload = body;
    return true;
}

/// PUBACK: packet id; on MQTT 5 optionally a reason code, then optionally properties.
bool decode_ack(Version version, std::string_view body, AckView& out, DecodeError& error) {
    out = AckView{};
    if (!wire::read_u16(body, out.packet_id)) {
        error = malformed("PUBACK shorter than its packet identifier");
        return false;
    }
    if (out.packet_id == 0) {
        error = protocol("PUBACK for packet identifier 0");
        return false;
    }
    if (version == Version::v311) {
        if (!body.empty()) {
            error = malformed("PUBACK longer than two bytes");
            return false;
        }
        return true;
    }
    if (body.empty()) {
        return true;
    }
    wire::read_u8(body, out.reason);
    if (body.empty()) {
        return true;
    }
    std::string_view raw;
    if (!read_properties(body, prop::ack_allowed, raw, error,
                         [&](const prop::Property& p, DecodeError&) {
                             if (p.id == prop::reason_string) {
                                 out.reason_string = p.first;
                             }
                             return true;
                         })) {
        return false;
    }
    out.user_properties = raw;
    if (!body.empty()) {
        error = malformed("bytes after the PUBACK properties");
        return false;
    }
    return true;
}

bool valid_suback_code(Version version, std::uint8_t code) noexcept {
    if (version == Version::v311) {
        return code <= 2 || code == 0x80;
    }
    switch (code) {
        case 0x00: case 0x01: case 0x02: case 0x80: case 0x83: case 0x87: case 0x8F:
        case 0x91: case 0x97: case 0x9E: case 0xA1: case 0xA2:
            return true;
        default:
            return false;
    }
}

bool valid_unsuback_code(std::uint8_t code) noexcept {
    switch (code) {
        case 0x00: case 0x11: case 0x80: case 0x83: case 0x87: case 0x8F: case 0x91:
            return true;
        default:
            return false;
    }
}

bool decode_suback(Version version, bool unsubscribe, std::string_view body, SubackView& out,
                   DecodeError& error) {
    out = SubackView{};
    if (!wire::read_u16(body, out.packet_id)) {
        error = malformed("SUBACK or UNSUBACK shorter than its packet identifier");
        return false;
    }
    if (version == Version::v5) {
        std::string_view raw;
        if (!read_properties(body, prop::ack_allowed, raw, error,
                             [&](const prop::Property& p, DecodeError&) {
                                 if (p.id == prop::reason_string) {
                                     out.reason_string = p.first;
                                 }
                                 return true;
                             })) {
            return false;
        }
        out.user_properties = raw;
    } else if (unsubscribe) {
        if (!body.empty()) {
            error = malformed("UNSUBACK longer than two bytes");
            return false;
        }
        return true;
    }
    if (body.empty()) {
        error = protocol("SUBACK or UNSUBACK without reason codes");
        return false;
    }
    for (const char c : body) {
        const auto code = static_cast<std::uint8_t>(c);
        if (unsubscribe ? !valid_unsuback_code(code) : !valid_suback_code(version, code)) {
            error = protocol("SUBACK or UNSUBACK with an undefined reason code");
            return false;
        }
    }
    out.reason_codes = body;
    return true;
}

bool decode_disconnect(std::string_view body, DisconnectView& out, DecodeError& error) {
    out = DisconnectView{};
    if (body.empty()) {
        return true;
    }
    wire::read_u8(body, out.reason);
    if (body.empty()) {
        return true;
    }
    std::string_view raw;
    if (!read_properties(body, prop::disconnect_allowed, raw, error,
                         [&](const prop::Property& p, DecodeError&) {
                             if (p.id == prop::session_expiry) {
                                 out.session_expiry = p.number;
                             } else if (p.id == prop::reason_string) {
                                 out.reason_string = p.first;
                             } else if (p.id == prop::server_reference) {
                                 out.server_reference = p.first;
                             }
                             return true;
                         })) {
        return false;
    }
    out.user_properties = raw;
    if (!body.empty()) {
        error = malformed("bytes after the DISCONNECT properties");
        return false;
    }
    return true;
}

bool decode_auth(std::string_view body, AuthView& out, DecodeError& error) {
    out = AuthView{};
    if (body.empty()) {
        return true;
    }
    wire::read_u8(body, out.reason);
    if (out.reason != reason::success && out.reason != reason::continue_authentication &&
        out.reason != reason::reauthenticate) {
        error = protocol("AUTH with an undefined reason code");
        return false;
    }
    if (body.empty()) {
        return true;
    }
    std::string_view raw;
    if (!read_properties(body, prop::auth_allowed, raw, error,
                         [&](const prop::Property& p, DecodeError&) {
                             if (p.id == prop::authentication_method) {
                                 out.authentication_method = p.first;
                             } else if (p.id == prop::authentication_data) {
                                 out.authentication_data = p.first;
                             } else if (p.id == prop::reason_string) {
                                 out.reason_string = p.first;
                             }
                             return true;
                         })) {
        return false;
    }
    out.user_properties = raw;
    if (!body.empty()) {
        error = malformed("bytes after the AUTH properties");
        return false;
    }
    return true;
}

}  // namespace

void InboundTopicAliases::reset(std::uint16_t maximum) {
    // Strings keep their capacity from one connection to the next.
    for (auto& topic : topics_) {
        topic.clear();
    }
    topics_.resize(maximum);
}

std::optional<std::string_view> InboundTopicAliases::resolve(std::uint16_t alias,
                                                             std::string_view topic) {
    if (alias == 0 || alias > topics_.size()) {
        return std::nullopt;
    }
    std::string& slot = topics_[alias - 1];
    if (!topic.empty()) {
        slot.assign(topic);
        return std::string_view(slot);
    }
    if (slot.empty()) {
        return std::nullopt;
    }
    return std::string_view(slot);
}

DecodeStatus Decoder::next(std::string_view bytes, Packet& out, DecodeError& error) {
    need_ = 0;
    if (bytes.size() < 2) {
        return DecodeStatus::need_more;
    }
    const auto header = static_cast<std::uint8_t>(bytes[0]);
    std::string_view rest = bytes.substr(1);
    std::uint32_t remaining = 0;
    switch (wire::read_varint(rest, remaining)) {
        case wire::VarintResult::ok:
            break;
        case wire::VarintResult::short_input:
            return DecodeStatus::need_more;
        case wire::VarintResult::malformed:
            error = malformed("remaining length longer than four bytes");
            return DecodeStatus::error;
    }
    const std::size_t header_size = bytes.size() - rest.size();
    const std::size_t total = header_size + remaining;
    if (maximum_packet_size_ != 0 && total > maximum_packet_size_) {
        error = {reason::packet_too_large, "packet larger than the Maximum Packet Size"};
        return DecodeStatus::error;
    }
    need_ = total;
    if (bytes.size() < total) {
        return DecodeStatus::need_more;
    }
    const std::string_view body = rest.substr(0, remaining);
    const auto type = static_cast<PacketType>(header >> 4);
    const std::uint8_t flags = header & 0x0F;
    out.type = type;
    out.size = total;
    if (type != PacketType::publish && flags != 0) {
        error = malformed("reserved fixed-header flags set");
        return DecodeStatus::error;
    }
    bool ok = false;
    switch (type) {
        case PacketType::connack:
            ok = decode_connack(version_, body, out.connack, error);
            break;
        case PacketType::publish:
            ok = decode_publish(version_, flags, body, aliases_, out.publish, error);
            break;
        case PacketType::puback:
            ok = decode_ack(version_, body, out.ack, error);
            break;
        case PacketType::suback:
            ok = decode_suback(version_, false, body, out.suback, error);
            break;
        case PacketType::unsuback:
            ok = decode_suback(version_, true, body, out.suback, error);
            break;
        case PacketType::pingresp:
            ok = body.empty();
            if (!ok) {
                error = malformed("PINGRESP with a body");
            }
            break;
        case PacketType::disconnect:
            if (version_ == Version::v311) {
                error = protocol("a broker never sends DISCONNECT in MQTT 3.1.1");
                break;
            }
            ok = decode_disconnect(body, out.disconnect, error);
            break;
        case PacketType::auth:
            if (version_ == Version::v311) {
                error = protocol("AUTH does not exist in MQTT 3.1.1");
                break;
            }
            ok = decode_auth(body, out.auth, error);
            break;
        case PacketType::pubrec:
        case PacketType::pubrel:
        case PacketType::pubcomp:
            error = protocol("QoS 2 flow on a client that never asked for QoS 2");
            break;
        case PacketType::connect:
        case PacketType::subscribe:
        case PacketType::unsubscribe:
        case PacketType::pingreq:
            error = protocol("a packet only a client sends");
            break;
        default:
            error = malformed("packet type 0");
            break;
    }
    if (!ok) {
        need_ = 0;
        return DecodeStatus::error;
    }
    need_ = 0;
    return DecodeStatus::packet;
}

}  // namespace edgeflow::mqtt
