#include "io/mqtt/mqtt_connection.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/log.h"

namespace edgeflow {
namespace {

std::atomic<int> next_thread_number{0};
std::once_flag library_initialised;

// How long one turn of the network loop waits for the socket. Stopping is noticed within it.
constexpr int loop_wait_ms = 100;

std::string seconds_text(std::chrono::steady_clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
    return text;
}

// Splits tcp://host:port (or ssl://, mqtt://, mqtts://; [v6]:port) into host and port.
bool split_broker(const std::string& uri, bool tls, std::string& host, int& port) {
    const auto scheme_end = uri.find("://");
    std::string rest = scheme_end == std::string::npos ? uri : uri.substr(scheme_end + 3);
    while (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    port = tls ? 8883 : 1883;
    std::string port_text;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string::npos) {
            return false;
        }
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') {
                return false;
            }
            port_text = rest.substr(close + 2);
        }
    } else {
        const auto colon = rest.rfind(':');
        host = rest.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = rest.substr(colon + 1);
        }
    }
    if (!port_text.empty()) {
        try {
            std::size_t used = 0;
            port = std::stoi(port_text, &used);
            if (used != port_text.size() || port <= 0 || port > 65535) {
                return false;
            }
        } catch (const std::exception&) {
            return false;
        }
    }
    return !host.empty();
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
    if (client_ != nullptr) {
        mosquitto_destroy(client_);
    }
}

Status MqttConnection::start(MqttHandler& handler) {
    handler_ = &handler;
    std::call_once(library_initialised, [] { mosquitto_lib_init(); });
    if (!split_broker(config_.broker, config_.tls.enabled, endpoint_.host, endpoint_.port)) {
        return Status::error("cannot read the broker URI '" + config_.broker +
                             "': expected scheme://host[:port]");
    }
    client_ = mosquitto_new(config_.client_id.c_str(), config_.clean_start, this);
    if (client_ == nullptr) {
        return Status::error("cannot create an MQTT client for '" + config_.broker + "'");
    }
    // Publishes come from other threads while this connection's thread runs the loop.
    mosquitto_threaded_set(client_, true);
    mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION,
                         config_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(client_, MOSQ_OPT_SEND_MAXIMUM,
                         static_cast<int>(std::min<std::uint64_t>(config_.max_inflight, 65535)));
    mosquitto_int_option(client_, MOSQ_OPT_RECEIVE_MAXIMUM,
                         static_cast<int>(std::min<std::uint64_t>(config_.max_inflight, 65535)));
    if (!config_.username.empty()) {
        mosquitto_username_pw_set(client_, config_.username.c_str(),
                                  config_.password.empty() ? nullptr : config_.password.c_str());
    }
    if (config_.tls.enabled) {
        const auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
        if (config_.tls.ca_file.empty()) {
            mosquitto_int_option(client_, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        }
        const int rc = mosquitto_tls_set(client_, or_null(config_.tls.ca_file), nullptr,
                                         or_null(config_.tls.cert_file),
                                         or_null(config_.tls.key_file), nullptr);
        if (rc != MOSQ_ERR_SUCCESS) {
            return Status::error("cannot use the TLS files of '" + config_.broker +
                                 "': " + mosquitto_strerror(rc));
        }
        mosquitto_tls_opts_set(client_, config_.tls.verify ? 1 : 0, nullptr, nullptr);
        mosquitto_tls_insecure_set(client_, !config_.tls.verify);
    }
    mosquitto_connect_v5_callback_set(client_, &MqttConnection::on_connect);
    mosquitto_message_v5_callback_set(client_, &MqttConnection::on_message);
    mosquitto_publish_v5_callback_set(client_, &MqttConnection::on_publish);
    mosquitto_subscribe_v5_callback_set(client_, &MqttConnection::on_subscribe);

    thread_ = std::thread([this] { run(); });
    const std::string name = "ef-mqtt-" + std::to_string(next_thread_number.fetch_add(1));
    pthread_setname_np(thread_.native_handle(), name.c_str());
    return Status::ok();
}

void MqttConnection::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    set_connected(false);
    // Stopped for good: the conditions may be gone by the time a later stop() runs.
    ready_connected_ = nullptr;
    ready_subscribed_ = nullptr;
}

std::string MqttConnection::state() const {
    if (stopping_) {
        return "closed";
    }
    if (connected()) {
        return "connected to " + config_.broker;
    }
    std::lock_guard lock(mutex_);
    if (!ever_connected_) {
        return "never connected to " + config_.broker +
               (last_error_.empty() ? std::string() : " (" + last_error_ + ")");
    }
    return "disconnected from " + config_.broker + " for " +
           seconds_text(std::chrono::steady_clock::now() - lost_at_);
}

std::string MqttConnection::last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
}

bool MqttConnection::loop_until(const std::atomic<bool>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done.load(std::memory_order_acquire)) {
        if (stopping_ || std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        const int rc = mosquitto_loop(client_, loop_wait_ms, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            std::lock_guard lock(mutex_);
            last_error_ = mosquitto_strerror(rc);
            return false;
        }
    }
    return true;
}

bool MqttConnection::connect_once() {
    mosquitto_property* properties = nullptr;
    if (config_.protocol == 5 && config_.session_expiry > 0) {
        mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                     static_cast<std::uint32_t>(config_.session_expiry));
    }
    connack_ = false;
    {
        std::lock_guard lock(mutex_);
        last_error_.clear();
    }
    const int rc =
        mosquitto_connect_bind_v5(client_, endpoint_.host.c_str(), endpoint_.port,
                                  static_cast<int>(config_.keep_alive), nullptr, properties);
    mosquitto_property_free_all(&properties);
    if (rc != MOSQ_ERR_SUCCESS) {
        std::lock_guard lock(mutex_);
        last_error_ = rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno))
                                           : std::string(mosquitto_strerror(rc));
        return false;
    }
    if (!loop_until(connack_, std::chrono::seconds(config_.connect_timeout))) {
        if (!stopping_) {
            const std::string why =
                "no CONNACK within " + std::to_string(config_.connect_timeout) + " s";
            log_warn("mqtt", owner_ + ": " + why + " from " + config_.broker);
            std::lock_guard lock(mutex_);
            if (last_error_.empty()) {
                last_error_ = why;
            }
        }
        mosquitto_disconnect(client_);
        return false;
    }
    if (connack_code_ != 0) {
        const char* why = config_.protocol == 5 ? mosquitto_reason_string(connack_code_)
                                                : mosquitto_connack_string(connack_code_);
        log_error("mqtt", owner_ + ": " + config_.broker + " refused the connection: " + why);
        {
            std::lock_guard lock(mutex_);
            last_error_ = why;
        }
        mosquitto_disconnect(client_);
        return false;
    }
    if (auto status = handler_->on_connected(*this); !status) {
        log_error("mqtt", owner_ + ": " + status.message());
        mosquitto_disconnect(client_);
        return false;
    }
    return true;
}

void MqttConnection::wait_backoff(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void MqttConnection::set_connected(bool connected) noexcept {
    connected_.store(connected, std::memory_order_release);
    if (ready_connected_ != nullptr) {
        ready_connected_->set(connected);
    }
    if (!connected) {
        subscribed_.store(false, std::memory_order_release);
        if (ready_subscribed_ != nullptr) {
            ready_subscribed_->set(false);
        }
    }
}

void MqttConnection::mark_lost(const std::string& cause) {
    {
        std::lock_guard lock(mutex_);
        lost_at_ = std::chrono::steady_clock::now();
    }
    set_connected(false);
    disconnects_.fetch_add(1, std::memory_order_relaxed);
    log_warn("mqtt",
             owner_ + ": connection to " + config_.broker + " lost: " + cause + "; reconnecting");
}

void MqttConnection::run() {
    auto delay = std::chrono::milliseconds(config_.reconnect_initial_ms);
    const auto max_delay = std::chrono::milliseconds(config_.reconnect_max_ms);
    std::uint64_t failures = 0;
    while (!stopping_) {
        if (!connect_once()) {
            if (stopping_) {
                break;
            }
            ++failures;
            // The first failure and then every tenth are logged; all are in the outage summary.
            if (failures == 1 || failures % 10 == 0) {
                std::string why;
                {
                    std::lock_guard lock(mutex_);
                    why = last_error_;
                }
                log_warn("mqtt", owner_ + ": cannot connect to " + config_.broker + " (" + why +
                                     ", attempt " + std::to_string(failures) + "), retrying in " +
                                     std::to_string(delay.count()) + " ms");
            }
            wait_backoff(delay);
            delay = std::min(delay * 2, max_delay);
            continue;
        }
        const bool again = ever_connected_.exchange(true);
        set_connected(true);
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

        // A lost connection shows in the loop's return code; no disconnect callback is needed.
        while (!stopping_) {
            const int rc = mosquitto_loop(client_, loop_wait_ms, 1);
            if (rc != MOSQ_ERR_SUCCESS) {
                mark_lost(rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno))
                                               : std::string(mosquitto_strerror(rc)));
                break;
            }
        }
    }
    if (connected()) {
        // A clean DISCONNECT, written out by a few more turns of the loop.
        mosquitto_disconnect_v5(client_, 0, nullptr);
        for (int i = 0; i < 10 && mosquitto_loop(client_, 10, 1) == MOSQ_ERR_SUCCESS; ++i) {
        }
    }
    set_connected(false);
}

Status MqttConnection::subscribe(const std::vector<std::string>& filters, int qos) {
    std::vector<char*> list;
    list.reserve(filters.size());
    for (const auto& f : filters) {
        list.push_back(const_cast<char*>(f.c_str()));  // the library does not write to them
    }
    suback_ = false;
    int mid = 0;
    const int rc = mosquitto_subscribe_multiple(client_, &mid, static_cast<int>(list.size()),
                                                list.data(), qos, 0, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        return Status::error(std::string("subscribe failed: ") + mosquitto_strerror(rc));
    }
    suback_mid_ = mid;
    if (!loop_until(suback_, std::chrono::seconds(config_.connect_timeout))) {
        return Status::error("no SUBACK within " + std::to_string(config_.connect_timeout) + " s");
    }
    for (std::size_t i = 0; i < granted_.size() && i < filters.size(); ++i) {
        if (granted_[i] >= 0x80) {
            return Status::error("the broker refused the subscription to '" + filters[i] +
                                 "' (reason code " + std::to_string(granted_[i]) + ")");
        }
    }
    subscribed_.store(true, std::memory_order_release);
    if (ready_subscribed_ != nullptr) {
        ready_subscribed_->set(true);
    }
    std::string text;
    for (const auto& f : filters) {
        text += (text.empty() ? "" : ", ") + f;
    }
    log_info("mqtt", owner_ + ": subscribed to " + text);
    return Status::ok();
}

int MqttConnection::publish(const std::string& topic, std::string_view payload, int qos,
                            bool retain, const mqtt5__property* properties, int& mid) noexcept {
    return mosquitto_publish_v5(client_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                payload.data(), qos, retain, properties);
}

void MqttConnection::on_connect(mosquitto*, void* self, int rc, int, const mqtt5__property*) {
    auto* connection = static_cast<MqttConnection*>(self);
    connection->connack_code_ = rc;
    connection->connack_.store(true, std::memory_order_release);
}

void MqttConnection::on_message(mosquitto*, void* self, const mosquitto_message* message,
                                const mqtt5__property* properties) {
    static_cast<MqttConnection*>(self)->handler_->on_message(*message, properties);
}

void MqttConnection::on_publish(mosquitto*, void* self, int mid, int reason,
                                const mqtt5__property*) {
    static_cast<MqttConnection*>(self)->handler_->on_published(mid, reason);
}

void MqttConnection::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                                  const mqtt5__property*) {
    auto* connection = static_cast<MqttConnection*>(self);
    if (mid != connection->suback_mid_) {
        return;
    }
    connection->granted_.assign(granted, granted + count);
    connection->suback_.store(true, std::memory_order_release);
}

}  // namespace edgeflow
