// MQTT 5 properties (MQTT 5.0 section 2.2.2.2): the type of each identifier and which packets
// may carry it. Internal to the codec.
#pragma once

#include <cstdint>
#include <string_view>

#include "io/mqtt/codec/codec.h"

namespace edgeflow::mqtt::properties {

enum class Type : std::uint8_t { none, byte, u16, u32, varint, string, binary, pair };

inline constexpr std::uint8_t payload_format = 0x01;
inline constexpr std::uint8_t message_expiry = 0x02;
inline constexpr std::uint8_t content_type = 0x03;
inline constexpr std::uint8_t response_topic = 0x08;
inline constexpr std::uint8_t correlation_data = 0x09;
inline constexpr std::uint8_t subscription_identifier = 0x0B;
inline constexpr std::uint8_t session_expiry = 0x11;
inline constexpr std::uint8_t assigned_client_id = 0x12;
inline constexpr std::uint8_t server_keep_alive = 0x13;
inline constexpr std::uint8_t authentication_method = 0x15;
inline constexpr std::uint8_t authentication_data = 0x16;
inline constexpr std::uint8_t request_problem_information = 0x17;
inline constexpr std::uint8_t will_delay = 0x18;
inline constexpr std::uint8_t request_response_information = 0x19;
inline constexpr std::uint8_t response_information = 0x1A;
inline constexpr std::uint8_t server_reference = 0x1C;
inline constexpr std::uint8_t reason_string = 0x1F;
inline constexpr std::uint8_t receive_maximum = 0x21;
inline constexpr std::uint8_t topic_alias_maximum = 0x22;
inline constexpr std::uint8_t topic_alias = 0x23;
inline constexpr std::uint8_t maximum_qos = 0x24;
inline constexpr std::uint8_t retain_available = 0x25;
inline constexpr std::uint8_t user_property = 0x26;
inline constexpr std::uint8_t maximum_packet_size = 0x27;
inline constexpr std::uint8_t wildcard_subscription_available = 0x28;
inline constexpr std::uint8_t subscription_identifiers_available = 0x29;
inline constexpr std::uint8_t shared_subscription_available = 0x2A;

constexpr Type type_of(std::uint8_t id) noexcept {
    switch (id) {
        case payload_format:
        case request_problem_information:
        case request_response_information:
        case maximum_qos:
        case retain_available:
        case wildcard_subscription_available:
        case subscription_identifiers_available:
        case shared_subscription_available:
            return Type::byte;
        case server_keep_alive:
        case receive_maximum:
        case topic_alias_maximum:
        case topic_alias:
            return Type::u16;
        case message_expiry:
        case session_expiry:
        case will_delay:
        case maximum_packet_size:
            return Type::u32;
        case subscription_identifier:
            return Type::varint;
        case content_type:
        case response_topic:
        case assigned_client_id:
        case authentication_method:
        case response_information:
        case server_reference:
        case reason_string:
            return Type::string;
        case correlation_data:
        case authentication_data:
            return Type::binary;
        case user_property:
            return Type::pair;
        default:
            return Type::none;
    }
}

constexpr std::uint64_t bit(std::uint8_t id) noexcept {
    return std::uint64_t{1} << id;
}

/// The properties each received packet may carry.
inline constexpr std::uint64_t connack_allowed =
    bit(session_expiry) | bit(assigned_client_id) | bit(server_keep_alive) |
    bit(authentication_method) | bit(authentication_data) | bit(response_information) |
    bit(server_reference) | bit(reason_string) | bit(receive_maximum) |
    bit(topic_alias_maximum) | bit(maximum_qos) | bit(retain_available) | bit(user_property) |
    bit(maximum_packet_size) | bit(wildcard_subscription_available) |
    bit(subscription_identifiers_available) | bit(shared_subscription_available);
inline constexpr std::uint64_t publish_allowed =
    bit(payload_format) | bit(message_expiry) | bit(content_type) | bit(response_topic) |
    bit(correlation_data) | bit(subscription_identifier) | bit(topic_alias) | bit(user_property);
inline constexpr std::uint64_t ack_allowed = bit(reason_string) | bit(user_property);
inline constexpr std::uint64_t disconnect_allowed =
    bit(session_expiry) | bit(server_reference) | bit(reason_string) | bit(user_property);
inline constexpr std::uint64_t auth_allowed = bit(authentication_method) |
                                              bit(authentication_data) | bit(reason_string) |
                                              bit(user_property);
/// The two that may appear more than once.
inline constexpr std::uint64_t repeatable = bit(user_property) | bit(subscription_identifier);

/// One property read from a block.
struct Property {
    std::uint8_t id = 0;
    std::uint32_t number = 0;  ///< byte, u16, u32 and varint values
    std::string_view first;    ///< string and binary values; a pair's key
    std::string_view second;   ///< a pair's value
};

enum class ReadResult : std::uint8_t { ok, malformed, invalid_string };

/// Reads one property from the front of `block`.
ReadResult read_one(std::string_view& block, Property& out) noexcept;

}  // namespace edgeflow::mqtt::properties
