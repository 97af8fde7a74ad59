#include "io/mqtt_source.h"

#include <chrono>

#include "core/envelope.h"
#include "core/log.h"

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
    return connection_.start([this](mqtt::async_client& client) { return subscribe(client); },
                             [this](const mqtt::const_message_ptr& m) { on_message(m); });
}

void MqttSource::stop() noexcept {
    if (!stopped_.exchange(true)) {
        connection_.stop();
    }
}

Status MqttSource::subscribe(mqtt::async_client& client) {
    const auto& config = connection_.config();
    auto filters = mqtt::string_collection::create(config.topics);
    mqtt::iasync_client::qos_collection qos(config.topics.size(), config.qos);
    try {
        auto token = client.subscribe(filters, qos);
        if (!token->wait_for(std::chrono::seconds(config.connect_timeout))) {
            return Status::error("subscribe timed out");
        }
        const auto response = token->get_subscribe_response();  // returned by value
        const auto& codes = response.get_reason_codes();
        for (std::size_t i = 0; i < codes.size() && i < config.topics.size(); ++i) {
            if (codes[i] >= 0x80) {
                return Status::error("the broker refused the subscription to '" + config.topics[i] +
                                     "' (reason code " +
                                     std::to_string(static_cast<int>(codes[i])) + ")");
            }
        }
    } catch (const mqtt::exception& e) {
        return Status::error(std::string("subscribe failed: ") + e.what());
    }
    std::string list;
    for (const auto& t : config.topics) {
        list += (list.empty() ? "" : ", ") + t;
    }
    log_info("mqtt", name() + ": subscribed to " + list);
    return Status::ok();
}

void MqttSource::on_message(const mqtt::const_message_ptr& incoming) {
    Message* message = port_->acquire();
    if (message == nullptr) {
        return;  // the engine is aborting
    }
    message->source = index_;
    message->ingest_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    message->topic.assign(incoming->get_topic());
    const auto& payload = incoming->get_payload_ref();
    assign_padded(message->payload, {payload.data(), payload.size()});
    message->qos = static_cast<std::uint8_t>(incoming->get_qos());
    const MQTTProperties& properties = incoming->get_properties().c_struct();
    for (int i = 0; i < properties.count; ++i) {
        const MQTTProperty& p = properties.array[i];
        if (p.identifier == MQTTPROPERTY_CODE_USER_PROPERTY) {
            message->add_property(
                {p.value.data.data, static_cast<std::size_t>(p.value.data.len)},
                {p.value.value.data, static_cast<std::size_t>(p.value.value.len)});
        }
    }
    port_->submit(message);
    counters.received.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace edgeflow
