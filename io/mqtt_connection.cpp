#include "io/mqtt_connection.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>

#include "core/log.h"

namespace edgeflow {
namespace {

std::atomic<int> next_thread_number{0};

std::string seconds_text(std::chrono::steady_clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
    return text;
}

}  // namespace

MqttConnection::MqttConnection(std::string owner, MqttConfig config,
                               std::atomic<std::uint64_t>& disconnects,
                               std::atomic<std::uint64_t>& reconnects)
    : owner_(std::move(owner)),
      config_(std::move(config)),
      disconnects_(disconnects),
      reconnects_(reconnects) {}

MqttConnection::~MqttConnection() {
    stop();
}

Status MqttConnection::start(OnConnected on_connected, OnMessage on_message,
                             std::size_t max_buffered) {
    on_connected_ = std::move(on_connected);
    on_message_ = std::move(on_message);
    try {
        mqtt::create_options create(config_.protocol == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
        // The library refuses a publish once this many are queued unsent (default 100). It
        // scans that queue linearly, so it should hold little in steady state; the sink keeps
        // it near max_inflight and only goes beyond while a source stalls the receive thread.
        if (max_buffered == 0) {
            max_buffered = config_.max_inflight + 16;
        }
        create.set_max_buffered_messages(
            static_cast<int>(std::min<std::size_t>(max_buffered, 1 << 30)));
        client_ = std::make_unique<mqtt::async_client>(config_.broker, config_.client_id, create);
        mqtt::connect_options_builder builder;
        // The version goes first: it decides whether clean_start or clean_session applies.
        builder.mqtt_version(config_.protocol == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
            .keep_alive_interval(std::chrono::seconds(config_.keep_alive))
            .connect_timeout(std::chrono::seconds(config_.connect_timeout))
            .automatic_reconnect(false)
            .max_inflight(static_cast<int>(config_.max_inflight));
        if (config_.protocol == 5) {
            builder.clean_start(config_.clean_start);
        } else {
            builder.clean_session(config_.clean_start);
        }
        options_ = builder.finalize();
        if (!config_.username.empty()) {
            options_.set_user_name(config_.username);
            options_.set_password(config_.password);
        }
        // Credentials, properties and TLS options are set on the member itself: this library
        // version copies connect options without re-pointing them, so ones set on the builder would
        // dangle once it is gone (and crash the next connect).
        if (config_.protocol == 5 && config_.session_expiry > 0) {
            mqtt::properties properties;
            properties.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                          static_cast<int>(config_.session_expiry)));
            options_.set_properties(properties);
        }
        if (config_.tls.enabled) {
            mqtt::ssl_options_builder tls;
            if (!config_.tls.ca_file.empty()) {
                tls.trust_store(config_.tls.ca_file);
            }
            if (!config_.tls.cert_file.empty()) {
                tls.key_store(config_.tls.cert_file);
            }
            if (!config_.tls.key_file.empty()) {
                tls.private_key(config_.tls.key_file);
            }
            tls.enable_server_cert_auth(config_.tls.verify).verify(config_.tls.verify);
            options_.set_ssl(tls.finalize());
        }
        client_->set_callback(*this);
    } catch (const mqtt::exception& e) {
        return Status::error(std::string("cannot create MQTT client for '") + config_.broker +
                             "': " + e.what());
    }
    supervisor_ = std::thread([this] { supervise(); });
    const std::string name = "ef-mqtt-" + std::to_string(next_thread_number++);
    pthread_setname_np(supervisor_.native_handle(), name.c_str());
    return Status::ok();
}

std::string MqttConnection::state() const {
    if (stopping_) {
        return "closed";
    }
    if (connected()) {
        return "connected to " + config_.broker;
    }
    if (!ever_connected_) {
        return "never connected to " + config_.broker;
    }
    std::lock_guard lock(mutex_);
    return "disconnected from " + config_.broker + " for " +
           seconds_text(std::chrono::steady_clock::now() - lost_at_);
}

bool MqttConnection::try_connect() {
    try {
        auto token = client_->connect(options_);
        if (!token->wait_for(std::chrono::seconds(config_.connect_timeout + 1))) {
            log_warn("mqtt", owner_ + ": connect to " + config_.broker + " timed out");
            return false;
        }
    } catch (const mqtt::exception& e) {
        log_debug("mqtt", owner_ + ": connect to " + config_.broker + " failed: " + e.what());
        return false;
    }
    if (on_connected_) {
        if (auto status = on_connected_(*client_); !status) {
            log_error("mqtt", owner_ + ": " + status.message());
            try {
                client_->disconnect()->wait_for(std::chrono::seconds(2));
            } catch (const mqtt::exception& e) {
                log_debug("mqtt", owner_ + ": disconnect after failed setup: " + e.what());
            }
            return false;
        }
    }
    return true;
}

void MqttConnection::wait_backoff(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void MqttConnection::supervise() {
    auto delay = std::chrono::milliseconds(config_.reconnect_initial_ms);
    const auto max_delay = std::chrono::milliseconds(config_.reconnect_max_ms);
    std::uint64_t failures = 0;
    while (!stopping_) {
        if (connected()) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_.load() || !connected(); });
            continue;
        }
        if (try_connect()) {
            const bool again = ever_connected_.exchange(true);
            connected_.store(true, std::memory_order_release);
            if (again) {
                reconnects_.fetch_add(1, std::memory_order_relaxed);
                std::chrono::steady_clock::duration outage;
                {
                    std::lock_guard lock(mutex_);
                    outage = std::chrono::steady_clock::now() - lost_at_;
                }
                log_info("mqtt", owner_ + ": reconnected to " + config_.broker + " after " +
                                     seconds_text(outage) + " and " + std::to_string(failures) +
                                     " failed attempt(s)");
            } else {
                log_info("mqtt", owner_ + ": connected to " + config_.broker);
            }
            delay = std::chrono::milliseconds(config_.reconnect_initial_ms);
            failures = 0;
            continue;
        }
        ++failures;
        // The first failure and then every tenth are logged; all are in the outage summary.
        if (failures == 1 || failures % 10 == 0) {
            log_warn("mqtt", owner_ + ": cannot connect to " + config_.broker + " (attempt " +
                                 std::to_string(failures) + "), retrying in " +
                                 std::to_string(delay.count()) + " ms");
        }
        wait_backoff(delay);
        delay = std::min(delay * 2, max_delay);
    }
}

void MqttConnection::stop() {
    if (!client_) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (supervisor_.joinable()) {
        supervisor_.join();
    }
    try {
        if (client_->is_connected()) {
            client_->disconnect()->wait_for(std::chrono::seconds(5));
        }
    } catch (const mqtt::exception& e) {
        log_warn("mqtt", owner_ + ": disconnect: " + e.what());
    }
    connected_ = false;
    // A handler may still be finishing on the library's thread; it must not outlive us.
    while (in_handler_.load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    client_->disable_callbacks();
    client_.reset();
}

void MqttConnection::connection_lost(const std::string& cause) {
    {
        std::lock_guard lock(mutex_);
        lost_at_ = std::chrono::steady_clock::now();
        connected_.store(false, std::memory_order_release);
    }
    disconnects_.fetch_add(1, std::memory_order_relaxed);
    log_warn("mqtt", owner_ + ": connection to " + config_.broker + " lost" +
                         (cause.empty() ? std::string() : ": " + cause) + "; reconnecting");
    wake_.notify_all();
}

void MqttConnection::message_arrived(mqtt::const_message_ptr message) {
    in_handler_.fetch_add(1);
    if (on_message_) {
        on_message_(message);
    }
    in_handler_.fetch_sub(1);
}

}  // namespace edgeflow
