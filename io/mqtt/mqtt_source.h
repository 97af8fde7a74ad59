// MqttSource (kind `mqtt`): subscribes to topic filters and feeds what arrives into the engine.
//
// Keys: see io/mqtt/mqtt_config.h. Messages arrive on the source's own connection thread and are
// copied into pooled messages (topic, payload, MQTT 5 user properties and content type, QoS). When
// the ingest queue is full under the `block` policy, that thread waits: it stops reading its
// socket, so the broker holds back the messages behind (and, at QoS 1, gets no acknowledgement for
// them until they are taken). Other connections, the destinations' among them, are not held up.
// Every (re)connection resubscribes to all filters. A QoS 1 message is acknowledged to the
// broker only when everything it produced is safe (`acknowledge: after_delivery`, the default):
// the engine hands its token back through acknowledge(), and the connection writes the PUBACKs
// in arrival order. With `acknowledge: on_receipt` it is acknowledged as soon as it is read. The
// messages of one read from the socket are handed to the engine together
// (IngestPort::submit_burst), which may run them to completion on this thread.
#pragma once

#include <atomic>
#include <vector>

#include "core/endpoint.h"
#include "io/mqtt/mqtt_config.h"
#include "io/mqtt/mqtt_connection.h"

namespace edgeflow {

class MqttSource final : public Source, private MqttHandler {
public:
    MqttSource(std::string name, std::uint32_t index, MqttConfig config);
    ~MqttSource() override;

    std::string_view kind() const noexcept override { return "mqtt"; }
    Status start(IngestPort& port) override;
    /// Takes no more messages; stays connected so that what is in flight is acknowledged.
    void pause() noexcept override;
    void stop() noexcept override;
    /// Marks the messages done; their PUBACKs leave in arrival order.
    void acknowledge(std::span<const PendingAck> acks) noexcept override;
    bool finite() const noexcept override { return false; }
    bool exhausted() const noexcept override { return false; }
    std::string state() const override { return connection_.state(); }
    /// `source/NAME/connected` and `source/NAME/subscribed`.
    void add_readiness(Readiness& readiness) override;
    void metrics(MetricsWriter& writer) const override;

private:
    // MqttHandler, on the connection's thread
    Status on_connected(MqttConnection& connection) override;
    Taken on_message(const mqtt::PublishView& message, std::uint64_t ack_token) override;
    void on_burst_end() override { hand_over(); }
    /// Hands the messages held from this read to the engine at once (run to completion).
    void hand_over() noexcept;

    std::uint32_t index_;
    MqttConnection connection_;
    IngestPort* port_ = nullptr;
    std::vector<Message*> burst_;  ///< filled messages not yet handed over; connection thread
    std::size_t burst_limit_ = 0;
    std::atomic<bool> stopped_{false};
    bool after_delivery_ = true;  ///< acknowledge: after_delivery
};

}  // namespace edgeflow
