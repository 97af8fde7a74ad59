#include "io/mqtt/mqtt_sink.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <chrono>
#include <thread>

#include "core/log.h"

namespace edgeflow {
namespace {

constexpr auto poll_interval = std::chrono::microseconds(100);

}  // namespace

MqttSink::MqttSink(std::string name, std::size_t index, bool dead_letter, MqttConfig config)
    : Sink(name, index, dead_letter),
      connection_(std::move(name), std::move(config), counters.disconnects, counters.reconnects) {}

MqttSink::~MqttSink() {
    static_cast<void>(close());
}

Status MqttSink::start(const EngineSignals& signals) {
    signals_ = &signals;
    // An unreachable broker is not an error: the connection keeps trying and write() waits.
    return connection_.start(*this);
}

std::string MqttSink::state() const {
    return connection_.state() + ", " + std::to_string(inflight_.load()) + " awaiting PUBACK";
}

void MqttSink::add_readiness(Readiness& readiness) {
    connection_.set_readiness(readiness.add("destination/" + name() + "/connected"), nullptr);
}

void MqttSink::metrics(MetricsWriter& writer) const {
    const MetricsWriter::Labels labels = {{"endpoint", name()}, {"role", "destination"}};
    writer.gauge("edgeflow_mqtt_connected", "1 while the MQTT connection is up", labels,
                 connection_.connected() ? 1 : 0);
    writer.gauge("edgeflow_mqtt_in_flight", "QoS 1 publishes awaiting their PUBACK",
                 {{"endpoint", name()}}, static_cast<double>(inflight_.load()));
    writer.counter("edgeflow_mqtt_disconnects_total", "MQTT connections lost", labels,
                   static_cast<double>(load(counters.disconnects)));
    writer.counter("edgeflow_mqtt_reconnects_total", "MQTT connections made again after a loss",
                   labels, static_cast<double>(load(counters.reconnects)));
}

void MqttSink::log_failure(const std::string& text) noexcept {
    // The first ten are logged; all are counted.
    if (failures_logged_.fetch_add(1, std::memory_order_relaxed) < 10) {
        log_error("mqtt", name() + ": " + text);
    }
}

bool MqttSink::wait_until_writable() noexcept {
    // Waiting here is the backpressure path: the egress thread stops, batches pile up to the
    // pool's bound, and the sources wait in turn.
    const auto max_inflight = static_cast<std::int64_t>(connection_.config().max_inflight);
    while (!connection_.connected() || inflight_.load(std::memory_order_acquire) >= max_inflight) {
        if (signals_->stopping.load(std::memory_order_relaxed)) {
            // One drain_timeout for the whole stop, not one per waiting message.
            const auto now = std::chrono::steady_clock::now();
            if (give_up_at_ == std::chrono::steady_clock::time_point{}) {
                give_up_at_ = now + std::chrono::seconds(connection_.config().drain_timeout);
            } else if (now >= give_up_at_) {
                return false;
            }
        }
        std::this_thread::sleep_for(poll_interval);
    }
    return true;
}

void MqttSink::publish(const Message& message) noexcept {
    const auto& config = connection_.config();
    const std::string& topic = message.destination_topics[index()];
    mosquitto_property* properties = nullptr;
    if (config.protocol == 5) {
        for (std::size_t i = 0; i < message.property_count; ++i) {
            mosquitto_property_add_string_pair(&properties, MQTT_PROP_USER_PROPERTY,
                                               message.properties[i].key.c_str(),
                                               message.properties[i].value.c_str());
        }
        if (!message.content_type.empty()) {
            mosquitto_property_add_string(&properties, MQTT_PROP_CONTENT_TYPE,
                                          message.content_type.c_str());
        }
    }
    while (true) {
        if (!wait_until_writable()) {
            counters.failed.fetch_add(1, std::memory_order_relaxed);
            log_failure("cannot deliver to " + config.broker + " when stopping; message for '" +
                        topic + "' not published");
            break;
        }
        inflight_.fetch_add(1, std::memory_order_acq_rel);
        int mid = 0;
        const int rc =
            connection_.publish(topic, message.output, config.qos, config.retain, properties, mid);
        if (rc == MOSQ_ERR_SUCCESS) {
            counters.written.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        inflight_.fetch_sub(1, std::memory_order_acq_rel);
        if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) {
            std::this_thread::sleep_for(poll_interval);
            continue;  // lost between the check and the call: wait and publish again
        }
        counters.failed.fetch_add(1, std::memory_order_relaxed);
        log_failure("publish to '" + topic + "' failed: " + mosquitto_strerror(rc));
        break;
    }
    mosquitto_property_free_all(&properties);
}

void MqttSink::write(const Batch& batch) noexcept {
    for (const Message* message : batch) {
        if (wants(*message)) {
            publish(*message);
        }
    }
}

void MqttSink::on_published(int, int reason) {
    inflight_.fetch_sub(1, std::memory_order_acq_rel);
    if (reason >= 0x80) {
        counters.failed.fetch_add(1, std::memory_order_relaxed);
        log_failure(std::string("the broker refused a publish: ") +
                    mosquitto_reason_string(reason));
    }
}

Status MqttSink::close() {
    if (closed_) {
        return Status::ok();
    }
    closed_ = true;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(connection_.config().drain_timeout);
    while (inflight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto left = inflight_.load();
    connection_.stop();
    if (left > 0) {
        return Status::error(std::to_string(left) + " publish(es) still unacknowledged after " +
                             std::to_string(connection_.config().drain_timeout) + " s");
    }
    return Status::ok();
}

}  // namespace edgeflow
