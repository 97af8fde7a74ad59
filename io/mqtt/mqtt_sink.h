// MqttSink (kind `mqtt`): publishes each message to its destination topic.
//
// Keys: see io/mqtt/mqtt_config.h. write() is called from the engine's egress thread; the
// acknowledgements arrive on the sink's own connection thread. While the connection is down
// the sink waits (backpressure up to the sources) instead of dropping; at most max_inflight
// publishes await their PUBACK before it waits for acknowledgements. A publish stays with the
// client library until acknowledged, across reconnects, so a broker restart loses nothing at
// QoS 1. MQTT 5 user properties and the content type are carried through. A publish the broker or
// library refuses is logged and counted as failed. close() waits up to drain_timeout for
// outstanding acknowledgements.
#pragma once

#include <atomic>
#include <chrono>

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
    bool wait_until_writable() noexcept;
    void publish(const Message& message) noexcept;
    void log_failure(const std::string& text) noexcept;

    // MqttHandler, on the connection's thread
    Status on_connected(MqttConnection&) override { return Status::ok(); }
    void on_message(const mosquitto_message&, const mqtt5__property*) override {}
    void on_published(int mid, int reason) override;

    MqttConnection connection_;
    const EngineSignals* signals_ = nullptr;
    std::atomic<std::int64_t> inflight_{0};
    std::atomic<std::uint64_t> failures_logged_{0};
    std::chrono::steady_clock::time_point give_up_at_{};  ///< egress thread only
    bool closed_ = false;
};

}  // namespace edgeflow
