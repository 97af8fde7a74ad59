// MqttDatasetFeed: keeps a transform dataset loaded from a retained MQTT message.
//
//   datasets:
//     assets:
//       mqtt: {broker: mqtt://broker:1883, topics: [plant/reference/assets]}
//       load_timeout_ms: 10000
//
// The feed subscribes on its own connection; the broker delivers the retained message at once
// and every later publish on the topic replaces the dataset (NDJSON, or a JSON array of
// objects). Workers pick the new records up between batches (lang/transform/dataset.h). A
// payload that does not load leaves the previous records in place, and is logged and counted.
// start() waits up to load_timeout_ms for the first load, so messages do not meet an empty
// dataset just because the engine started first; without a retained message it goes on, with a
// warning, and the dataset fills when one is published.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "io/mqtt/mqtt_connection.h"
#include "lang/transform/dataset.h"

namespace edgeflow {

class MqttDatasetFeed final : private MqttHandler {
public:
    MqttDatasetFeed(std::shared_ptr<transform::Dataset> dataset, MqttConfig config,
                    std::uint64_t load_timeout_ms);
    ~MqttDatasetFeed() override;

    /// Adds `dataset/NAME/loaded` (true from the first load on) and the connection's
    /// `connected` and `subscribed` conditions. Call before start().
    void add_readiness(Readiness& readiness) {
        const std::string prefix = "dataset/" + name() + "/";
        ready_loaded_ = readiness.add(prefix + "loaded");
        connection_.set_readiness(readiness.add(prefix + "connected"),
                                  readiness.add(prefix + "subscribed"));
    }

    /// Connects, subscribes and waits (bounded) for the first load.
    Status start();
    void stop() noexcept;

    std::uint64_t loads() const noexcept { return loads_.load(std::memory_order_relaxed); }
    std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }
    const std::string& name() const noexcept { return dataset_->name(); }

private:
    Status on_connected(MqttConnection& connection) override;
    Taken on_message(const mqtt::PublishView& message, std::uint64_t ack_token) override;

    std::shared_ptr<transform::Dataset> dataset_;
    std::uint64_t load_timeout_ms_;
    std::atomic<std::uint64_t> disconnects_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    MqttConnection connection_;
    std::atomic<std::uint64_t> loads_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::mutex mutex_;
    std::condition_variable loaded_;
    bool stopped_ = false;
    ReadinessCondition* ready_loaded_ = nullptr;
};

}  // namespace edgeflow
