#include "tests/support/mqtt_client.h"

namespace edgeflow::test {
namespace {

mqtt::connect_options v5_options() {
    return mqtt::connect_options_builder()
        .mqtt_version(MQTTVERSION_5)
        .clean_start(true)
        .connect_timeout(std::chrono::seconds(5))
        .finalize();
}

}  // namespace

TestSubscriber::TestSubscriber(const std::string& uri, const std::string& client_id)
    : client_(std::make_unique<mqtt::async_client>(uri, client_id,
                                                   mqtt::create_options(MQTTVERSION_5))) {
    client_->set_callback(*this);
    client_->connect(v5_options())->wait_for(std::chrono::seconds(5));
}

TestSubscriber::~TestSubscriber() {
    try {
        if (client_->is_connected()) {
            client_->disconnect()->wait_for(std::chrono::seconds(2));
        }
    } catch (const mqtt::exception&) {
        // The broker may already be gone at the end of a test; nothing to clean up then.
    }
}

bool TestSubscriber::subscribe(const std::string& filter, int qos) {
    try {
        return client_->subscribe(filter, qos)->wait_for(std::chrono::seconds(5));
    } catch (const mqtt::exception&) {
        return false;
    }
}

void TestSubscriber::message_arrived(mqtt::const_message_ptr message) {
    Received r{message->get_topic(), message->to_string(), {}, {}, {}};
    const auto& props = message->get_properties().c_struct();
    for (int i = 0; i < props.count; ++i) {
        const auto& p = props.array[i];
        if (p.identifier == MQTTPROPERTY_CODE_USER_PROPERTY) {
            r.properties.emplace_back(std::string(p.value.data.data, p.value.data.len),
                                      std::string(p.value.value.data, p.value.value.len));
        } else if (p.identifier == MQTTPROPERTY_CODE_CONTENT_TYPE) {
            r.content_type.assign(p.value.data.data, p.value.data.len);
        } else if (p.identifier == MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL) {
            r.message_expiry = static_cast<std::uint32_t>(p.value.integer4);
        }
    }
    {
        std::lock_guard lock(mutex_);
        messages_.push_back(std::move(r));
    }
    arrived_.notify_all();
}

bool TestSubscriber::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
}

std::vector<Received> TestSubscriber::messages() {
    std::lock_guard lock(mutex_);
    return messages_;
}

std::size_t TestSubscriber::count() {
    std::lock_guard lock(mutex_);
    return messages_.size();
}

TestPublisher::TestPublisher(const std::string& uri, const std::string& client_id)
    : client_(std::make_unique<mqtt::async_client>(uri, client_id,
                                                   mqtt::create_options(MQTTVERSION_5))) {
    // A second client in one process can take two seconds to connect (the library polls).
    client_->connect(v5_options())->wait_for(std::chrono::seconds(10));
}

TestPublisher::~TestPublisher() {
    try {
        if (client_->is_connected()) {
            client_->disconnect()->wait_for(std::chrono::seconds(2));
        }
    } catch (const mqtt::exception&) {
        // As above: a broker stopped by the test makes this fail harmlessly.
    }
}

bool TestPublisher::publish(const std::string& topic, const std::string& payload, int qos,
                            const std::vector<std::pair<std::string, std::string>>& properties,
                            bool retain) {
    try {
        auto builder =
            mqtt::message_ptr_builder().topic(topic).payload(payload).qos(qos).retained(retain);
        if (!properties.empty()) {
            mqtt::properties props;
            for (const auto& [k, v] : properties) {
                props.add(mqtt::property(mqtt::property::USER_PROPERTY, k, v));
            }
            builder.properties(props);
        }
        return client_->publish(builder.finalize())->wait_for(std::chrono::seconds(5));
    } catch (const mqtt::exception&) {
        return false;
    }
}

bool TestPublisher::publish_expiring(const std::string& topic, const std::string& payload,
                                     std::uint32_t expiry_s) {
    try {
        mqtt::properties props;
        props.add(
            mqtt::property(mqtt::property::MESSAGE_EXPIRY_INTERVAL, static_cast<int>(expiry_s)));
        auto message = mqtt::message_ptr_builder()
                           .topic(topic)
                           .payload(payload)
                           .qos(1)
                           .properties(props)
                           .finalize();
        return client_->publish(message)->wait_for(std::chrono::seconds(5));
    } catch (const mqtt::exception&) {
        return false;
    }
}

void TestPublisher::publish_async(const std::string& topic, const std::string& payload, int qos) {
    // The library refuses more than its buffer (100 by default) of unsent publishes: keep
    // under it by waiting for the oldest when the window is full.
    constexpr std::size_t window = 64;
    if (pending_.size() >= window) {
        pending_[pending_.size() - window]->wait_for(std::chrono::seconds(10));
    }
    pending_.push_back(client_->publish(topic, payload.data(), payload.size(), qos, false));
}

bool TestPublisher::flush(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& token : pending_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        try {
            if (left.count() <= 0 || !token->wait_for(left)) {
                return false;
            }
        } catch (const mqtt::exception&) {
            return false;
        }
    }
    pending_.clear();
    return true;
}

}  // namespace edgeflow::test
