// MqttConnection: one MQTT client (libmosquitto) kept connected by a thread of its own.
//
// The connection's thread (`ef-mqtt-N`) connects, waits for the CONNACK, runs the owner's
// on_connected step (subscribe), then runs the client's network loop: it reads and writes the
// socket, sends keep-alives and calls the owner's handlers. After a lost connection it
// reconnects with capped exponential backoff (initial_delay_ms doubling up to max_delay_ms) and
// runs on_connected again, which resubscribes. Every outage is logged when it starts and ends
// and counted (disconnects, reconnects).
//
// Each connection has its own thread, so a handler that waits (a source holding back input while
// the ingest queue is full) stalls only its own socket: the acknowledgements of other
// connections in the process, such as the sinks', are still read.
//
// publish() may be called from any thread; the library queues the packet and the connection's
// thread writes it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/runtime/readiness.h"
#include "core/status.h"
#include "io/mqtt/mqtt_config.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace edgeflow {

class MqttConnection;

/// What the owner of a connection (source or sink) is told. All calls come from the
/// connection's thread.
class MqttHandler {
public:
    virtual ~MqttHandler() = default;
    /// After every CONNACK that accepted the connection: subscribe here. A failure is logged,
    /// the connection closed and retried.
    virtual Status on_connected(MqttConnection& connection) = 0;
    /// A message arrived. May wait (backpressure): only this connection stalls.
    virtual void on_message(const mosquitto_message& message,
                            const mqtt5__property* properties) = 0;
    /// The broker acknowledged a QoS 1 publish (or a QoS 0 one was written). `reason` >= 0x80
    /// is a refusal (MQTT 5 reason code).
    virtual void on_published(int mid, int reason) = 0;
};

class MqttConnection {
public:
    MqttConnection(std::string owner, MqttConfig config, std::atomic<std::uint64_t>& disconnects,
                   std::atomic<std::uint64_t>& reconnects);
    ~MqttConnection();
    MqttConnection(const MqttConnection&) = delete;
    MqttConnection& operator=(const MqttConnection&) = delete;

    /// Conditions this connection keeps up to date: `connected` while the broker accepted it
    /// (and on_connected succeeded), `subscribed` once on_connected subscribed. Either may be
    /// null. Set before start(); they are not touched after the first stop().
    void set_readiness(ReadinessCondition* connected, ReadinessCondition* subscribed) noexcept {
        ready_connected_ = connected;
        ready_subscribed_ = subscribed;
    }
    /// Whether the last subscribe() on the current connection succeeded.
    bool subscribed() const noexcept { return subscribed_.load(std::memory_order_acquire); }

    /// Creates the client and starts the connection's thread. Fails only on local problems
    /// (bad URI, unreadable TLS files); an unreachable broker is retried, not an error.
    Status start(MqttHandler& handler);
    /// Stops reconnecting and disconnects; after it returns no handler runs again.
    void stop();

    bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
    const MqttConfig& config() const noexcept { return config_; }
    const std::string& owner() const noexcept { return owner_; }
    /// "connected to ...", "disconnected from ... for 3.2 s", ...
    std::string state() const;
    /// Why the latest connection attempt failed (the connect error, the broker's refusal, no
    /// CONNACK in time), or empty while an attempt is under way or after one succeeded.
    std::string last_error() const;

    /// Subscribes to `filters` and waits for the SUBACK, running the network loop meanwhile.
    /// Only from on_connected (the connection's thread).
    Status subscribe(const std::vector<std::string>& filters, int qos);

    /// Queues one publish. `mid` receives the packet id that on_published will report.
    /// Returns the library's error code (0 on success).
    int publish(const std::string& topic, std::string_view payload, int qos, bool retain,
                const mqtt5__property* properties, int& mid) noexcept;

private:
    struct Endpoint {
        std::string host;
        int port = 1883;
    };

    void run();
    bool connect_once();
    bool loop_until(const std::atomic<bool>& done, std::chrono::milliseconds timeout);
    void wait_backoff(std::chrono::milliseconds delay);
    void mark_lost(const std::string& cause);
    void set_connected(bool connected) noexcept;

    static void on_connect(mosquitto* client, void* self, int rc, int flags,
                           const mqtt5__property* properties);
    static void on_message(mosquitto* client, void* self, const mosquitto_message* message,
                           const mqtt5__property* properties);
    static void on_publish(mosquitto* client, void* self, int mid, int reason,
                           const mqtt5__property* properties);
    static void on_subscribe(mosquitto* client, void* self, int mid, int count, const int* granted,
                             const mqtt5__property* properties);

    std::string owner_;
    MqttConfig config_;
    Endpoint endpoint_;
    std::atomic<std::uint64_t>& disconnects_;
    std::atomic<std::uint64_t>& reconnects_;
    mosquitto* client_ = nullptr;
    MqttHandler* handler_ = nullptr;

    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> ever_connected_{false};
    std::atomic<bool> subscribed_{false};
    ReadinessCondition* ready_connected_ = nullptr;
    ReadinessCondition* ready_subscribed_ = nullptr;

    // Handshake state, touched by the connection's thread only (callbacks run on it).
    std::atomic<bool> connack_{false};
    int connack_code_ = 0;
    std::atomic<bool> suback_{false};
    int suback_mid_ = -1;
    std::vector<int> granted_;
    std::string last_error_;
    std::chrono::steady_clock::time_point lost_at_;
};

}  // namespace edgeflow
