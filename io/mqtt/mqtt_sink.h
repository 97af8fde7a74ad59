// MqttSink (kind `mqtt`): publishes each message to its destination topic.
//
// Keys: see io/mqtt/mqtt_config.h. write() is called from the egress thread, or from a source's
// thread running a burst to completion: it queues the batch's publishes in the connection's
// outbox under one lock and flushes once, which writes them together (from the calling thread on
// plain TCP, or by waking the connection's loop). The acknowledgements arrive on that loop. At
// most max_inflight publishes wait in the outbox (queued, or awaiting their PUBACK); when it is
// full, or the connection is down, the sink waits (backpressure up to the sources) instead of
// dropping. A QoS 1 publish stays in the outbox until acknowledged, across reconnects, so a
// broker restart loses nothing. MQTT 5 user properties, the content type and the message expiry
// (less the time spent in the engine) are carried through. A publish the broker refuses, or one
// larger than its maximum packet size, is logged and counted as failed. close() waits up to
// drain_timeout for outstanding acknowledgements.
//
// Delivery: each publish holds its batch (Batch::hold) until the broker acknowledged it (QoS 1)
// or it was written (QoS 0), so the batch's inputs are acknowledged to their source only then.
// A refused or oversized publish releases it as delivered: it is counted and logged, and
// holding it would stop the source for good. One given up when stopping releases it as not
// delivered: its inputs stay unacknowledged for the broker to send again.
#pragma once

#include <atomic>
#include <chrono>
#include <vector>

#include "core/endpoint.h"
#include "io/mqtt/mqtt_config.h"
#include "io/mqtt/mqtt_connection.h"

namespace edgeflow {

class MqttSink final : public Sink, private MqttHandler {
public:
    MqttSink(std::string name, std::size_t index, bool dead_letter, MqttConfig config);
    ~MqttSink() override;

    std::string_view kind() const noexcept override { return "mqtt"; }
    Status start(const EngineSignals& signals) override;
    void write(const Batch& batch) noexcept override;
    Status close() override;
    std::string state() const override;
    /// `destination/NAME/connected`.
    void add_readiness(Readiness& readiness) override;
    void metrics(MetricsWriter& writer) const override;
    /// The destination's settings as its config gave them (broker, TLS, retain...).
    const MqttConfig& config() const noexcept { return connection_.config(); }

private:
    void publish(MqttConnection::Outbox& outbox, const Batch& batch,
                 const Message& message) noexcept;
    void log_failure(const std::string& text) noexcept;

    // MqttHandler, on the connection's thread
    Status on_connected(MqttConnection&) override { return Status::ok(); }
    Taken on_message(const mqtt::PublishView&, std::uint64_t) override {
        return Taken::acknowledge;
    }
    void on_published(std::uint16_t packet_id, std::uint8_t reason, const void* tag) override;
    void on_abandoned(const void* tag) override;

    MqttConnection connection_;
    const EngineSignals* signals_ = nullptr;
    std::vector<mqtt::UserPropertyView> property_views_;  ///< egress thread only
    std::atomic<std::uint64_t> failures_logged_{0};
    std::chrono::steady_clock::time_point give_up_at_{};  ///< egress thread only
    bool closed_ = false;
};

}  // namespace edgeflow
