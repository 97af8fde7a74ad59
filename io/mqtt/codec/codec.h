// The MQTT client codec: every packet a client sends, encoded; every packet a client receives,
// decoded. MQTT 3.1.1 and 5.0, QoS 0 and 1. No sockets, no threads, no clocks: the transport
// (io/mqtt/transport/) feeds bytes in and takes bytes out, so the codec is tested and fuzzed on
// its own.
//
// Decoding is zero-copy. A decoded packet's strings and payload are views into the caller's read
// buffer and stay valid until the caller moves or overwrites those bytes. User properties are
// not collected into a container: `user_properties` is the validated raw property block, walked
// with for_each_user_property(). Every malformed packet is a DecodeError carrying the MQTT 5
// reason code the client must send in its DISCONNECT.
//
// Encoding appends to a WriteBuffer whose capacity is kept between uses, so a warm connection
// encodes without allocating.
//
// The codec never acknowledges anything by itself: decoding a QoS 1 PUBLISH yields its packet id,
// and the owner decides when to encode the PUBACK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgeflow::mqtt {

enum class Version : std::uint8_t { v311 = 4, v5 = 5 };

enum class PacketType : std::uint8_t {
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
    auth = 15,
};

/// MQTT 5 reason codes this client sends or must recognise (MQTT 5.0 section 2.4).
namespace reason {
inline constexpr std::uint8_t success = 0x00;
inline constexpr std::uint8_t disconnect_with_will = 0x04;
inline constexpr std::uint8_t no_matching_subscribers = 0x10;
inline constexpr std::uint8_t continue_authentication = 0x18;
inline constexpr std::uint8_t reauthenticate = 0x19;
inline constexpr std::uint8_t unspecified_error = 0x80;
inline constexpr std::uint8_t malformed_packet = 0x81;
inline constexpr std::uint8_t protocol_error = 0x82;
inline constexpr std::uint8_t implementation_specific_error = 0x83;
inline constexpr std::uint8_t not_authorized = 0x87;
inline constexpr std::uint8_t bad_authentication_method = 0x8C;
inline constexpr std::uint8_t keep_alive_timeout = 0x8D;
inline constexpr std::uint8_t session_taken_over = 0x8E;
inline constexpr std::uint8_t topic_name_invalid = 0x90;
inline constexpr std::uint8_t receive_maximum_exceeded = 0x93;
inline constexpr std::uint8_t topic_alias_invalid = 0x94;
inline constexpr std::uint8_t packet_too_large = 0x95;
inline constexpr std::uint8_t quota_exceeded = 0x97;
inline constexpr std::uint8_t qos_not_supported = 0x9B;
}  // namespace reason

/// A short English name of an MQTT 5 reason code ("not authorized"), for logs.
std::string_view reason_text(std::uint8_t code) noexcept;
/// The text of a 3.1.1 CONNACK return code ("bad user name or password").
std::string_view connack_311_text(std::uint8_t code) noexcept;

/// The largest remaining length MQTT can express (four length bytes).
inline constexpr std::uint32_t max_remaining_length = 268'435'455;

struct UserPropertyView {
    std::string_view key;
    std::string_view value;
};

/// Calls `f(UserPropertyView)` for each user property in a property block the decoder already
/// validated (a PublishView's or another packet's `user_properties`).
template <typename F>
void for_each_user_property(std::string_view block, F&& f);

// ---- What the client receives -------------------------------------------------------------

struct ConnackView {
    bool session_present = false;
    std::uint8_t reason = 0;  ///< 3.1.1 return code or MQTT 5 reason code; 0 is accepted
    // MQTT 5 properties; absent ones keep the specification's defaults.
    std::optional<std::uint32_t> session_expiry;
    std::uint16_t receive_maximum = 65535;
    std::uint8_t maximum_qos = 2;
    bool retain_available = true;
    std::uint32_t maximum_packet_size = 0;  ///< 0: no limit
    std::string_view assigned_client_id;
    std::uint16_t topic_alias_maximum = 0;
    std::string_view reason_string;
    bool wildcard_subscription_available = true;
    bool subscription_identifiers_available = true;
    bool shared_subscription_available = true;
    std::optional<std::uint16_t> server_keep_alive;
    std::string_view response_information;
    std::string_view server_reference;
    std::string_view authentication_method;
    std::string_view authentication_data;
    std::string_view user_properties;
};

struct PublishView {
    std::string_view topic;  ///< after topic-alias resolution (InboundTopicAliases)
    std::string_view payload;
    std::uint16_t packet_id = 0;  ///< 0 at QoS 0
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    // MQTT 5 properties
    std::uint16_t topic_alias = 0;  ///< 0: none
    std::optional<std::uint8_t> payload_format;
    std::optional<std::uint32_t> message_expiry;
    std::string_view content_type;
    std::string_view response_topic;
    std::string_view correlation_data;
    std::string_view user_properties;
    /// Subscription identifiers, as the raw property block (rarely more than one).
    std::uint32_t subscription_identifier = 0;
};

/// PUBACK (and, in the 3.1.1 and QoS 2 cases the client rejects, the same shape).
struct AckView {
    std::uint16_t packet_id = 0;
    std::uint8_t reason = 0;
    std::string_view reason_string;
    std::string_view user_properties;
};

/// SUBACK and UNSUBACK: one reason code per filter, in order.
struct SubackView {
    std::uint16_t packet_id = 0;
    std::string_view reason_codes;  ///< one byte per filter
    std::string_view reason_string;
    std::string_view user_properties;
};

struct DisconnectView {
    std::uint8_t reason = 0;
    std::optional<std::uint32_t> session_expiry;
    std::string_view reason_string;
    std::string_view server_reference;
    std::string_view user_properties;
};

struct AuthView {
    std::uint8_t reason = 0;
    std::string_view authentication_method;
    std::string_view authentication_data;
    std::string_view reason_string;
    std::string_view user_properties;
};

struct Packet {
    PacketType type{};
    std::size_t size = 0;  ///< bytes of the read buffer this packet used (header included)
    ConnackView connack;
    PublishView publish;
    AckView ack;        ///< PUBACK
    SubackView suback;  ///< SUBACK, UNSUBACK
    DisconnectView disconnect;
    AuthView auth;
};

struct DecodeError {
    std::uint8_t reason = reason::malformed_packet;  ///< for the client's DISCONNECT
    std::string_view what;                           ///< static text, for logs
};

/// Inbound topic aliases (MQTT 5 3.3.2.3.4): the broker may send a PUBLISH with an alias and an
/// empty topic; the client resolves it from the alias's last full topic. Sized by the Topic Alias
/// Maximum the client sent in its CONNECT; reset on every new connection.
class InboundTopicAliases {
public:
    explicit InboundTopicAliases(std::uint16_t maximum = 0) { reset(maximum); }
    void reset(std::uint16_t maximum);
    std::uint16_t maximum() const noexcept { return static_cast<std::uint16_t>(topics_.size()); }
    /// Records `topic` for `alias` (when the topic is not empty) or looks it up; nullopt when the
    /// alias is 0, above the maximum, or unknown with an empty topic.
    std::optional<std::string_view> resolve(std::uint16_t alias, std::string_view topic);

private:
    std::vector<std::string> topics_;  ///< index alias - 1; capacity kept across reconnects
};

enum class DecodeStatus : std::uint8_t { packet, need_more, error };

/// Decodes packets a client receives, one at a time, from the front of a byte buffer.
class Decoder {
public:
    explicit Decoder(Version version = Version::v5) : version_(version) {}
    void set_version(Version version) noexcept { version_ = version; }
    Version version() const noexcept { return version_; }
    /// The Maximum Packet Size the client announced (0: none). Larger packets are an error
    /// (packet_too_large).
    void set_maximum_packet_size(std::uint32_t bytes) noexcept { maximum_packet_size_ = bytes; }
    InboundTopicAliases& aliases() noexcept { return aliases_; }

    /// Looks at the front of `bytes`. `packet`: `out` holds one packet of out.size bytes;
    /// `need_more`: `bytes` holds no whole packet yet (need() says how many bytes in all the
    /// next one takes, once its header is complete; 0 before); `error`: `error` says why.
    DecodeStatus next(std::string_view bytes, Packet& out, DecodeError& error);
    /// Total bytes the packet at the front needs, known after a need_more with a whole fixed
    /// header; 0 otherwise.
    std::size_t need() const noexcept { return need_; }

private:
    Version version_;
    std::uint32_t maximum_packet_size_ = 0;
    std::size_t need_ = 0;
    InboundTopicAliases aliases_;
};

// ---- What the client sends ----------------------------------------------------------------

/// Bytes waiting to be written. Append-only between flushes; the transport consumes from the
/// front. Capacity is kept, so a warm connection does not allocate.
class WriteBuffer {
public:
    void append(const char* data, std::size_t n) { bytes_.insert(bytes_.end(), data, data + n); }
    void append(std::string_view s) { append(s.data(), s.size()); }
    void put_u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
    void put_u16(std::uint16_t v);
    void put_u32(std::uint32_t v);
    void put_varint(std::uint32_t v);
    /// A two-byte-length-prefixed UTF-8 string or binary field.
    void put_string(std::string_view s);

    std::string_view pending() const noexcept {
        return {bytes_.data() + consumed_, bytes_.size() - consumed_};
    }
    std::size_t size() const noexcept { return bytes_.size() - consumed_; }
    bool empty() const noexcept { return size() == 0; }
    /// Drops `n` written bytes from the front.
    void consume(std::size_t n) noexcept;
    void clear() noexcept {
        bytes_.clear();
        consumed_ = 0;
    }

private:
    std::vector<char> bytes_;
    std::size_t consumed_ = 0;
};

struct ConnectOptions {
    Version version = Version::v5;
    std::string_view client_id;
    bool clean_start = true;
    std::uint16_t keep_alive = 30;
    std::string_view username;  ///< empty: none
    std::optional<std::string_view> password;
    // MQTT 5
    std::uint32_t session_expiry = 0;
    std::uint16_t receive_maximum = 65535;
    std::uint32_t maximum_packet_size = 0;  ///< 0: not sent (no limit)
    std::uint16_t topic_alias_maximum = 0;
    bool request_problem_information = true;
    std::string_view authentication_method;  ///< empty: none
    std::string_view authentication_data;
    std::span<const UserPropertyView> user_properties;
    // Will message (optional)
    std::string_view will_topic;  ///< empty: no will
    std::string_view will_payload;
    std::uint8_t will_qos = 0;
    bool will_retain = false;
};

/// One outgoing PUBLISH. `user_properties` are MQTT 5 only.
struct PublishOptions {
    std::string_view topic;  ///< empty when sending an alias already set on this connection
    std::string_view payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;  ///< required at QoS 1
    // MQTT 5
    std::uint16_t topic_alias = 0;
    std::optional<std::uint8_t> payload_format;
    std::optional<std::uint32_t> message_expiry;
    std::string_view content_type;
    std::string_view response_topic;
    std::string_view correlation_data;
    std::span<const UserPropertyView> user_properties;
};

struct Subscription {
    std::string_view filter;  ///< may be $share/<group>/<filter>
    std::uint8_t qos = 1;
    bool no_local = false;             ///< MQTT 5
    bool retain_as_published = false;  ///< MQTT 5
    std::uint8_t retain_handling = 0;  ///< MQTT 5: 0 send, 1 only for new, 2 never
};

/// Size of a PUBLISH once encoded, header included; compare with the broker's Maximum Packet
/// Size before encoding.
std::size_t publish_size(Version version, const PublishOptions& publish) noexcept;

void encode_connect(WriteBuffer& out, const ConnectOptions& connect);
void encode_publish(WriteBuffer& out, Version version, const PublishOptions& publish);
/// PUBACK; on MQTT 5 a success reason is sent as the two-byte short form.
void encode_puback(WriteBuffer& out, Version version, std::uint16_t packet_id,
                   std::uint8_t reason_code = reason::success);
/// The subscription identifier (MQTT 5) is sent when not 0.
void encode_subscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                      std::span<const Subscription> subscriptions,
                      std::uint32_t subscription_identifier = 0);
void encode_unsubscribe(WriteBuffer& out, Version version, std::uint16_t packet_id,
                        std::span<const std::string_view> filters);
void encode_pingreq(WriteBuffer& out);
/// On 3.1.1 only the two-byte packet is sent; reason and properties are MQTT 5.
void encode_disconnect(WriteBuffer& out, Version version, std::uint8_t reason_code = 0,
                       std::optional<std::uint32_t> session_expiry = std::nullopt,
                       std::string_view reason_string = {});
void encode_auth(WriteBuffer& out, std::uint8_t reason_code, std::string_view method,
                 std::string_view data);

/// Outbound topic aliases (MQTT 5): the first `maximum` distinct topics a connection publishes
/// get an alias each (the broker's Topic Alias Maximum from its CONNACK); the first PUBLISH with
/// a topic sends topic and alias, later ones the alias and an empty topic. Topics past the
/// maximum go without an alias. Reset on every new connection.
class OutboundTopicAliases {
public:
    void reset(std::uint16_t maximum);
    struct Use {
        std::uint16_t alias = 0;  ///< 0: send the topic without an alias
        bool send_topic = true;   ///< false once the broker knows the alias
    };
    Use use(std::string_view topic);

private:
    /// Hashes std::string and std::string_view alike, so use() looks up without a copy.
    struct TopicHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::uint16_t maximum_ = 0;
    // topic -> alias; a hash map, as a broker may allow thousands of aliases
    std::unordered_map<std::string, std::uint16_t, TopicHash, std::equal_to<>> aliases_;
};

namespace detail {
/// Reads one property identifier and skips its value; false at a malformed block (which a
/// block from the decoder never is).
bool next_property(std::string_view& block, std::uint8_t& id, std::string_view& first,
                   std::string_view& second) noexcept;
}  // namespace detail

template <typename F>
void for_each_user_property(std::string_view block, F&& f) {
    std::uint8_t id = 0;
    std::string_view first;
    std::string_view second;
    while (!block.empty() && detail::next_property(block, id, first, second)) {
        if (id == 0x26) {
            f(UserPropertyView{first, second});
        }
    }
}

}  // namespace edgeflow::mqtt
