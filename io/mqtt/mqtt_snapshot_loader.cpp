#include "io/mqtt/mqtt_snapshot_loader.h"

#include <unistd.h>

#include <chrono>

#include "core/log.h"

namespace edgeflow {
namespace {

MqttConfig loader_config(MqttConfig config) {
    // Its own session: the destination's client id belongs to the sink's connection.
    config.client_id = (config.client_id.empty() ? std::string("edgeflow") : config.client_id) +
                       "-hydrate-" + std::to_string(::getpid());
    config.clean_start = true;
    return config;
}

}  // namespace

MqttSnapshotLoader::MqttSnapshotLoader(std::string name, MqttConfig config, std::string prefix,
                                       std::chrono::milliseconds timeout, Apply apply)
    : name_(std::move(name)),
      prefix_(std::move(prefix)),
      marker_(prefix_ + "/.hydrated/" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())),
      timeout_(timeout),
      apply_(std::move(apply)),
      connection_("lkv-" + name_, loader_config(std::move(config)), disconnects_, reconnects_) {}

MqttSnapshotLoader::~MqttSnapshotLoader() {
    connection_.stop();
}

Status MqttSnapshotLoader::load() {
    const auto timeout = timeout_;
    if (Status s = connection_.start(*this); !s) {
        return s;
    }
    bool done = false;
    {
        std::unique_lock lock(mutex_);
        done = done_.wait_for(lock, timeout, [&] { return marker_seen_; });
    }
    connection_.stop();
    if (!done) {
        const std::string why = connection_.last_error();
        return Status::error("no complete set of retained snapshots under " + prefix_ +
                             "/# within " + std::to_string(timeout.count()) + " ms" +
                             (why.empty() ? "" : " (" + why + ")"));
    }
    return Status::ok();
}

Status MqttSnapshotLoader::on_connected(MqttConnection& connection) {
    if (Status s = connection.subscribe({prefix_ + "/#"}, 1); !s) {
        return s;
    }
    OutgoingMessage marker;
    marker.topic = marker_;
    marker.qos = 1;
    if (const auto result = connection.publish(marker); result != PublishResult::queued) {
        return Status::error("cannot publish the hydration marker");
    }
    return Status::ok();
}

Taken MqttSnapshotLoader::on_message(const mqtt::PublishView& message, std::uint64_t) {
    if (message.topic == marker_) {
        {
            std::lock_guard lock(mutex_);
            marker_seen_ = true;
        }
        done_.notify_all();
        return Taken::acknowledge;
    }
    if (!message.retain || message.payload.empty()) {
        return Taken::acknowledge;  // live traffic under the prefix, or a cleared snapshot
    }
    const std::string_view payload = message.payload;
    if (Status s = apply_(payload); !s) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        log_warn("lkv", name_ + ": snapshot on " + std::string(message.topic) +
                            " not loaded: " + s.message());
        return Taken::acknowledge;
    }
    loaded_.fetch_add(1, std::memory_order_relaxed);
    return Taken::acknowledge;
}

}  // namespace edgeflow
