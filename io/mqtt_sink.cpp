#include "io/mqtt_sink.h"

#include <chrono>
#include <thread>

#include "core/log.h"

namespace edgeflow {
namespace {

constexpr auto poll_interval = std::chrono::microseconds(200);

}  // namespace

MqttSink::MqttSink(std::string name, std::size_t index, bool dead_letter, MqttConfig config)
    : Sink(name, index, dead_letter),
      connection_(std::move(name), std::move(config), counters.disconnects, counters.reconnects) {}

MqttSink::~MqttSink() {
    static_cast<void>(close());
}

Status MqttSink::start(const EngineSignals& signals) {
    signals_ = &signals;
    // An unreachable broker is not an error: the supervisor keeps trying and write() waits.
    //
    // All clients in the process share the library's one receive thread, and a source waiting
    // for ingest room waits on it, so no PUBACK is read until the engine drains. Publishes
    // then queue in the library instead: room for the engine's whole content beyond the
    // in-flight window means the sink never waits on an acknowledgement that cannot come.
    const std::size_t max_buffered =
        connection_.config().max_inflight + signals.message_capacity + 16;
    return connection_.start(nullptr, nullptr, max_buffered);
}

std::string MqttSink::state() const {
    std::string text =
        connection_.state() + ", " + std::to_string(inflight_.load()) + " awaiting PUBACK";
    if (const auto waits = buffer_full_waits_.load(); waits > 0) {
        text += ", " + std::to_string(waits) + " wait(s) for the client's send buffer";
    }
    return text;
}

bool MqttSink::wait_until_writable() noexcept {
    // Waiting here is the backpressure path: the egress thread stops, batches pile up to the
    // pool's bound, and the sources wait in turn.
    const auto max_inflight = static_cast<std::int64_t>(connection_.config().max_inflight);
    std::chrono::steady_clock::time_point gave_up_at{};
    while (!connection_.connected()) {
        if (signals_->stopping.load(std::memory_order_relaxed)) {
            const auto now = std::chrono::steady_clock::now();
            if (gave_up_at == std::chrono::steady_clock::time_point{}) {
                gave_up_at = now + std::chrono::seconds(connection_.config().drain_timeout);
            } else if (now >= gave_up_at) {
                return false;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while (inflight_.load(std::memory_order_acquire) >= max_inflight &&
           signals_->sources_waiting.load(std::memory_order_relaxed) == 0 &&
           connection_.connected()) {
        std::this_thread::sleep_for(poll_interval);
    }
    return true;
}

void MqttSink::publish(const Message& message) noexcept {
    const auto& config = connection_.config();
    while (true) {
        if (!wait_until_writable()) {
            counters.failed.fetch_add(1, std::memory_order_relaxed);
            if (failures_logged_.fetch_add(1) < 10) {
                log_error("mqtt", name() + ": still disconnected from " + config.broker +
                                      " when stopping; message for '" +
                                      message.destination_topics[index()] + "' not published");
            }
            return;
        }
        try {
            auto builder = mqtt::message_ptr_builder()
                               .topic(message.destination_topics[index()])
                               .payload(message.output.data(), message.output.size())
                               .qos(config.qos)
                               .retained(config.retain);
            if (config.protocol == 5 && message.property_count > 0) {
                mqtt::properties properties;
                for (std::size_t i = 0; i < message.property_count; ++i) {
                    properties.add(mqtt::property(mqtt::property::USER_PROPERTY,
                                                  message.properties[i].key,
                                                  message.properties[i].value));
                }
                builder.properties(properties);
            }
            inflight_.fetch_add(1, std::memory_order_acq_rel);
            connection_.client().publish(builder.finalize(), nullptr, *this);
            counters.written.fetch_add(1, std::memory_order_relaxed);
            return;
        } catch (const mqtt::exception& e) {
            inflight_.fetch_sub(1, std::memory_order_acq_rel);
            if (!connection_.connected()) {
                continue;  // lost between the check and the call: wait and publish again
            }
            if (e.get_return_code() == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
                // The library's queue is full (its own sending lags): backpressure, not loss.
                buffer_full_waits_.fetch_add(1, std::memory_order_relaxed);
                std::this_thread::sleep_for(poll_interval);
                continue;
            }
            counters.failed.fetch_add(1, std::memory_order_relaxed);
            if (failures_logged_.fetch_add(1) < 10) {
                log_error("mqtt", name() + ": publish to '" + message.destination_topics[index()] +
                                      "' failed: " + e.what());
            }
            return;
        }
    }
}

void MqttSink::write(const Batch& batch) noexcept {
    for (const Message* message : batch) {
        if (wants(*message)) {
            publish(*message);
        }
    }
}

void MqttSink::on_success(const mqtt::token&) {
    inflight_.fetch_sub(1, std::memory_order_acq_rel);
}

void MqttSink::on_failure(const mqtt::token& token) {
    inflight_.fetch_sub(1, std::memory_order_acq_rel);
    counters.failed.fetch_add(1, std::memory_order_relaxed);
    if (failures_logged_.fetch_add(1) < 10) {
        log_error("mqtt", name() + ": publish not acknowledged (code " +
                              std::to_string(token.get_return_code()) + ")");
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
