#include <cstring>

#include "io/mqtt/codec/codec.h"
#include "io/mqtt/codec/properties.h"

namespace edgeflow::mqtt {
namespace {

namespace prop = properties;

constexpr std::size_t varint_size(std::uint32_t v) noexcept {
    return v < 128 ? 1 : v < 16'384 ? 2 : v < 2'097'152 ? 3 : 4;
}

constexpr std::size_t string_size(std::string_view s) noexcept {
    return 2 + s.size();
}

std::size_t user_properties_size(std::span<const UserPropertyView> list) noexcept {
    std::size_t n = 0;
    for (const auto& p : list) {
        n += 1 + string_size(p.key) + string_size(p.value);
    }
    return n;
}

void put_user_properties(WriteBuffer& out, std::span<const UserPropertyView> list) {
    for (const auto& p : list) {
        out.put_u8(prop::user_property);
        out.put_string(p.key);
        out.put_string(p.value);
    }
}

std::size_t publish_properties_size(const PublishOptions& p) noexcept {
    std::size_t n = 0;
    n += p.topic_alias != 0 ? 3 : 0;
    n += p.payload_format ? 2 : 0;
    n += p.message_expiry ? 5 : 0;
    n += p.content_type.empty() ? 0 : 1 + string_size(p.content_type);
    n += p.response_topic.empty() ? 0 : 1 + string_size(p.response_topic);
    n += p.correlation_data.empty() ? 0 : 1 + string_size(p.correlation_data);
    n += user_properties_size(p.user_properties);
    return n;
}

std::size_t publish_remaining(Version version, const PublishOptions& p,
                              std::size_t& properties) noexcept {
    std::size_t n = string_size(p.topic) + (p.qos > 0 ? 2 : 0) + p.payload.size();
    properties = 0;
    if (version == Version::v5) {
        properties = publish_properties_size(p);
        n += varint_size(static_cast<std::uint32_t>(properties)) + properties;
    }
    return n;
}

}  // namespace

void WriteBuffer::put_u16(std::uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
    append(b, 2);
}

void WriteBuffer::put_u32(std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
                       static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
    append(b, 4);
}

void WriteBuffer::put_varint(std::uint32_t v) {
    do {
        auto byte = static_cast<std::uint8_t>(v & 0x7F);
        v >>= 7;
        if (v != 0) {
            byte |= 0x80;
        }
        put_u8(byte);
    } while (v != 0);
}

void WriteBuffer::put_string(std::string_view s) {
    put_u16(static_cast<std::uint16_t>(s.size()));
    append(s);
}

void WriteBuffer::consume(std::size_t n) noexcept {
    consumed_ += n;
    if (consumed_ >= bytes_.size()) {
        bytes_.clear();
        consumed_ = 0;
    } else if (consumed_ > 64 * 1024 && consumed_ * 2 > bytes_.size()) {
        // A long partial write: move the tail down rather than let the front grow without end.
        std::memmove(bytes_.data(), bytes_.data() + consumed_, bytes_.size() - consumed_);
        bytes_.resize(bytes_.size() - consumed_);
        consumed_ = 0;
    }
}

std::size_t publish_size(Version version, const PublishOptions& publish) noexcept {
    std::size_t properties = 0;
    const std::size_t remaining = publish_remaining(version, publish, properties);
    return 1 + varint_size(static_cast<std::uint32_t>(remaining)) + remaining;
}

void encode_connect(WriteBuffer& out, const ConnectOptions& c) {
    const bool v5 = c.version == Version::v5;
    const bool will = !c.will_topic.empty();
    std::size_t properties = 0;
    if (v5) {
        properties += c.session_expiry != 0 ? 5 : 0;
        properties += c.receive_maximum != 65535 ? 3 : 0;
        properties += c.maximum_packet_size != 0 ? 5 : 0;
        properties += c.topic_alias_maximum != 0 ? 3 : 0;
        properties += c.request_problem_information ? 0 : 2;
        properties += c.authentication_method.empty() ? 0 : 1 + string_size(c.authentication_method);
        properties += c.authentication_data.empty() ? 0 : 1 + string_size(c.authentication_data);
        properties += user_properties_size(c.user_properties);
    }
    std::size_t remaining = string_size("MQTT") + 1 + 1 + 2;  // name, level, flags, keep alive
    if (v5) {
        remaining += varint_size(static_cast<std::uint32_t>(properties)) + properties;
    }
    remaining += string_size(c.client_id);
    if (will) {
        if (v5) {
            remaining += 1;  // an empty will property block
        }
        remaining += string_size(c.will_topic) + string_size(c.will_payload);
    }
    if (!c.username.empty()) {
        remaining += string_size(c.username);
    }
    if (c.password) {
        remaining += string_size(*c.password);
    }
    std::uint8_t flags = 0;
    flags |= c.clean_start ? 0x02 : 0;
    if (will) {
        flags |= 0x04 | static_cast<std::uint8_t>((c.will_qos & 0x03) << 3) |
                 (c.will_retain ? 0x20 : 0);
    }
    flags |= c.password ? 0x40 : 0;
    flags |= c.username.empty() ? 0 : 0x80;

    out.put_u8(0x10);
    out.put_varint(static_cast<std::uint32_t>(remaining));
    out.put_string("MQTT");
    out.put_u8(static_cast<std::uint8_t>(c.version));
    out.put_u8(flags);
    out.put_u16(c.keep_alive);
    if (v5) {
        out.put_varint(static_cast<std::uint32_t>(properties));
        if (c.session_expiry != 0) {
            out.put_u8(prop::session_expiry);
            out.put_u32(c.session_expiry);
        }
        if (c.receive_maximum != 65535) {
            out.put_u8(prop::receive_maximum);
            out.put_u16(c.receive_maximum);
        }
        if (c.maximum_packet_size != 0) {
            out.put_u8(prop::maximum_packet_size);
            out.put_u32(c.maximum_packet_size);
        }
        if (c.topic_alias_maximum != 0) {
            out.put_u8(prop::topic_alias_maximum);
            out.put_u16(c.topic_alias_maximum);
        }
        if (!c.request_problem_information) {
            out.put_u8(prop::request_problem_information);
            out.put_u8(0);
        }
        if (!c.authentication_method.empty()) {
            out.put_u8(prop::authentication_method);
            out.put_string(c.authentication_method);
        }
        if (!c.authentication_data.empty()) {
            out.put_u8(prop::authentication_data);
            out.put_string(c.authentication_data);
        }
        put_user_properties(out, c.user_properties);
    }
    out.put_string(c.client_id);
    if (will) {
        if (v5) {
            out.put_varint(0);
        }
        out.put_string(c.will_topic);
        out.put_string(c.will_payload);
    }
    if (!c.username.empty()) {
        out.put_string(c.username);
    }
    if (c.password) {
        out.put_string(*c.password);
    }
}

void encode_publish(WriteBuffer& out, Version version, const PublishOptions& p) {
    std::size_t properties = 0;
    const std::size_t remaining = publish_remaining(version, p, properties);
    out.put_u8(static_cast<std::uint8_t>(0x30 | (p.dup ? 0x08 : 0) | ((p.qos & 0x03) << 1) |
                                         (p.retain ? 0x01 : 0)));
    out.put_varint(static_cast<std::uint32_t>(remaining));
    out.put_string(p.topic);
    if (p.qos > 0) {
        out.put_u16(p.packet_id);
    }
    if (version == Version::v5) {
        out.put_varint(static_cast<std::uint32_t>(properties));
        if (p.payload_format) {
            out.put_u8(prop::payload_format);
            out.put_u8(*p.payload_format);
        }
        if (p.message_expiry) {
            out.put_u8(prop::message_expiry);
            out.put_u32(*p.message_expiry);
        }
        if (!p.content_type.empty()) {
            out.put_u8(prop::content_type);
            out.put_string(p.content_type);
        }
        if (!p.response_topic.empty()) {
            out.put_u8(prop::response_topic);
            out.put_string(p.response_topic);
        }
        if (!p.correlation_data.empty()) {
            out.put_u8(prop::correlation_data);
            out.put_string(p.correlation_data);
        }
        if (p.topic_alias != 0) {
            out.put_u8(prop::topic_alias);
            out.put_u16(p.topic_alias);
        }
        put_user_properties(out, p.user_properties);
    }
    out.append(p.payload);
}

void encode_puback(WriteBuffer& out, Version version, std::uint16_t packet_id,
                   std::uint8_t reason_code) {
    if (version == Version::v5 && reason_code != reason::success) {
        out.put_u8(0x40);
        out.put_u8(3);
        out.put_u16(packet_id);
        out.put_u8(reason_code);
        return;
    }
    out.put_u8(0x40);
    out.put_u8(2);
    out.put_u16(packet_id);
}

void encode_subscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                      std::span<const Subscription> subscriptions,
                      std::uint32_t subscription_identifier) {
    const bool v5 = version == Version::v5;
    std::size_t properties = 0;
    if (v5 && subscription_identifier != 0) {
        properties = 1 + varint_size(subscription_identifier);
    }
    std::size_t remaining = 2;
    if (v5) {
        remaining += varint_size(static_cast<std::uint32_t>(properties)) + properties;
    }
    for (const auto& s : subscriptions) {
        remaining += string_size(s.filter) + 1;
    }
    out.put_u8(0x82);  // SUBSCRIBE's fixed-header flags are 0010
    out.put_varint(static_cast<std::uint32_t>(remaining));
    out.put_u16(packet_id);
    if (v5) {
        out.put_varint(static_cast<std::uint32_t>(properties));
        if (subscription_identifier != 0) {
            out.put_u8(prop::subscription_identifier);
            out.put_varint(subscription_identifier);
        }
    }
    for (const auto& s : subscriptions) {
        out.put_string(s.filter);
        std::uint8_t options = s.qos & 0x03;
        if (v5) {
            options |= static_cast<std::uint8_t>((s.no_local ? 0x04 : 0) |
                                                 (s.retain_as_published ? 0x08 : 0) |
                                                 ((s.retain_handling & 0x03) << 4));
        }
        out.put_u8(options);
    }
}

void encode_unsubscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                        std::span<const std::string_view> filters) {
    std::size_t remaining = 2 + (version == Version::v5 ? 1 : 0);
    for (const auto f : filters) {
        remaining += string_size(f);
    }
    out.put_u8(0xA2);  // UNSUBSCRIBE's fixed-header flags are 0010
    out.put_varint(static_cast<std::uint32_t>(remaining));
    out.put_u16(packet_id);
    if (version == Version::v5) {
        out.put_varint(0);
    }
    for (const auto f : filters) {
        out.put_string(f);
    }
}

void encode_pingreq(WriteBuffer& out) {
    out.put_u8(0xC0);
    out.put_u8(0);
}

void encode_disconnect(WriteBuffer& out, Version version, std::uint8_t reason_code,
                       std::optional<std::uint32_t> session_expiry,
                       std::string_view reason_string) {
    if (version == Version::v311) {
        out.put_u8(0xE0);
        out.put_u8(0);
        return;
    }
    std::size_t properties = (session_expiry ? 5 : 0) +
                             (reason_string.empty() ? 0 : 1 + string_size(reason_string));
    if (reason_code == reason::success && properties == 0) {
        out.put_u8(0xE0);
        out.put_u8(0);
        return;
    }
    out.put_u8(0xE0);
    out.put_varint(static_cast<std::uint32_t>(1 + varint_size(static_cast<std::uint32_t>(properties)) +
                                              properties));
    out.put_u8(reason_code);
    out.put_varint(static_cast<std::uint32_t>(properties));
    if (session_expiry) {
        out.put_u8(prop::session_expiry);
        out.put_u32(*session_expiry);
    }
    if (!reason_string.empty()) {
        out.put_u8(prop::reason_string);
        out.put_string(reason_string);
    }
}

void encode_auth(WriteBuffer& out, std::uint8_t reason_code, std::string_view method,
                 std::string_view data) {
    const std::size_t properties = (method.empty() ? 0 : 1 + string_size(method)) +
                                   (data.empty() ? 0 : 1 + string_size(data));
    out.put_u8(0xF0);
    out.put_varint(static_cast<std::uint32_t>(1 + varint_size(static_cast<std::uint32_t>(properties)) +
                                              properties));
    out.put_u8(reason_code);
    out.put_varint(static_cast<std::uint32_t>(properties));
    if (!method.empty()) {
        out.put_u8(prop::authentication_method);
        out.put_string(method);
    }
    if (!data.empty()) {
        out.put_u8(prop::authentication_data);
        out.put_string(data);
    }
}

void OutboundTopicAliases::reset(std::uint16_t maximum) {
    maximum_ = maximum;
    aliases_.clear();
}

OutboundTopicAliases::Use OutboundTopicAliases::use(std::string_view topic) {
    if (maximum_ == 0) {
        return {};
    }
    if (const auto found = aliases_.find(topic); found != aliases_.end()) {
        return {found->second, false};
    }
    if (aliases_.size() >= maximum_) {
        return {};  // every alias is taken: this topic goes in full
    }
    const auto alias = static_cast<std::uint16_t>(aliases_.size() + 1);
    aliases_.emplace(std::string(topic), alias);
    return {alias, true};
}

}  // namespace edgeflow::mqtt
