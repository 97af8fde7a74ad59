// MqttSink (kind `mqtt`): publishes each message to its destination topic.
//
// Keys: see io/mqtt_config.h. Called from the engine's egress thread. While the connection is
// down the sink waits (backpressure up to the sources) instead of dropping; at most
// max_inflight QoS 1 publishes await their PUBACK before it waits for acknowledgements —
// except while a source is itself waiting inside the client library's shared receive thread,
// which is the thread that reads those acknowledgements. MQTT 5 user properties are carried
// through. A publish the broker or library rejects is logged and counted as failed. When
// stopping, close() waits up to drain_timeout for outstanding acknowledgements.
#pragma once

#include <mqtt/async_client.h>

#include <atomic>

#include "core/endpoint.h"
#include "io/mqtt_config.h"
#include "io/mqtt_connection.h"

namespace edgeflow {

class MqttSink final : public Sink, private mqtt::iaction_listener {
public:
    MqttSink(std::string name, std::size_t index, bool dead_letter, MqttConfig config);
    ~MqttSink() override;

    std::string_view kind() const noexcept override { return "mqtt"; }
    Status start(const EngineSignals& signals) override;
    void write(const Batch& batch) noexcept override;
    Status close() override;
    std::string state() const override;

private:
    bool wait_until_writable() noexcept;
    void publish(const Message& message) noexcept;

    // mqtt::iaction_listener: publish completions, on the library's thread
    void on_success(const mqtt::token& token) override;
    void on_failure(const mqtt::token& token) override;

    MqttConnection connection_;
    const EngineSignals* signals_ = nullptr;
    std::atomic<std::int64_t> inflight_{0};
    std::atomic<std::uint64_t> failures_logged_{0};
    std::atomic<std::uint64_t> buffer_full_waits_{0};
    bool closed_ = false;
};

}  // namespace edgeflow
