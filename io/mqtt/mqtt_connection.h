// MqttConnection: one MQTT client connection, kept up by an event loop of its own.
//
// The connection's thread (`ef-mqtt-N`) runs the loop: epoll over the socket and an eventfd.
// Each turn reads everything the socket holds into one buffer (64 KiB, more for a larger
// packet), decodes every whole packet in it with the codec (io/mqtt/codec/codec.h) and hands
// each PUBLISH to the owner as a view into that buffer. What the turn produced (PUBACKs, queued
// publishes, a PINGREQ) goes out in one write. Plain TCP or TLS (OpenSSL).
//
// After the CONNACK the owner's on_connected step runs (subscribe). A lost connection is
// reconnected with capped exponential backoff and jitter (initial_delay_ms doubling up to
// max_delay_ms, each wait between half and all of it, so many clients do not return at once);
// QoS 1 publishes not yet acknowledged are sent again in their order (with DUP when the broker
// kept the session). Every outage is logged when it starts and ends and counted.
//
// Publishing, from any thread: publish() stores the message in the outbox (bounded by
// max_inflight) under a lock; flush() encodes everything queued and, on plain TCP, writes it
// from the caller's thread when the socket takes it, so the loop is not woken; otherwise (TLS,
// a full socket, the loop writing) it wakes the loop once, which writes it. At most the broker's
// Receive Maximum QoS 1 publishes await their PUBACK at once. A QoS 0 publish leaves the outbox
// when written, a QoS 1 one when acknowledged.
//
// Receiving: the owner decides when a QoS 1 PUBLISH is acknowledged. on_message answers
// acknowledge (now) or later: then the owner calls acknowledge(token) once the message is safe,
// from any thread, and flush(). PUBACKs leave in the order the publishes arrived, whatever order
// the owner finishes them in [MQTT-4.6.0-2]: every taken QoS 1 message has an entry in a ring
// of max_inflight entries (the Receive Maximum this client asks the broker to respect), and only
// the done entries at its front are acknowledged. A full ring (a 3.1.1 broker sending more than
// that) stops the reading until acknowledgements free it. Nothing in the codec or the read path
// acknowledges anything, so this is the one place that decides when the broker may forget a
// message. Acknowledgements for a connection that was lost are dropped: the broker sends those
// messages again (with DUP) when it kept the session.
//
// Each connection has its own thread, so an owner that waits in on_message (a source holding
// back input while the ingest queue is full) stalls only its own socket.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/metrics/metrics_writer.h"
#include "core/runtime/readiness.h"
#include "core/status.h"
#include "io/mqtt/codec/codec.h"
#include "io/mqtt/mqtt_config.h"
#include "io/mqtt/transport/stream.h"

namespace edgeflow {

class K8sSatAuth;
class MqttConnection;

/// What the owner of a connection answers for a message that arrived.
enum class Taken : std::uint8_t {
    no,           ///< not taken (stopping, aborting): never acknowledged
    acknowledge,  ///< taken; acknowledge it now
    later,        ///< taken; the owner calls acknowledge(token) when it is safe
};

/// What the owner of a connection (source, sink, feed) is told. Calls come from the
/// connection's thread, except those on_published and on_abandoned say otherwise.
class MqttHandler {
public:
    virtual ~MqttHandler() = default;
    /// After every CONNACK that accepted the connection: subscribe here. A failure is logged,
    /// the connection closed and retried.
    virtual Status on_connected(MqttConnection& connection) = 0;
    /// A message arrived. Its views are valid until this returns. May wait (backpressure): only
    /// this connection stalls. `ack_token` is what to pass to acknowledge() for a QoS 1 message
    /// answered with Taken::later. A QoS 1 message not taken is not acknowledged, so a kept
    /// session has the broker send it again.
    virtual Taken on_message(const mqtt::PublishView& message, std::uint64_t ack_token) = 0;
    /// Every packet of one read from the socket was handled (a burst of on_message calls
    /// ended), before the PUBACKs for them are written.
    virtual void on_burst_end() {}
    /// The broker acknowledged a QoS 1 publish, or a QoS 0 one was written (`packet_id` 0;
    /// then from the thread that wrote it, which may be a publisher's). `reason` >= 0x80 is a
    /// refusal (MQTT 5 reason code). `tag` is the publish's OutgoingMessage::tag.
    virtual void on_published(std::uint16_t packet_id, std::uint8_t reason, const void* tag) {
        static_cast<void>(packet_id);
        static_cast<void>(reason);
        static_cast<void>(tag);
    }
    /// A publish with a tag that will never be sent or acknowledged: the connection stopped
    /// with it still in the outbox. From stop()'s thread.
    virtual void on_abandoned(const void* tag) { static_cast<void>(tag); }
};

/// Why publish() did not queue a message.
enum class PublishResult : std::uint8_t {
    queued,
    full,       ///< max_inflight messages are waiting: wait_writable(), then try again
    too_large,  ///< larger than the broker's Maximum Packet Size: it can never be sent
    stopped,
};

/// One outgoing message; user properties are sent on MQTT 5 only.
struct OutgoingMessage {
    std::string_view topic;
    std::string_view payload;
    std::string_view content_type;
    std::span<const mqtt::UserPropertyView> user_properties;
    std::optional<std::uint32_t> message_expiry;  ///< seconds; MQTT 5 only
    std::uint8_t qos = 0;
    bool retain = false;
    /// Handed back to MqttHandler::on_published (or on_abandoned) for this publish; null: none.
    const void* tag = nullptr;
};

class MqttConnection {
public:
    MqttConnection(std::string owner, MqttConfig config, std::atomic<std::uint64_t>& disconnects,
                   std::atomic<std::uint64_t>& reconnects);
    ~MqttConnection();
    MqttConnection(const MqttConnection&) = delete;
    MqttConnection& operator=(const MqttConnection&) = delete;

    /// Conditions this connection keeps up to date: `connected` while the broker accepted it
    /// (and on_connected succeeded), `subscribed` once on_connected subscribed. Either may be
    /// null. Set before start(); they are not touched after the first stop().
    void set_readiness(ReadinessCondition* connected, ReadinessCondition* subscribed) noexcept {
        ready_connected_ = connected;
        ready_subscribed_ = subscribed;
    }
    /// Whether the last subscribe() on the current connection succeeded.
    bool subscribed() const noexcept { return subscribed_.load(std::memory_order_acquire); }

    /// Loads the TLS files and starts the connection's thread. Fails only on local problems
    /// (bad URI, unusable TLS files); an unreachable broker is retried, not an error.
    Status start(MqttHandler& handler);
    /// Stops reconnecting and disconnects, after writing the PUBACKs already due; after it
    /// returns no handler runs again.
    void stop();
    /// Takes no more messages (on_message is not called; they are not acknowledged) while the
    /// connection stays up for acknowledge(). When it returns, no read is handing messages to
    /// the owner. Any thread.
    void pause_receiving();
    /// The message of on_message's `ack_token` (answered Taken::later) is safe: its PUBACK goes
    /// out with the next flush(), after those of every message that arrived before it. Any
    /// thread; a token of a connection since lost is ignored.
    void acknowledge(std::uint64_t ack_token) noexcept;

    bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
    const MqttConfig& config() const noexcept { return config_; }
    const std::string& owner() const noexcept { return owner_; }
    /// "connected to ...", "disconnected from ... for 3.2 s", ...
    std::string state() const;
    /// Why the latest connection attempt failed (the connect error, the broker's refusal, no
    /// CONNACK in time), or empty while an attempt is under way or after one succeeded.
    std::string last_error() const;

    /// Subscribes to `filters` and waits for the SUBACK, running the loop meanwhile (messages
    /// that arrive first are delivered). Only from on_connected (the connection's thread).
    Status subscribe(const std::vector<std::string>& filters, int qos);

    /// Queues one publish; flush() sends what was queued. Any thread.
    PublishResult publish(const OutgoingMessage& message);
    /// The outbox held for a batch of publishes: one lock for the batch, not one per message.
    /// Released (unlock) to wait for room, taken again (lock) to go on.
    class Outbox {
    public:
        explicit Outbox(MqttConnection& connection)
            : connection_(connection), lock_(connection.mutex_) {}
        PublishResult publish(const OutgoingMessage& message);
        void unlock() { lock_.unlock(); }
        void lock() { lock_.lock(); }

    private:
        MqttConnection& connection_;
        std::unique_lock<std::mutex> lock_;
    };
    /// Wakes the loop to write what publish() queued: once per batch.
    void flush() noexcept;
    /// Waits until publish() has room and the connection is up; false at `deadline` or stop().
    bool wait_writable(std::chrono::steady_clock::time_point deadline);
    /// Publishes queued or awaiting their PUBACK.
    std::size_t outstanding() const;
    /// Packets the broker sent that the codec rejected (each closed the connection).
    std::uint64_t protocol_errors() const noexcept {
        return protocol_errors_.load(std::memory_order_relaxed);
    }
    /// The metrics every MQTT endpoint has (connected, disconnects, reconnects, protocol
    /// errors, re-authentications), labelled with the endpoint's name and `role`.
    void metrics(MetricsWriter& writer, std::string_view role) const;
    /// Messages that arrived after pause_receiving() and were not taken: at QoS 1 the broker
    /// sends them again when it kept the session; at QoS 0 they are gone.
    std::uint64_t refused_while_paused() const noexcept {
        return refused_while_paused_.load(std::memory_order_relaxed);
    }
    /// PUBLISHes that arrived with DUP set: the broker may have sent them before.
    std::uint64_t duplicates() const noexcept {
        return duplicates_.load(std::memory_order_relaxed);
    }
    /// QoS 1 messages taken and not yet acknowledged to the broker.
    std::uint64_t unacknowledged() const noexcept {
        // The head first: it never passes the tail, so the tail read after it is not behind.
        const std::uint64_t head = inbound_head_.load(std::memory_order_acquire);
        return inbound_tail_.load(std::memory_order_acquire) - head;
    }
    /// With `auth` (K8S-SAT): re-authentications on a live connection the broker accepted, and
    /// those that failed (refused, unanswered, cut off); 0 without.
    std::uint64_t reauthentications() const noexcept;
    std::uint64_t reauthentication_failures() const noexcept;

private:
    struct Endpoint {
        std::string host;
        int port = 1883;
    };
    /// One message in the outbox. Its buffers keep their capacity from one use to the next.
    struct Outgoing {
        std::string topic;
        std::string payload;
        std::string content_type;
        std::vector<std::pair<std::string, std::string>> properties;
        std::size_t property_count = 0;
        std::optional<std::uint32_t> message_expiry;
        std::uint16_t packet_id = 0;
        std::uint8_t qos = 0;
        bool retain = false;
        const void* tag = nullptr;
        bool sent = false;   ///< written on the current connection
        bool acked = false;  ///< done: leaves the outbox when it reaches the front
    };

    void run();
    bool connect_once();
    /// One turn of the loop: waits up to `timeout` for the socket or a wake-up, reads and
    /// handles every packet, writes what is pending. False when the connection is lost.
    bool turn(std::chrono::milliseconds timeout);
    bool read_packets();
    bool handle(const mqtt::Packet& packet);
    /// Before a QoS 1 message is taken: waits, writing PUBACKs as they come due, while the
    /// inbound ring is full. False when stopping or paused meanwhile.
    bool wait_inbound_room();
    /// Encodes the PUBACKs of the done entries at the front of the inbound ring. Under
    /// write_mutex_.
    void move_acks_to_wire();
    bool acks_due() const noexcept;
    /// Whether the newest message taken still awaits its owner's acknowledge().
    bool acks_deferred() const noexcept;
    /// Applies the PUBACKs of one read to the outbox, under one lock.
    void settle_acks();
    PublishResult publish_locked(const OutgoingMessage& message);
    /// Writes what the loop produced and what publishers queued, under write_mutex_.
    bool write_pending(bool with_outbox = true);
    /// After a protocol error: a DISCONNECT with `reason_code`, and nothing else.
    void send_final(std::uint8_t reason_code);
    void note_write() noexcept;
    void close_stream();
    void wake() noexcept;
    void move_outbox_to_wire();
    bool keep_alive(std::chrono::steady_clock::time_point now);
    void lose(std::string cause);
    void disconnect_cleanly();
    void wait_backoff(std::chrono::milliseconds delay);
    void set_connected(bool connected) noexcept;
    void set_last_error(std::string text);
    void arm_write_interest(bool want) noexcept;

    std::string owner_;
    MqttConfig config_;
    Endpoint endpoint_;
    std::atomic<std::uint64_t>& disconnects_;
    std::atomic<std::uint64_t>& reconnects_;
    std::atomic<std::uint64_t> protocol_errors_{0};
    std::atomic<std::uint64_t> duplicates_{0};
    std::atomic<std::uint64_t> refused_while_paused_{0};
    MqttHandler* handler_ = nullptr;
    std::unique_ptr<mqtt::TlsContext> tls_;
    mqtt::Version version_;

    std::thread thread_;
    mutable std::mutex mutex_;          ///< guards last_error_, lost_at_ and the outbox
    std::condition_variable wake_;      ///< backoff waits
    std::condition_variable writable_;  ///< publishers waiting for outbox room
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> ever_connected_{false};
    std::atomic<bool> subscribed_{false};
    ReadinessCondition* ready_connected_ = nullptr;
    ReadinessCondition* ready_subscribed_ = nullptr;
    std::string last_error_;
    std::chrono::steady_clock::time_point lost_at_;

    // The outbox: a ring of max_inflight messages in publish order, under mutex_.
    std::vector<Outgoing> outbox_;
    std::size_t outbox_head_ = 0;
    std::size_t outbox_count_ = 0;
    std::size_t outbox_unsent_ = 0;  ///< index (from head) of the first not yet written
    std::uint16_t next_packet_id_ = 1;
    std::size_t awaiting_ack_ = 0;  ///< QoS 1 written and not yet acknowledged
    std::atomic<std::uint32_t> broker_max_packet_{0};
    std::size_t send_quota_ = 0;  ///< min(max_inflight, the broker's Receive Maximum)

    // Publishers on plain TCP write the socket from their own thread (flush()), so the bytes
    // to write, and the stream's opening and closing, are under write_mutex_. Lock order:
    // write_mutex_, then mutex_.
    std::mutex write_mutex_;
    mqtt::Stream stream_;
    mqtt::WriteBuffer wire_;
    std::atomic<std::int64_t> last_write_ns_{0};  ///< steady clock, for keep-alive
    /// Whether wire_ holds bytes (set under write_mutex_ as it is left) and whether the outbox
    /// holds messages not yet encoded (under mutex_): read without a lock, so a turn with
    /// nothing to write takes none.
    std::atomic<bool> wire_pending_{false};
    std::atomic<bool> outbox_pending_{false};
    std::vector<const void*> written_tags_;  ///< QoS 0 publishes just encoded; under write_mutex_

    // The inbound ring (see the header comment), max_inflight entries. The loop appends at
    // inbound_tail_; acknowledge() marks entry `seq` done by raising its mark to seq + 1 (never
    // lowering it, so a late mark for an entry of a lost connection cannot undo a newer one);
    // whoever writes, under write_mutex_, acknowledges from inbound_head_ while entries are done.
    // A lost connection moves the head to the tail: its entries are not acknowledged.
    std::vector<std::uint16_t> inbound_ids_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> inbound_done_;
    std::atomic<std::uint64_t> inbound_tail_{0};
    std::atomic<std::uint64_t> inbound_head_{0};
    std::atomic<bool> paused_{false};
    /// From an accepting CONNACK until the stream closes: PUBACKs may be written.
    std::atomic<bool> session_up_{false};
    std::mutex receive_mutex_;  ///< held by the loop while it reads and hands messages over
    struct WirePendingOnExit {
        MqttConnection& c;
        ~WirePendingOnExit() { c.wire_pending_.store(!c.wire_.empty(), std::memory_order_release); }
    };

    // Touched by the connection's thread only.
    mqtt::WriteBuffer local_;  ///< what the loop itself sends: CONNECT, PUBACKs, PINGREQ...
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> wake_pending_{false};
    bool write_interest_ = false;
    std::vector<char> read_buffer_;
    std::size_t read_begin_ = 0;
    std::size_t read_end_ = 0;
    mqtt::Decoder decoder_;
    mqtt::OutboundTopicAliases outbound_aliases_;
    std::vector<mqtt::UserPropertyView> property_views_;
    struct Ack {
        std::uint16_t packet_id = 0;
        std::uint8_t reason = 0;
        bool matched = false;
        const void* tag = nullptr;
    };
    std::vector<Ack> acks_;  ///< PUBACKs of the current read, settled at its end
    bool connack_ = false;
    mqtt::ConnackView connack_view_;
    std::string connack_reason_string_;
    bool suback_ = false;
    std::uint16_t suback_id_ = 0;
    std::string granted_;
    std::uint16_t keep_alive_s_ = 0;
    std::chrono::steady_clock::time_point ping_sent_{};
    std::string lost_cause_;
    std::minstd_rand jitter_;
    std::unique_ptr<K8sSatAuth> auth_;  ///< enhanced authentication, when `auth` is configured
};

}  // namespace edgeflow
