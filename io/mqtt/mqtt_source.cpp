#include "io/mqtt/mqtt_source.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <chrono>
#include <cstdlib>

#include "io/envelope.h"

namespace edgeflow {

MqttSource::MqttSource(std::string name, std::uint32_t index, MqttConfig config)
    : Source(name),
      index_(index),
      connection_(std::move(name), std::move(config), counters.disconnects, counters.reconnects) {}

MqttSource::~MqttSource() {
    stop();
}

Status MqttSource::start(IngestPort& port) {
    port_ = &port;
    return connection_.start(*this);
}

void MqttSource::stop() noexcept {
    if (!stopped_.exchange(true)) {
        connection_.stop();
    }
}

void MqttSource::add_readiness(Readiness& readiness) {
    connection_.set_readiness(readiness.add("source/" + name() + "/connected"),
                              readiness.add("source/" + name() + "/subscribed"));
}

void MqttSource::metrics(MetricsWriter& writer) const {
    const MetricsWriter::Labels labels = {{"endpoint", name()}, {"role", "source"}};
    writer.gauge("edgeflow_mqtt_connected", "1 while the MQTT connection is up", labels,
                 connection_.connected() ? 1 : 0);
    writer.gauge("edgeflow_mqtt_subscribed", "1 while an MQTT source's subscriptions hold",
                 {{"endpoint", name()}}, connection_.subscribed() ? 1 : 0);
    writer.counter("edgeflow_mqtt_disconnects_total", "MQTT connections lost", labels,
                   static_cast<double>(load(counters.disconnects)));
    writer.counter("edgeflow_mqtt_reconnects_total", "MQTT connections made again after a loss",
                   labels, static_cast<double>(load(counters.reconnects)));
}

Status MqttSource::on_connected(MqttConnection& connection) {
    return connection.subscribe(connection.config().topics, connection.config().qos);
}

void MqttSource::on_message(const mosquitto_message& incoming, const mqtt5__property* properties) {
    Message* message = port_->acquire();
    if (message == nullptr) {
        return;  // the engine is aborting
    }
    message->source = index_;
    message->ingest_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    message->topic.assign(incoming.topic);
    assign_padded(message->payload, {static_cast<const char*>(incoming.payload),
                                     static_cast<std::size_t>(std::max(incoming.payloadlen, 0))});
    message->qos = static_cast<std::uint8_t>(incoming.qos);
    for (const mosquitto_property* p = properties; p != nullptr; p = mosquitto_property_next(p)) {
        if (mosquitto_property_identifier(p) == MQTT_PROP_CONTENT_TYPE) {
            char* content_type = nullptr;
            if (mosquitto_property_read_string(p, MQTT_PROP_CONTENT_TYPE, &content_type, false) !=
                nullptr) {
                message->content_type.assign(content_type);
            }
            std::free(content_type);
            continue;
        }
        if (mosquitto_property_identifier(p) != MQTT_PROP_USER_PROPERTY) {
            continue;
        }
        // The library hands out copies of the pair; only messages that carry user properties
        // pay for them.
        char* key = nullptr;
        char* value = nullptr;
        if (mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &key, &value, false) !=
            nullptr) {
            message->add_property(key, value);
        }
        std::free(key);
        std::free(value);
    }
    port_->submit(message);
    counters.received.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace edgeflow
