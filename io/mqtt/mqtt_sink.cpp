#include "io/mqtt/mqtt_sink.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/log.h"
#include "lang/topic_template.h"

namespace edgeflow {
namespace {

// A waiting publish looks at the stop signal this often.
constexpr auto wait_slice = std::chrono::milliseconds(50);

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
    return connection_.state() + ", " + std::to_string(connection_.outstanding()) +
           " awaiting PUBACK";
}

void MqttSink::add_readiness(Readiness& readiness) {
    connection_.set_readiness(readiness.add("destination/" + name() + "/connected"), nullptr);
}

void MqttSink::metrics(MetricsWriter& writer) const {
    connection_.metrics(writer, "destination");
    writer.gauge("edgeflow_mqtt_in_flight", "QoS 1 publishes awaiting their PUBACK",
                 {{"endpoint", name()}}, static_cast<double>(connection_.outstanding()));
}

void MqttSink::log_failure(const std::string& text) noexcept {
    // The first ten are logged; all are counted.
    if (failures_logged_.fetch_add(1, std::memory_order_relaxed) < 10) {
        log_error("mqtt", name() + ": " + text);
    }
}

void MqttSink::publish(MqttConnection::Outbox& outbox, const Batch& batch,
                       const Message& message) noexcept {
    const auto& config = connection_.config();
    const std::string& topic = message.destination_topics[index()];
    property_views_.clear();
    for (std::size_t i = 0; i < message.property_count; ++i) {
        property_views_.push_back({message.properties[i].key, message.properties[i].value});
    }
    OutgoingMessage out;
    out.topic = topic;
    out.payload = message.output;
    out.content_type = message.content_type;
    out.user_properties = property_views_;
    if (message.message_expiry_s && !dead_letter()) {
        // What is left of the interval after the time spent in the engine, at least a second:
        // a message that came to expire here still goes out, and the broker's next hop decides.
        // A dead letter is kept for inspection, so it does not expire.
        const std::uint64_t now =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now().time_since_epoch())
                                           .count());
        const std::uint64_t spent_s = message.ingest_ns != 0 && now > message.ingest_ns
                                          ? (now - message.ingest_ns) / 1'000'000'000
                                          : 0;
        out.message_expiry = static_cast<std::uint32_t>(std::max<std::uint64_t>(
            1, *message.message_expiry_s > spent_s ? *message.message_expiry_s - spent_s : 1));
    }
    out.qos = static_cast<std::uint8_t>(config.qos);
    out.retain = config.retain;
    out.tag = &batch;
    batch.hold();
    while (true) {
        switch (outbox.publish(out)) {
            case PublishResult::queued:
                counters.written.fetch_add(1, std::memory_order_relaxed);
                return;
            case PublishResult::too_large:
                batch.release(true);  // it can never be sent: failed, and counted as such
                counters.failed.fetch_add(1, std::memory_order_relaxed);
                log_failure("publish to '" + topic_for_log(topic) + "' failed: with its " +
                            std::to_string(message.output.size()) +
                            "-byte payload it is larger than the broker's maximum packet size");
                return;
            case PublishResult::stopped:
                batch.release(false);
                counters.failed.fetch_add(1, std::memory_order_relaxed);
                log_failure("closed; message for '" + topic_for_log(topic) + "' not published");
                return;
            case PublishResult::full:
                break;
        }
        // The outbox is full (the broker is slow or unreachable): what is queued goes out, and
        // this thread waits. That is the backpressure path: batches pile up to the pool's
        // bound, and the sources wait in turn.
        outbox.unlock();
        connection_.flush();
        const auto now = std::chrono::steady_clock::now();
        auto until = now + wait_slice;
        bool give_up = false;
        if (signals_->stopping.load(std::memory_order_relaxed)) {
            // One drain_timeout for the whole stop, not one per waiting message.
            if (give_up_at_ == std::chrono::steady_clock::time_point{}) {
                give_up_at_ = now + std::chrono::seconds(config.drain_timeout);
            }
            give_up = now >= give_up_at_;
            until = std::min(until, give_up_at_);
        }
        if (!give_up) {
            connection_.wait_writable(until);
        }
        outbox.lock();
        if (give_up) {
            batch.release(false);
            counters.failed.fetch_add(1, std::memory_order_relaxed);
            log_failure("cannot deliver to " + config.broker + " when stopping; message for '" +
                        topic_for_log(topic) + "' not published");
            return;
        }
    }
}

void MqttSink::write(const Batch& batch) noexcept {
    bool queued = false;
    {
        // One lock of the outbox for the whole batch.
        MqttConnection::Outbox outbox(connection_);
        for (const Message* message : batch) {
            if (wants(*message)) {
                publish(outbox, batch, *message);
                queued = true;
            }
        }
    }
    // The whole batch goes out in one write; a batch with nothing for this destination costs
    // its connection nothing.
    if (queued) {
        connection_.flush();
    }
}

void MqttSink::on_published(std::uint16_t, std::uint8_t reason, const void* tag) {
    if (reason >= 0x80) {
        counters.failed.fetch_add(1, std::memory_order_relaxed);
        log_failure("the broker refused a publish: " + std::string(mqtt::reason_text(reason)));
    }
    if (tag != nullptr) {
        static_cast<const Batch*>(tag)->release(true);
    }
}

void MqttSink::on_abandoned(const void* tag) {
    static_cast<const Batch*>(tag)->release(false);
}

Status MqttSink::close() {
    if (closed_) {
        return Status::ok();
    }
    closed_ = true;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(connection_.config().drain_timeout);
    connection_.flush();
    while (connection_.outstanding() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto left = connection_.outstanding();
    connection_.stop();
    if (left > 0) {
        return Status::error(std::to_string(left) + " publish(es) still unacknowledged after " +
                             std::to_string(connection_.config().drain_timeout) + " s");
    }
    return Status::ok();
}

}  // namespace edgeflow
