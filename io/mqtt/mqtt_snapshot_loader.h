// MqttSnapshotLoader: reads back the retained LKV snapshots under a topic prefix before the
// engine starts, so state survives a restart (or a SIGKILL) of the process.
//
// It connects with the persist destination's broker settings (its own client id), subscribes
// to `<prefix>/#` and to a marker topic of its own, and once the SUBACK is in, publishes to the
// marker. The broker sends the retained messages of a subscription before anything published
// after it on the same connection, so when the marker comes back every snapshot has arrived.
// Each snapshot goes to `apply`; one that does not load is logged and counted, and the others
// still load. load() is bounded by its timeout; a broker that cannot be reached in that time is
// an error: starting without the state would silently lose it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "core/status.h"
#include "io/mqtt/mqtt_connection.h"

namespace edgeflow {

class MqttSnapshotLoader final : private MqttHandler {
public:
    using Apply = std::function<Status(std::string_view payload)>;

    MqttSnapshotLoader(std::string name, MqttConfig config, std::string prefix,
                       std::chrono::milliseconds timeout, Apply apply);
    ~MqttSnapshotLoader() override;

    /// Loads every retained snapshot; returns once the marker came back, or with an error after
    /// the timeout.
    Status load();

    const std::string& name() const noexcept { return name_; }
    std::uint64_t loaded() const noexcept { return loaded_.load(std::memory_order_relaxed); }
    std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }

private:
    Status on_connected(MqttConnection& connection) override;
    Taken on_message(const mqtt::PublishView& message, std::uint64_t ack_token) override;

    std::string name_;
    std::string prefix_;
    std::string marker_;
    std::chrono::milliseconds timeout_;
    Apply apply_;
    std::atomic<std::uint64_t> disconnects_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    MqttConnection connection_;
    std::atomic<std::uint64_t> loaded_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::mutex mutex_;
    std::condition_variable done_;
    bool marker_seen_ = false;
};

}  // namespace edgeflow
