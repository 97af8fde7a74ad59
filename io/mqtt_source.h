// MqttSource (kind `mqtt`): subscribes to topic filters and feeds what arrives into the engine.
//
// Keys: see io/mqtt_config.h. Messages arrive on the MQTT client library's receive thread and
// are copied into pooled messages (topic, payload, MQTT 5 user properties, QoS). When the
// ingest queue is full under the `block` policy, that thread waits: the library stops reading
// the socket, so the broker holds back (and, at QoS 1, does not get acknowledgements for) the
// messages behind. Every (re)connection resubscribes to all filters.
#pragma once

#include <atomic>
#include <memory>

#include "core/endpoint.h"
#include "io/mqtt_config.h"
#include "io/mqtt_connection.h"

namespace edgeflow {

class MqttSource final : public Source {
public:
    MqttSource(std::string name, std::uint32_t index, MqttConfig config);
    ~MqttSource() override;

    std::string_view kind() const noexcept override { return "mqtt"; }
    Status start(IngestPort& port) override;
    void stop() noexcept override;
    bool finite() const noexcept override { return false; }
    bool exhausted() const noexcept override { return false; }
    std::string state() const override { return connection_.state(); }

private:
    Status subscribe(mqtt::async_client& client);
    void on_message(const mqtt::const_message_ptr& message);

    std::uint32_t index_;
    MqttConnection connection_;
    IngestPort* port_ = nullptr;
    std::atomic<bool> stopped_{false};
};

}  // namespace edgeflow
