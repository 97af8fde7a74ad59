// The encode_* functions and WriteBuffer. Each packet body is written by one template run
// twice: once with a counting sink for the lengths MQTT puts in front (remaining length,
// property length), once into the WriteBuffer, so sizes and bytes cannot disagree.
#include <algorithm>
#include <cstring>

#include "io/mqtt/codec/codec.h"
#include "io/mqtt/codec/wire.h"

namespace edgeflow::mqtt {
namespace {

/// Counts the bytes the WriteBuffer calls would append.
struct CountingSink {
    std::size_t n = 0;
    void put_u8(std::uint8_t) noexcept { n += 1; }
    void put_u16(std::uint16_t) noexcept { n += 2; }
    void put_u32(std::uint32_t) noexcept { n += 4; }
    void put_varint(std::uint32_t v) noexcept { n += wire::varint_size(v); }
    void put_string(std::string_view s) noexcept {
        n += 2 + std::min<std::size_t>(s.size(), 65535);
    }
    void append(std::string_view s) noexcept { n += s.size(); }
};

template <typename Write>
std::size_t counted(Write&& write) {
    CountingSink sink;
    write(sink);
    return sink.n;
}

template <typename Sink>
void user_property_list(Sink& s, std::span<const UserPropertyView> properties) {
    for (const auto& p : properties) {
        s.put_u8(0x26);
        s.put_string(p.key);
        s.put_string(p.value);
    }
}

/// Fixed header, then a body of known length written by `body(sink)`.
template <typename Body>
void packet(WriteBuffer& out, std::uint8_t first, Body&& body) {
    const std::size_t length = counted(body);
    out.put_u8(first);
    out.put_varint(static_cast<std::uint32_t>(length));
    body(out);
}

/// Property length, then the properties written by `properties(sink)`.
template <typename Sink, typename Properties>
void property_block(Sink& s, Properties&& properties) {
    s.put_varint(static_cast<std::uint32_t>(counted(properties)));
    properties(s);
}

template <typename Sink>
void publish_properties(Sink& s, const PublishOptions& p) {
    if (p.payload_format) {
        s.put_u8(0x01);
        s.put_u8(*p.payload_format);
    }
    if (p.message_expiry) {
        s.put_u8(0x02);
        s.put_u32(*p.message_expiry);
    }
    if (p.topic_alias != 0) {
        s.put_u8(0x23);
        s.put_u16(p.topic_alias);
    }
    if (!p.response_topic.empty()) {
        s.put_u8(0x08);
        s.put_string(p.response_topic);
    }
    if (!p.correlation_data.empty()) {
        s.put_u8(0x09);
        s.put_string(p.correlation_data);
    }
    if (!p.content_type.empty()) {
        s.put_u8(0x03);
        s.put_string(p.content_type);
    }
    user_property_list(s, p.user_properties);
}

template <typename Sink>
void publish_body(Sink& s, Version version, const PublishOptions& p) {
    s.put_string(p.topic);
    if (p.qos > 0) {
        s.put_u16(p.packet_id);
    }
    if (version == Version::v5) {
        property_block(s, [&](auto& sink) { publish_properties(sink, p); });
    }
    s.append(p.payload);
}

std::uint8_t publish_first_byte(const PublishOptions& p) noexcept {
    return static_cast<std::uint8_t>(0x30u | (p.dup ? 8u : 0u) | ((p.qos & 3u) << 1) |
                                     (p.retain ? 1u : 0u));
}

template <typename Sink>
void connect_properties(Sink& s, const ConnectOptions& c) {
    // Each property is sent only when it differs from the value a broker assumes without it.
    if (c.session_expiry != 0) {
        s.put_u8(0x11);
        s.put_u32(c.session_expiry);
    }
    if (c.receive_maximum != 65535) {
        s.put_u8(0x21);
        s.put_u16(c.receive_maximum);
    }
    if (c.maximum_packet_size != 0) {
        s.put_u8(0x27);
        s.put_u32(c.maximum_packet_size);
    }
    if (c.topic_alias_maximum != 0) {
        s.put_u8(0x22);
        s.put_u16(c.topic_alias_maximum);
    }
    if (!c.request_problem_information) {
        s.put_u8(0x17);
        s.put_u8(0);
    }
    user_property_list(s, c.user_properties);
    if (!c.authentication_method.empty()) {
        s.put_u8(0x15);
        s.put_string(c.authentication_method);
        if (!c.authentication_data.empty()) {
            s.put_u8(0x16);
            s.put_string(c.authentication_data);
        }
    }
}

template <typename Sink>
void connect_body(Sink& s, const ConnectOptions& c) {
    const bool will = !c.will_topic.empty();
    std::uint8_t flags = 0;
    if (!c.username.empty()) {
        flags |= 0x80u;
    }
    if (c.password) {
        flags |= 0x40u;
    }
    if (will) {
        flags |= static_cast<std::uint8_t>(0x04u | ((c.will_qos & 3u) << 3) |
                                           (c.will_retain ? 0x20u : 0u));
    }
    if (c.clean_start) {
        flags |= 0x02u;
    }
    s.put_string("MQTT");
    s.put_u8(static_cast<std::uint8_t>(c.version));
    s.put_u8(flags);
    s.put_u16(c.keep_alive);
    const bool v5 = c.version == Version::v5;
    if (v5) {
        property_block(s, [&](auto& sink) { connect_properties(sink, c); });
    }
    s.put_string(c.client_id);
    if (will) {
        if (v5) {
            s.put_varint(0);  // no will properties
        }
        s.put_string(c.will_topic);
        s.put_string(c.will_payload);
    }
    if (!c.username.empty()) {
        s.put_string(c.username);
    }
    if (c.password) {
        s.put_string(*c.password);
    }
}

}  // namespace

void WriteBuffer::put_u16(std::uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v & 0xFFu)};
    append(b, 2);
}

void WriteBuffer::put_u32(std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFFu),
                       static_cast<char>((v >> 8) & 0xFFu), static_cast<char>(v & 0xFFu)};
    append(b, 4);
}

void WriteBuffer::put_varint(std::uint32_t v) {
    char b[4];
    std::size_t n = 0;
    do {
        auto byte = static_cast<std::uint8_t>(v & 0x7Fu);
        v >>= 7;
        if (v != 0) {
            byte |= 0x80u;
        }
        b[n++] = static_cast<char>(byte);
    } while (v != 0 && n < 4);
    append(b, n);
}

void WriteBuffer::put_string(std::string_view s) {
    // A field longer than a two-byte length can say is cut at 65,535 bytes, so the framing of
    // the packet stays intact; callers check lengths before they get here.
    const std::size_t n = std::min<std::size_t>(s.size(), 65535);
    put_u16(static_cast<std::uint16_t>(n));
    append(s.data(), n);
}

void WriteBuffer::consume(std::size_t n) noexcept {
    consumed_ += std::min(n, size());
    if (consumed_ == bytes_.size()) {
        bytes_.clear();  // the common case: everything written, nothing to move
        consumed_ = 0;
        return;
    }
    // Moving the tail costs its length; doing it only once the dead front is large and at
    // least half the buffer keeps the cost per byte constant and the buffer bounded.
    if (consumed_ >= 4096 && consumed_ * 2 >= bytes_.size()) {
        const std::size_t tail = bytes_.size() - consumed_;
        std::memmove(bytes_.data(), bytes_.data() + consumed_, tail);
        bytes_.resize(tail);
        consumed_ = 0;
    }
}

std::size_t publish_size(Version version, const PublishOptions& publish) noexcept {
    const std::size_t body = counted([&](auto& s) { publish_body(s, version, publish); });
    return 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body;
}

void encode_connect(WriteBuffer& out, const ConnectOptions& connect) {
    packet(out, 0x10, [&](auto& s) { connect_body(s, connect); });
}

void encode_publish(WriteBuffer& out, Version version, const PublishOptions& publish) {
    packet(out, publish_first_byte(publish), [&](auto& s) { publish_body(s, version, publish); });
}

void encode_puback(WriteBuffer& out, Version version, std::uint16_t packet_id,
                   std::uint8_t reason_code) {
    const bool with_reason = version == Version::v5 && reason_code != reason::success;
    out.put_u8(0x40);
    out.put_varint(with_reason ? 3 : 2);
    out.put_u16(packet_id);
    if (with_reason) {
        out.put_u8(reason_code);  // no properties: Remaining Length 3 (MQTT 5 3.4.2.2)
    }
}

void encode_subscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                      std::span<const Subscription> subscriptions,
                      std::uint32_t subscription_identifier) {
    packet(out, 0x82, [&](auto& s) {
        s.put_u16(packet_id);
        if (version == Version::v5) {
            property_block(s, [&](auto& sink) {
                if (subscription_identifier != 0) {
                    sink.put_u8(0x0B);
                    sink.put_varint(subscription_identifier);
                }
            });
        }
        for (const auto& sub : subscriptions) {
            s.put_string(sub.filter);
            std::uint8_t options = sub.qos & 3u;
            if (version == Version::v5) {
                options |= static_cast<std::uint8_t>((sub.no_local ? 4u : 0u) |
                                                     (sub.retain_as_published ? 8u : 0u) |
                                                     ((sub.retain_handling & 3u) << 4));
            }
            s.put_u8(options);
        }
    });
}

void encode_unsubscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                        std::span<const std::string_view> filters) {
    packet(out, 0xA2, [&](auto& s) {
        s.put_u16(packet_id);
        if (version == Version::v5) {
            s.put_varint(0);
        }
        for (const auto filter : filters) {
            s.put_string(filter);
        }
    });
}

void encode_pingreq(WriteBuffer& out) {
    out.put_u8(0xC0);
    out.put_u8(0);
}

void encode_disconnect(WriteBuffer& out, Version version, std::uint8_t reason_code,
                       std::optional<std::uint32_t> session_expiry,
                       std::string_view reason_string) {
    if (version == Version::v311 ||
        (reason_code == 0 && !session_expiry && reason_string.empty())) {
        out.put_u8(0xE0);
        out.put_u8(0);
        return;
    }
    packet(out, 0xE0, [&](auto& s) {
        s.put_u8(reason_code);
        property_block(s, [&](auto& sink) {
            if (session_expiry) {
                sink.put_u8(0x11);
                sink.put_u32(*session_expiry);
            }
            if (!reason_string.empty()) {
                sink.put_u8(0x1F);
                sink.put_string(reason_string);
            }
        });
    });
}

void encode_auth(WriteBuffer& out, std::uint8_t reason_code, std::string_view method,
                 std::string_view data) {
    if (reason_code == 0 && method.empty() && data.empty()) {
        out.put_u8(0xF0);
        out.put_u8(0);
        return;
    }
    packet(out, 0xF0, [&](auto& s) {
        s.put_u8(reason_code);
        property_block(s, [&](auto& sink) {
            if (!method.empty()) {
                sink.put_u8(0x15);
                sink.put_string(method);
            }
            if (!data.empty()) {
                sink.put_u8(0x16);
                sink.put_string(data);
            }
        });
    });
}

}  // namespace edgeflow::mqtt
