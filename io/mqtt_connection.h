// MqttConnection: one Paho async client kept connected.
//
// A supervisor thread (`ef-mqtt-N`) connects, runs the owner's on_connected step (subscribe),
// and after a lost connection reconnects with capped exponential backoff (initial_delay_ms
// doubling up to max_delay_ms), then runs on_connected again, which resubscribes. Every
// outage is logged when it starts and ends and counted (disconnects, reconnects). Messages
// arrive on the client library's own thread through the owner's handler.
#pragma once

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "io/mqtt_config.h"

namespace edgeflow {

class MqttConnection final : public mqtt::callback {
public:
    using OnConnected = std::function<Status(mqtt::async_client&)>;
    using OnMessage = std::function<void(const mqtt::const_message_ptr&)>;

    MqttConnection(std::string owner, MqttConfig config, std::atomic<std::uint64_t>& disconnects,
                   std::atomic<std::uint64_t>& reconnects);
    ~MqttConnection() override;

    /// Creates the client and starts the supervisor. Fails only on local problems (bad URI,
    /// unreadable TLS files); an unreachable broker is retried, not an error.
    /// `max_buffered`: publishes the client library may queue unsent (0 = max_inflight + 16).
    Status start(OnConnected on_connected, OnMessage on_message, std::size_t max_buffered = 0);
    /// Stops reconnecting and disconnects; after it returns no handler runs again.
    void stop();

    bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
    mqtt::async_client& client() noexcept { return *client_; }
    const MqttConfig& config() const noexcept { return config_; }
    /// "connected", "connecting", "disconnected for 3.2 s", ...
    std::string state() const;

private:
    void supervise();
    bool try_connect();
    void wait_backoff(std::chrono::milliseconds delay);

    // mqtt::callback, on the client library's thread
    void connection_lost(const std::string& cause) override;
    void message_arrived(mqtt::const_message_ptr message) override;

    std::string owner_;
    MqttConfig config_;
    std::atomic<std::uint64_t>& disconnects_;
    std::atomic<std::uint64_t>& reconnects_;
    std::unique_ptr<mqtt::async_client> client_;
    mqtt::connect_options options_;
    OnConnected on_connected_;
    OnMessage on_message_;

    std::thread supervisor_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> ever_connected_{false};
    std::atomic<int> in_handler_{0};
    std::chrono::steady_clock::time_point lost_at_;
};

}  // namespace edgeflow
