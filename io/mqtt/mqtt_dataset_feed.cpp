#include "io/mqtt/mqtt_dataset_feed.h"

#include <chrono>

#include "core/log.h"

namespace edgeflow {

MqttDatasetFeed::MqttDatasetFeed(std::shared_ptr<transform::Dataset> dataset, MqttConfig config,
                                 std::uint64_t load_timeout_ms)
    : dataset_(std::move(dataset)),
      load_timeout_ms_(load_timeout_ms),
      connection_("dataset-" + dataset_->name(), std::move(config), disconnects_, reconnects_) {}

MqttDatasetFeed::~MqttDatasetFeed() {
    stop();
}

Status MqttDatasetFeed::start() {
    if (Status s = connection_.start(*this); !s) {
        return s;
    }
    std::unique_lock lock(mutex_);
    const bool loaded = loaded_.wait_for(lock, std::chrono::milliseconds(load_timeout_ms_), [&] {
        return loads_.load(std::memory_order_relaxed) > 0 || stopped_;
    });
    if (!loaded) {
        log_warn("dataset", "dataset '" + dataset_->name() + "' has no records after " +
                                std::to_string(load_timeout_ms_) +
                                " ms: no retained message yet; it loads when one is published");
    }
    return Status::ok();
}

void MqttDatasetFeed::stop() noexcept {
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
    }
    loaded_.notify_all();
    connection_.stop();
}

Status MqttDatasetFeed::on_connected(MqttConnection& connection) {
    return connection.subscribe(connection.config().topics, 1);
}

Taken MqttDatasetFeed::on_message(const mqtt::PublishView& message, std::uint64_t) {
    const std::string_view text = message.payload;
    Status s = dataset_->load(text);
    if (!s) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        log_error("dataset", s.message() + " (from topic " + std::string(message.topic) +
                                 "); the previous records stay in use");
        return Taken::acknowledge;
    }
    log_info("dataset", "dataset '" + dataset_->name() + "' loaded " +
                            std::to_string(dataset_->record_count()) + " records from " +
                            std::string(message.topic));
    {
        std::lock_guard lock(mutex_);
        loads_.fetch_add(1, std::memory_order_relaxed);
        if (ready_loaded_ != nullptr) {
            ready_loaded_->set(true);
        }
    }
    loaded_.notify_all();
    return Taken::acknowledge;
}

}  // namespace edgeflow
