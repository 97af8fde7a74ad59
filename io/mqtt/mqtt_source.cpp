#include "io/mqtt/mqtt_source.h"

#include <chrono>

#include "core/log.h"
#include "io/envelope.h"

namespace edgeflow {

MqttSource::MqttSource(std::string name, std::uint32_t index, MqttConfig config)
    : Source(name),
      index_(index),
      connection_(std::move(name), std::move(config), counters.disconnects, counters.reconnects),
      after_delivery_(connection_.config().acknowledge == MqttAcknowledge::after_delivery) {}

MqttSource::~MqttSource() {
    stop();
}

Status MqttSource::start(IngestPort& port) {
    port_ = &port;
    burst_limit_ = port.burst_limit();
    burst_.reserve(burst_limit_);
    return connection_.start(*this);
}

void MqttSource::pause() noexcept {
    if (!stopped_.load()) {
        // When this returns no read is under way, and each read hands over what it took.
        connection_.pause_receiving();
    }
}

void MqttSource::acknowledge(std::span<const PendingAck> acks) noexcept {
    for (const PendingAck& ack : acks) {
        connection_.acknowledge(ack.token);
    }
    connection_.flush();
}

void MqttSource::stop() noexcept {
    if (!stopped_.exchange(true)) {
        connection_.stop();
        if (const std::uint64_t refused = connection_.refused_while_paused(); refused > 0) {
            log_warn("mqtt", name() + ": " + std::to_string(refused) +
                                 " message(s) arrived while stopping and were not taken: at QoS "
                                 "1 the broker sends them again if it kept the session, at QoS "
                                 "0 they are lost");
        }
        // The connection's thread has ended: what it held is handed over from here.
        for (Message* message : burst_) {
            port_->submit(message);
        }
        counters.received.fetch_add(burst_.size(), std::memory_order_relaxed);
        burst_.clear();
    }
}

void MqttSource::add_readiness(Readiness& readiness) {
    connection_.set_readiness(readiness.add("source/" + name() + "/connected"),
                              readiness.add("source/" + name() + "/subscribed"));
}

void MqttSource::metrics(MetricsWriter& writer) const {
    connection_.metrics(writer, "source");
    writer.gauge("edgeflow_mqtt_subscribed", "1 while an MQTT source's subscriptions hold",
                 {{"endpoint", name()}}, connection_.subscribed() ? 1 : 0);
    writer.counter("edgeflow_mqtt_duplicates_suspected_total",
                   "Messages that arrived with DUP set: the broker may have sent them before",
                   {{"endpoint", name()}}, static_cast<double>(connection_.duplicates()));
    writer.gauge("edgeflow_mqtt_unacknowledged",
                 "QoS 1 messages taken and not yet acknowledged to the broker",
                 {{"endpoint", name()}}, static_cast<double>(connection_.unacknowledged()));
}

Status MqttSource::on_connected(MqttConnection& connection) {
    return connection.subscribe(connection.config().topics, connection.config().qos);
}

void MqttSource::hand_over() noexcept {
    if (burst_.empty()) {
        return;
    }
    // Counted before they are handed over, which may run them through to the destinations:
    // the source's count is never behind those of the stages after it.
    counters.received.fetch_add(burst_.size(), std::memory_order_relaxed);
    port_->submit_burst(burst_);
    burst_.clear();
}

Taken MqttSource::on_message(const mqtt::PublishView& incoming, std::uint64_t ack_token) {
    if (burst_.size() >= burst_limit_) {
        // A long burst is queued as it comes: only a short one can run to completion, and
        // holding many acquired messages back would starve the ingest queue.
        hand_over();
    }
    Message* message = port_->acquire();
    if (message == nullptr) {
        return Taken::no;  // the engine is aborting: not taken, so not acknowledged
    }
    message->source = index_;
    message->ingest_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    // The views point into the connection's read buffer: copied here, into the message's
    // buffers, which keep their capacity from one use to the next.
    message->topic.assign(incoming.topic);
    assign_padded(message->payload, incoming.payload);
    message->qos = incoming.qos;
    const bool later = after_delivery_ && incoming.qos == 1;
    message->ack_pending = later;
    message->ack_token = ack_token;
    message->content_type.assign(incoming.content_type);
    message->message_expiry_s = incoming.message_expiry;
    mqtt::for_each_user_property(incoming.user_properties, [&](mqtt::UserPropertyView p) {
        message->add_property(p.key, p.value);
    });
    if (burst_limit_ == 0) {
        counters.received.fetch_add(1, std::memory_order_relaxed);
        port_->submit(message);
    } else {
        burst_.push_back(message);
    }
    return later ? Taken::later : Taken::acknowledge;
}

}  // namespace edgeflow
