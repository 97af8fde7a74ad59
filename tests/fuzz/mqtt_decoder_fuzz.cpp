// Fuzz target of the MQTT decoder: the input is a byte stream from a broker, decoded packet by
// packet in both protocol versions, with a small maximum packet size and a topic alias table so
// those paths are reached. Every view of a decoded packet is read, so a view outside the input
// shows up under AddressSanitizer; the decoder's own promises are checked with __builtin_trap.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/mqtt/codec/codec.h"

namespace {

using namespace edgeflow::mqtt;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

/// Reads every byte of `s` so that an out-of-bounds view is an ASan report, not a silent pass.
std::size_t touch(std::string_view s) {
    std::size_t sum = 0;
    for (char c : s) {
        sum += static_cast<unsigned char>(c);
    }
    return sum;
}

std::size_t walk(std::string_view block) {
    std::size_t sum = 0;
    for_each_user_property(block,
                           [&](UserPropertyView u) { sum += touch(u.key) + touch(u.value); });
    return sum;
}

std::size_t touch_packet(const Packet& p) {
    switch (p.type) {
        case PacketType::connack:
            return walk(p.connack.user_properties) + touch(p.connack.assigned_client_id) +
                   touch(p.connack.reason_string) + touch(p.connack.response_information) +
                   touch(p.connack.server_reference) + touch(p.connack.authentication_method) +
                   touch(p.connack.authentication_data);
        case PacketType::publish:
            check(p.publish.qos <= 2);
            check(p.publish.qos == 0 || p.publish.packet_id != 0);
            check(!p.publish.topic.empty());
            return walk(p.publish.user_properties) + touch(p.publish.topic) +
                   touch(p.publish.payload) + touch(p.publish.content_type) +
                   touch(p.publish.response_topic) + touch(p.publish.correlation_data);
        case PacketType::puback:
            return walk(p.ack.user_properties) + touch(p.ack.reason_string);
        case PacketType::suback:
        case PacketType::unsuback:
            return walk(p.suback.user_properties) + touch(p.suback.reason_codes) +
                   touch(p.suback.reason_string);
        case PacketType::disconnect:
            return walk(p.disconnect.user_properties) + touch(p.disconnect.reason_string) +
                   touch(p.disconnect.server_reference);
        case PacketType::auth:
            return walk(p.auth.user_properties) + touch(p.auth.authentication_method) +
                   touch(p.auth.authentication_data) + touch(p.auth.reason_string);
        default:
            return 0;
    }
}

void decode_stream(Version version, std::string_view bytes) {
    Decoder decoder(version);
    decoder.set_maximum_packet_size(1024);
    decoder.aliases().reset(4);
    Packet packet;
    DecodeError error;
    std::size_t sum = 0;
    for (;;) {
        const DecodeStatus status = decoder.next(bytes, packet, error);
        if (status == DecodeStatus::error) {
            check(!error.what.empty() && error.reason >= 0x80);
            break;
        }
        if (status == DecodeStatus::need_more) {
            check(decoder.need() == 0 || decoder.need() > bytes.size());
            check(decoder.need() <= 1024);
            break;
        }
        check(packet.size >= 2 && packet.size <= bytes.size());
        sum += touch_packet(packet);
        bytes.remove_prefix(packet.size);
    }
    // Keeps the reads from being optimised away.
    volatile std::size_t sink = sum;
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    decode_stream(Version::v5, bytes);
    decode_stream(Version::v311, bytes);
    return 0;
}
