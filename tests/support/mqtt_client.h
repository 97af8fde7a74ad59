// MQTT test clients on Paho: a subscriber that records everything it receives, and a
// publisher. Both connect with MQTT 5 to a broker on loopback.
#pragma once

#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgeflow::test {

struct Received {
    std::string topic;
    std::string payload;
    std::vector<std::pair<std::string, std::string>> properties;
    std::string content_type;
    std::optional<std::uint32_t> message_expiry;  ///< seconds, when the publish carried one
};

class TestSubscriber : public mqtt::callback {
public:
    TestSubscriber(const std::string& uri, const std::string& client_id);
    ~TestSubscriber() override;
    /// Subscribes and waits for the broker's answer.
    bool subscribe(const std::string& filter, int qos = 1);
    /// Waits until at least `count` messages arrived; false on timeout.
    bool wait_for(std::size_t count, std::chrono::milliseconds timeout);
    std::vector<Received> messages();
    std::size_t count();

private:
    void message_arrived(mqtt::const_message_ptr message) override;
    std::unique_ptr<mqtt::async_client> client_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<Received> messages_;
};

class TestPublisher {
public:
    TestPublisher(const std::string& uri, const std::string& client_id);
    ~TestPublisher();
    /// Publishes and waits for completion (PUBACK at QoS 1).
    bool publish(const std::string& topic, const std::string& payload, int qos = 1,
                 const std::vector<std::pair<std::string, std::string>>& properties = {},
                 bool retain = false);
    /// Publishes at QoS 1 with an MQTT 5 Message Expiry Interval and waits for the PUBACK.
    bool publish_expiring(const std::string& topic, const std::string& payload,
                          std::uint32_t expiry_s);
    /// Publishes without waiting; flush() waits for all outstanding ones.
    void publish_async(const std::string& topic, const std::string& payload, int qos = 1);
    bool flush(std::chrono::milliseconds timeout);

private:
    std::unique_ptr<mqtt::async_client> client_;
    std::vector<mqtt::delivery_token_ptr> pending_;
};

}  // namespace edgeflow::test
