#include "io/mqtt/mqtt_connection.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "io/mqtt/k8s_sat_auth.h"

namespace edgeflow {
namespace {

std::atomic<int> next_thread_number{0};

constexpr std::size_t read_chunk = 64 * 1024;
// Inbound topic aliases this client accepts; a broker that uses them saves topic bytes.
constexpr std::uint16_t inbound_alias_maximum = 64;
// A DISCONNECT on the way out gets this long to be written.
constexpr auto goodbye_time = std::chrono::milliseconds(100);

std::string seconds_text(std::chrono::steady_clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
    return text;
}

std::string refusal_text(mqtt::Version version, std::uint8_t code) {
    return std::string(version == mqtt::Version::v5 ? mqtt::reason_text(code)
                                                    : mqtt::connack_311_text(code));
}

}  // namespace

MqttConnection::MqttConnection(std::string owner, MqttConfig config,
                               std::atomic<std::uint64_t>& disconnects,
                               std::atomic<std::uint64_t>& reconnects)
    : owner_(std::move(owner)),
      config_(std::move(config)),
      disconnects_(disconnects),
      reconnects_(reconnects),
      version_(config_.protocol == 5 ? mqtt::Version::v5 : mqtt::Version::v311),
      decoder_(version_),
      jitter_(static_cast<std::minstd_rand::result_type>(
          std::hash<std::string>{}(config_.client_id) ^
          static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    outbox_.resize(std::clamp<std::uint64_t>(config_.max_inflight, 1, 65535));
    inbound_ids_.resize(outbox_.size());
    inbound_done_ = std::make_unique<std::atomic<std::uint64_t>[]>(inbound_ids_.size());
    written_tags_.reserve(outbox_.size());
    if (config_.auth.method == MqttAuthConfig::Method::k8s_sat) {
        auth_ = std::make_unique<K8sSatAuth>(owner_, config_.auth.token_file);
    }
}

MqttConnection::~MqttConnection() {
    stop();
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
    if (wake_fd_ >= 0) {
        ::close(wake_fd_);
    }
}

std::uint64_t MqttConnection::reauthentications() const noexcept {
    return auth_ ? auth_->reauthentications() : 0;
}

std::uint64_t MqttConnection::reauthentication_failures() const noexcept {
    return auth_ ? auth_->failures() : 0;
}

Status MqttConnection::start(MqttHandler& handler) {
    handler_ = &handler;
    if (!mqtt::split_broker(config_.broker, config_.tls.enabled, endpoint_.host, endpoint_.port)) {
        return Status::error("cannot read the broker URI '" + config_.broker +
                             "': expected scheme://host[:port]");
    }
    if (config_.tls.enabled) {
        Status status;
        tls_ = mqtt::TlsContext::create(config_.tls, status);
        if (!tls_) {
            return Status::error("cannot use the TLS settings of '" + config_.broker +
                                 "': " + status.message());
        }
        if (!config_.tls.verify) {
            log_warn("mqtt", owner_ + ": TLS verification of " + config_.broker +
                                 " is off (tls.verify: false): any server can pose as the broker");
        }
    }
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
        return Status::error(std::string("cannot create the connection's event loop: ") +
                             std::strerror(errno));
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
    read_buffer_.resize(read_chunk);
    property_views_.reserve(16);
    acks_.reserve(outbox_.size());

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
    writable_.notify_all();
    wake();
    if (thread_.joinable()) {
        thread_.join();
    }
    set_connected(false);
    // What never left is given up: its owner must not count it as delivered.
    if (handler_ != nullptr) {
        for (std::size_t i = 0; i < outbox_count_; ++i) {
            Outgoing& slot = outbox_[(outbox_head_ + i) % outbox_.size()];
            if (slot.tag != nullptr && !slot.acked) {
                handler_->on_abandoned(slot.tag);
            }
            slot.tag = nullptr;
        }
    }
    // Stopped for good: the conditions may be gone by the time a later stop() runs.
    ready_connected_ = nullptr;
    ready_subscribed_ = nullptr;
}

void MqttConnection::pause_receiving() {
    paused_.store(true, std::memory_order_release);
    wake();
    // A read under way finishes, handing over what it took, before this returns.
    std::lock_guard lock(receive_mutex_);
}

void MqttConnection::acknowledge(std::uint64_t ack_token) noexcept {
    std::atomic<std::uint64_t>& mark = inbound_done_[ack_token % inbound_ids_.size()];
    const std::uint64_t done = ack_token + 1;
    std::uint64_t seen = mark.load(std::memory_order_relaxed);
    while (seen < done && !mark.compare_exchange_weak(seen, done, std::memory_order_release,
                                                      std::memory_order_relaxed)) {
    }
}

bool MqttConnection::acks_deferred() const noexcept {
    const std::uint64_t head = inbound_head_.load(std::memory_order_acquire);
    const std::uint64_t tail = inbound_tail_.load(std::memory_order_acquire);
    return head < tail &&
           inbound_done_[(tail - 1) % inbound_ids_.size()].load(std::memory_order_acquire) != tail;
}

bool MqttConnection::acks_due() const noexcept {
    const std::uint64_t head = inbound_head_.load(std::memory_order_acquire);
    return head < inbound_tail_.load(std::memory_order_acquire) &&
           inbound_done_[head % inbound_ids_.size()].load(std::memory_order_acquire) == head + 1;
}

void MqttConnection::move_acks_to_wire() {
    const std::size_t n = inbound_ids_.size();
    const std::uint64_t tail = inbound_tail_.load(std::memory_order_acquire);
    std::uint64_t head = inbound_head_.load(std::memory_order_relaxed);
    while (head < tail && inbound_done_[head % n].load(std::memory_order_acquire) == head + 1) {
        mqtt::encode_puback(wire_, version_, inbound_ids_[head % n]);
        ++head;
    }
    inbound_head_.store(head, std::memory_order_release);
}

void MqttConnection::metrics(MetricsWriter& writer, std::string_view role) const {
    const MetricsWriter::Labels labels = {{"endpoint", owner_}, {"role", role}};
    writer.gauge("edgeflow_mqtt_connected", "1 while the MQTT connection is up", labels,
                 connected() ? 1 : 0);
    writer.counter("edgeflow_mqtt_disconnects_total", "MQTT connections lost", labels,
                   static_cast<double>(disconnects_.load(std::memory_order_relaxed)));
    writer.counter("edgeflow_mqtt_reconnects_total", "MQTT connections made again after a loss",
                   labels, static_cast<double>(reconnects_.load(std::memory_order_relaxed)));
    writer.counter(
        "edgeflow_mqtt_protocol_errors_total",
        "MQTT packets from the broker that broke the protocol (each closed the connection)", labels,
        static_cast<double>(protocol_errors()));
    writer.counter("edgeflow_mqtt_reauthentications_total",
                   "K8S-SAT re-authentications of a live MQTT connection the broker accepted",
                   labels, static_cast<double>(reauthentications()));
    writer.counter("edgeflow_mqtt_reauthentication_failures_total",
                   "K8S-SAT re-authentications refused, unanswered in time or cut off (each "
                   "followed by a reconnect)",
                   labels, static_cast<double>(reauthentication_failures()));
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

void MqttConnection::set_last_error(std::string text) {
    std::lock_guard lock(mutex_);
    last_error_ = std::move(text);
}

// ---- publishing (any thread) -----------------------------------------------------------------

PublishResult MqttConnection::publish(const OutgoingMessage& message) {
    Outbox outbox(*this);
    return outbox.publish(message);
}

PublishResult MqttConnection::Outbox::publish(const OutgoingMessage& message) {
    return connection_.publish_locked(message);
}

PublishResult MqttConnection::publish_locked(const OutgoingMessage& message) {
    const std::uint32_t limit = broker_max_packet_.load(std::memory_order_acquire);
    if (limit != 0) {
        mqtt::PublishOptions shape;
        shape.topic = message.topic;
        shape.payload = message.payload;
        shape.qos = message.qos;
        shape.packet_id = 1;
        shape.content_type = version_ == mqtt::Version::v5 ? message.content_type : "";
        shape.message_expiry =
            version_ == mqtt::Version::v5 ? message.message_expiry : std::nullopt;
        shape.user_properties = version_ == mqtt::Version::v5
                                    ? message.user_properties
                                    : std::span<const mqtt::UserPropertyView>{};
        if (mqtt::publish_size(version_, shape) > limit) {
            return PublishResult::too_large;
        }
    }
    if (stopping_) {
        return PublishResult::stopped;
    }
    if (outbox_count_ == outbox_.size()) {
        return PublishResult::full;
    }
    Outgoing& slot = outbox_[(outbox_head_ + outbox_count_) % outbox_.size()];
    slot.topic.assign(message.topic);
    slot.payload.assign(message.payload);
    slot.content_type.assign(version_ == mqtt::Version::v5 ? message.content_type : "");
    slot.property_count = 0;
    if (version_ == mqtt::Version::v5) {
        for (const auto& p : message.user_properties) {
            if (slot.property_count == slot.properties.size()) {
                slot.properties.emplace_back();
            }
            slot.properties[slot.property_count].first.assign(p.key);
            slot.properties[slot.property_count].second.assign(p.value);
            ++slot.property_count;
        }
    }
    slot.message_expiry = version_ == mqtt::Version::v5 ? message.message_expiry : std::nullopt;
    slot.qos = message.qos;
    slot.retain = message.retain;
    slot.tag = message.tag;
    slot.sent = false;
    slot.acked = false;
    slot.packet_id = 0;
    if (message.qos > 0) {
        // Ids run in order; the oldest unacknowledged one is at most max_inflight (<= 65535)
        // behind, so the next id is never one still awaiting its PUBACK.
        slot.packet_id = next_packet_id_;
        next_packet_id_ = next_packet_id_ == 65535 ? 1 : next_packet_id_ + 1;
    }
    ++outbox_count_;
    outbox_pending_.store(true, std::memory_order_release);
    return PublishResult::queued;
}

void MqttConnection::flush() noexcept {
    // Plain TCP: the caller writes what it queued itself, when no one else is writing, so the
    // connection's thread is not woken for it. (A TLS session is not safe to write from one
    // thread while another reads, so TLS always hands over to the loop.)
    if (!tls_ && connected_.load(std::memory_order_acquire)) {
        std::unique_lock lock(write_mutex_, std::try_to_lock);
        if (lock.owns_lock() && stream_.is_open()) {
            const WirePendingOnExit mark{*this};
            move_acks_to_wire();  // connected_ implies session_up_
            move_outbox_to_wire();
            while (!wire_.empty()) {
                std::size_t put = 0;
                if (stream_.write(wire_.pending(), put) != mqtt::IoResult::done) {
                    break;  // the loop finds out why, or waits for room in the socket
                }
                wire_.consume(put);
                note_write();
            }
            if (wire_.empty()) {
                return;
            }
        }
    }
    wake();
}

void MqttConnection::wake() noexcept {
    if (wake_fd_ >= 0 && !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
    }
}

bool MqttConnection::wait_writable(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return writable_.wait_until(lock, deadline, [this] {
        return stopping_.load() ||
               (connected_.load(std::memory_order_acquire) && outbox_count_ < outbox_.size());
    }) && !stopping_;
}

std::size_t MqttConnection::outstanding() const {
    std::lock_guard lock(mutex_);
    return outbox_count_;
}

// Encodes what publishers queued, up to the send quota of QoS 1 publishes awaiting PUBACK.
// Runs on the connection's thread, under the lock: publishers wait for one batch's encoding.
void MqttConnection::move_outbox_to_wire() {
    std::unique_lock lock(mutex_);
    bool freed = false;
    while (outbox_unsent_ < outbox_count_) {
        Outgoing& slot = outbox_[(outbox_head_ + outbox_unsent_) % outbox_.size()];
        if (slot.acked) {
            ++outbox_unsent_;  // done already: a QoS 0 message or an acknowledged one
            continue;
        }
        if (slot.qos > 0 && awaiting_ack_ >= send_quota_) {
            break;
        }
        property_views_.clear();
        for (std::size_t i = 0; i < slot.property_count; ++i) {
            property_views_.push_back({slot.properties[i].first, slot.properties[i].second});
        }
        mqtt::PublishOptions publish;
        publish.payload = slot.payload;
        publish.qos = slot.qos;
        publish.retain = slot.retain;
        publish.packet_id = slot.packet_id;
        publish.dup = slot.sent;  // sent on an earlier connection of a resumed session
        publish.content_type = slot.content_type;
        publish.message_expiry = slot.message_expiry;
        publish.user_properties = property_views_;
        publish.topic = slot.topic;
        if (version_ == mqtt::Version::v5) {
            const auto alias = outbound_aliases_.use(slot.topic);
            publish.topic_alias = alias.alias;
            if (!alias.send_topic) {
                publish.topic = {};
            }
        }
        mqtt::encode_publish(wire_, version_, publish);
        slot.sent = true;
        ++outbox_unsent_;
        if (slot.qos > 0) {
            ++awaiting_ack_;
        } else {
            slot.acked = true;
            if (slot.tag != nullptr) {
                written_tags_.push_back(slot.tag);
                slot.tag = nullptr;
            }
        }
    }
    // Written QoS 0 messages at the front leave the outbox at once.
    while (outbox_count_ > 0 && outbox_unsent_ > 0 && outbox_[outbox_head_].acked) {
        outbox_head_ = (outbox_head_ + 1) % outbox_.size();
        --outbox_count_;
        --outbox_unsent_;
        freed = true;
    }
    // Whatever the send quota held back goes out when a PUBACK frees it (handle sets this).
    outbox_pending_.store(false, std::memory_order_release);
    lock.unlock();
    if (freed) {
        writable_.notify_all();
    }
    // A QoS 0 publish is as delivered as it gets once written.
    for (const void* tag : written_tags_) {
        handler_->on_published(0, 0, tag);
    }
    written_tags_.clear();
}

// ---- the loop (the connection's thread) ----------------------------------------------------

void MqttConnection::arm_write_interest(bool want) noexcept {
    if (want == write_interest_ || !stream_.is_open()) {
        return;
    }
    write_interest_ = want;
    epoll_event event{};
    event.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    event.data.fd = stream_.fd();
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, stream_.fd(), &event);
}

bool MqttConnection::write_pending(bool with_outbox) {
    // Most turns of a destination's loop only read PUBACKs: nothing to write, and no lock to
    // take against a publisher writing from its own thread.
    if (local_.empty() && !wire_pending_.load(std::memory_order_acquire) && !acks_due() &&
        !(with_outbox && outbox_pending_.load(std::memory_order_acquire))) {
        return true;
    }
    std::lock_guard lock(write_mutex_);
    const WirePendingOnExit mark{*this};
    if (session_up_.load(std::memory_order_relaxed)) {
        move_acks_to_wire();
    }
    if (!local_.empty()) {
        wire_.append(local_.pending());
        local_.clear();
    }
    if (with_outbox && connected_.load(std::memory_order_relaxed)) {
        move_outbox_to_wire();
    }
    while (!wire_.empty()) {
        std::size_t put = 0;
        switch (stream_.write(wire_.pending(), put)) {
            case mqtt::IoResult::done:
                wire_.consume(put);
                note_write();
                break;
            case mqtt::IoResult::would_block:
                arm_write_interest(true);
                return true;
            case mqtt::IoResult::closed:
                lose("the broker closed the connection");
                return false;
            case mqtt::IoResult::failed:
                lose(stream_.error());
                return false;
        }
    }
    arm_write_interest(false);
    return true;
}

void MqttConnection::send_final(std::uint8_t reason_code) {
    // What was waiting is dropped: after a protocol error only the DISCONNECT may follow.
    local_.clear();
    {
        std::lock_guard lock(write_mutex_);
        wire_.clear();
        mqtt::encode_disconnect(wire_, version_, reason_code);
        wire_pending_.store(true, std::memory_order_release);
    }
    static_cast<void>(write_pending(false));
}

void MqttConnection::note_write() noexcept {
    last_write_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                         std::memory_order_relaxed);
}

bool MqttConnection::read_packets() {
    while (true) {
        if (read_end_ == read_buffer_.size()) {
            // Keep the unread tail; grow only when one packet needs more than the buffer holds.
            if (read_begin_ > 0) {
                std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_,
                             read_end_ - read_begin_);
                read_end_ -= read_begin_;
                read_begin_ = 0;
            }
            if (read_end_ == read_buffer_.size()) {
                read_buffer_.resize(std::max(read_buffer_.size() * 2, decoder_.need()));
            }
        }
        std::size_t got = 0;
        const std::size_t space = read_buffer_.size() - read_end_;
        const auto result =
            stream_.read(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_, got);
        if (result == mqtt::IoResult::would_block) {
            return true;
        }
        if (result == mqtt::IoResult::closed) {
            lose(lost_cause_.empty() ? "the broker closed the connection" : lost_cause_);
            return false;
        }
        if (result == mqtt::IoResult::failed) {
            lose(stream_.error());
            return false;
        }
        read_end_ += got;
        mqtt::Packet packet;
        mqtt::DecodeError error;
        while (read_begin_ < read_end_) {
            const std::string_view bytes(read_buffer_.data() + read_begin_,
                                         read_end_ - read_begin_);
            const auto status = decoder_.next(bytes, packet, error);
            if (status == mqtt::DecodeStatus::need_more) {
                break;
            }
            if (status == mqtt::DecodeStatus::error) {
                settle_acks();
                handler_->on_burst_end();
                protocol_errors_.fetch_add(1, std::memory_order_relaxed);
                log_error("mqtt", owner_ + ": protocol error from " + config_.broker + ": " +
                                      std::string(error.what));
                send_final(error.reason);
                lose("protocol error: " + std::string(error.what));
                return false;
            }
            if (!handle(packet)) {
                settle_acks();
                handler_->on_burst_end();
                return false;
            }
            read_begin_ += packet.size;
        }
        settle_acks();
        handler_->on_burst_end();
        if (acks_deferred()) {
            // Nothing goes back on this socket until those messages are delivered, so no
            // PUBACK carries the TCP acknowledgement of what was read: without this the kernel
            // delays it, and a broker with Nagle's algorithm on (mosquitto's default) holds
            // its next small PUBLISH until it comes, adding that delay to every message.
            stream_.quick_ack();
        }
        if (read_begin_ == read_end_) {
            read_begin_ = read_end_ = 0;
            if (read_buffer_.size() > 16 * read_chunk) {
                // One large packet grew the buffer; give the memory back.
                read_buffer_.resize(read_chunk);
                read_buffer_.shrink_to_fit();
            }
        }
        if (!tls_ && got < space) {
            // A short read from the socket: it is empty for now, and epoll says when it is not.
            // (A TLS read returns one record at a time, so TLS reads on until it would block.)
            return true;
        }
    }
}

bool MqttConnection::handle(const mqtt::Packet& packet) {
    switch (packet.type) {
        case mqtt::PacketType::connack:
            connack_view_ = packet.connack;
            connack_reason_string_.assign(packet.connack.reason_string);
            connack_ = true;
            // Messages may follow the CONNACK in the same read, before the connection counts
            // as up: their PUBACKs may go out from here on.
            session_up_.store(packet.connack.reason == 0, std::memory_order_release);
            return true;
        case mqtt::PacketType::publish: {
            if (packet.publish.qos > 1) {
                protocol_errors_.fetch_add(1, std::memory_order_relaxed);
                send_final(mqtt::reason::qos_not_supported);
                lose("the broker sent a QoS 2 message; only QoS 0 and 1 are subscribed");
                return false;
            }
            if (packet.publish.dup) {
                duplicates_.fetch_add(1, std::memory_order_relaxed);
            }
            if (paused_.load(std::memory_order_acquire)) {
                // Not taken (counted, and logged by the owner): a kept session has the broker
                // send it again.
                refused_while_paused_.fetch_add(1, std::memory_order_relaxed);
                return true;
            }
            if (packet.publish.qos == 0) {
                static_cast<void>(handler_->on_message(packet.publish, 0));
                return true;
            }
            if (!wait_inbound_room()) {
                return lost_cause_.empty();  // paused or stopping: not taken; or lost
            }
            const std::uint64_t token = inbound_tail_.load(std::memory_order_relaxed);
            const Taken taken = handler_->on_message(packet.publish, token);
            if (taken == Taken::no) {
                return true;
            }
            // Even one acknowledged at once waits in the ring behind those before it.
            inbound_ids_[token % inbound_ids_.size()] = packet.publish.packet_id;
            if (taken == Taken::acknowledge) {
                acknowledge(token);
            }
            inbound_tail_.store(token + 1, std::memory_order_release);
            return true;
        }
        case mqtt::PacketType::puback:
            // Settled together at the end of the read: one lock for a burst of PUBACKs.
            acks_.push_back({packet.ack.packet_id, packet.ack.reason});
            return true;
        case mqtt::PacketType::suback:
            if (packet.suback.packet_id == suback_id_) {
                granted_.assign(packet.suback.reason_codes);
                suback_ = true;
            }
            return true;
        case mqtt::PacketType::unsuback:
            return true;
        case mqtt::PacketType::pingresp:
            ping_sent_ = {};
            return true;
        case mqtt::PacketType::disconnect: {
            std::string why = "the broker disconnected: " +
                              std::string(mqtt::reason_text(packet.disconnect.reason));
            if (!packet.disconnect.reason_string.empty()) {
                why += " (" + std::string(packet.disconnect.reason_string) + ")";
            }
            if (auth_ && auth_->reauthenticating()) {
                why = auth_->refused(why);
            }
            lose(why);
            return false;
        }
        case mqtt::PacketType::auth:
            if (auth_) {
                Status status = auth_->on_auth(packet.auth, connack_, local_);
                if (!status) {
                    log_error("mqtt", owner_ + ": " + status.message());
                    send_final(mqtt::reason::protocol_error);
                    lose(status.message());
                }
                return status.is_ok();
            }
            // Enhanced authentication is not configured, so the broker has no reason to ask.
            send_final(mqtt::reason::protocol_error);
            lose("the broker sent AUTH without an authentication method");
            return false;
        default:
            lose("unexpected packet from the broker");
            return false;
    }
}

void MqttConnection::settle_acks() {
    if (acks_.empty()) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        for (Ack& ack : acks_) {
            // PUBACKs come in publish order, so the match is almost always the oldest.
            for (std::size_t i = 0; i < outbox_unsent_; ++i) {
                Outgoing& slot = outbox_[(outbox_head_ + i) % outbox_.size()];
                if (slot.qos > 0 && !slot.acked && slot.packet_id == ack.packet_id) {
                    slot.acked = true;
                    --awaiting_ack_;
                    ack.matched = true;
                    ack.tag = slot.tag;
                    slot.tag = nullptr;
                    break;
                }
            }
        }
        while (outbox_count_ > 0 && outbox_unsent_ > 0 && outbox_[outbox_head_].acked) {
            outbox_head_ = (outbox_head_ + 1) % outbox_.size();
            --outbox_count_;
            --outbox_unsent_;
        }
        if (outbox_unsent_ < outbox_count_) {
            outbox_pending_.store(true, std::memory_order_release);
        }
    }
    writable_.notify_all();
    for (const Ack& ack : acks_) {
        if (ack.matched) {
            handler_->on_published(ack.packet_id, ack.reason, ack.tag);
        }
    }
    acks_.clear();
}

bool MqttConnection::keep_alive(std::chrono::steady_clock::time_point now) {
    if (keep_alive_s_ == 0) {
        return true;
    }
    const auto interval = std::chrono::seconds(keep_alive_s_);
    if (ping_sent_ != std::chrono::steady_clock::time_point{}) {
        if (now - ping_sent_ >= interval) {
            lose("no PINGRESP within " + std::to_string(keep_alive_s_) + " s");
            return false;
        }
        return true;
    }
    const auto last_write = std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_write_ns_.load(std::memory_order_relaxed)));
    if (now - last_write >= interval) {
        mqtt::encode_pingreq(local_);
        ping_sent_ = now;
    }
    return true;
}

bool MqttConnection::turn(std::chrono::milliseconds timeout) {
    // What was produced before this turn (the CONNECT, on_connected's publishes) goes out
    // before the wait.
    if (!write_pending()) {
        return false;
    }
    epoll_event events[4];
    const int n = ::epoll_wait(epoll_fd_, events, 4, static_cast<int>(timeout.count()));
    bool readable = stream_.buffered();
    for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == wake_fd_) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto got = ::read(wake_fd_, &count, sizeof count);
            wake_pending_.store(false, std::memory_order_release);
        } else {
            if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
                readable = true;
            }
        }
    }
    if (readable) {
        const std::lock_guard lock(receive_mutex_);
        if (!read_packets()) {
            return false;
        }
    }
    if (!keep_alive(std::chrono::steady_clock::now())) {
        return false;
    }
    if (auth_ && connack_ && connack_view_.reason == 0) {
        if (Status status =
                auth_->poll(std::chrono::steady_clock::now(), std::chrono::system_clock::now(),
                            std::chrono::seconds(config_.connect_timeout), local_);
            !status) {
            lose(status.message());
            return false;
        }
    }
    return write_pending();
}

void MqttConnection::lose(std::string cause) {
    if (lost_cause_.empty()) {
        lost_cause_ = std::move(cause);
    }
}

bool MqttConnection::connect_once() {
    set_last_error({});
    lost_cause_.clear();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.connect_timeout);
    {
        // Publishers look at the stream under this lock (flush writes from their thread).
        std::lock_guard lock(write_mutex_);
        if (Status s = stream_.open(endpoint_.host, endpoint_.port, tls_.get(), deadline); !s) {
            set_last_error(s.message());
            return false;
        }
        wire_.clear();
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = stream_.fd();
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stream_.fd(), &event);
    write_interest_ = false;
    read_begin_ = read_end_ = 0;
    local_.clear();
    decoder_.set_version(version_);
    decoder_.aliases().reset(version_ == mqtt::Version::v5 ? inbound_alias_maximum : 0);
    ping_sent_ = {};
    note_write();
    keep_alive_s_ = static_cast<std::uint16_t>(config_.keep_alive);

    mqtt::ConnectOptions connect;
    connect.version = version_;
    connect.client_id = config_.client_id;
    connect.clean_start = config_.clean_start;
    connect.keep_alive = static_cast<std::uint16_t>(config_.keep_alive);
    connect.username = config_.username;
    if (!config_.username.empty() && !config_.password.empty()) {
        connect.password = config_.password;
    }
    connect.session_expiry = static_cast<std::uint32_t>(config_.session_expiry);
    connect.receive_maximum = static_cast<std::uint16_t>(outbox_.size());
    connect.topic_alias_maximum = version_ == mqtt::Version::v5 ? inbound_alias_maximum : 0;
    // Read at every connect, so a reconnect carries the token the kubelet rotated in.
    if (Status status = auth_ ? auth_->prepare_connect(connect) : Status::ok(); !status) {
        set_last_error(status.message());
        close_stream();
        return false;
    }
    mqtt::encode_connect(local_, connect);
    connack_ = false;

    while (!connack_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (stopping_ || left.count() <= 0) {
            if (!stopping_) {
                const std::string why =
                    "no CONNACK within " + std::to_string(config_.connect_timeout) + " s";
                log_warn("mqtt", owner_ + ": " + why + " from " + config_.broker);
                set_last_error(why);
            }
            close_stream();
            return false;
        }
        if (!turn(std::min(left, std::chrono::milliseconds(100)))) {
            set_last_error(lost_cause_);
            close_stream();
            return false;
        }
    }
    if (connack_view_.reason != 0) {
        std::string why = refusal_text(version_, connack_view_.reason);
        if (!connack_reason_string_.empty()) {
            why += " (" + connack_reason_string_ + ")";
        }
        log_error("mqtt", owner_ + ": " + config_.broker + " refused the connection: " + why);
        set_last_error(why);
        close_stream();
        return false;
    }
    if (connack_view_.server_keep_alive) {
        keep_alive_s_ = *connack_view_.server_keep_alive;
    }
    {
        std::lock_guard lock(mutex_);
        broker_max_packet_.store(connack_view_.maximum_packet_size, std::memory_order_release);
        send_quota_ = std::min<std::size_t>(outbox_.size(), connack_view_.receive_maximum);
        outbound_aliases_.reset(version_ == mqtt::Version::v5 ? connack_view_.topic_alias_maximum
                                                              : 0);
        // Everything not yet acknowledged goes out again, in order: with DUP set when the
        // broker kept the session (it may have seen them), as new publishes otherwise.
        outbox_unsent_ = 0;
        awaiting_ack_ = 0;
        outbox_pending_.store(outbox_count_ > 0, std::memory_order_release);
        for (std::size_t i = 0; i < outbox_count_; ++i) {
            Outgoing& slot = outbox_[(outbox_head_ + i) % outbox_.size()];
            slot.sent = slot.sent && connack_view_.session_present;
        }
    }
    if (Status status = handler_->on_connected(*this); !status) {
        log_error("mqtt", owner_ + ": " + status.message());
        set_last_error(status.message());
        disconnect_cleanly();
        close_stream();
        return false;
    }
    return true;
}

void MqttConnection::disconnect_cleanly() {
    if (!stream_.is_open()) {
        return;
    }
    mqtt::encode_disconnect(local_, version_, mqtt::reason::success);
    const auto until = std::chrono::steady_clock::now() + goodbye_time;
    while (std::chrono::steady_clock::now() < until && lost_cause_.empty()) {
        if (!write_pending()) {
            break;
        }
        {
            std::lock_guard lock(write_mutex_);
            if (wire_.empty()) {
                break;
            }
        }
        pollfd p{stream_.fd(), POLLOUT, 0};
        ::poll(&p, 1, 10);
    }
}

void MqttConnection::close_stream() {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream_.fd(), nullptr);
    std::lock_guard lock(write_mutex_);
    stream_.close();
    session_up_.store(false, std::memory_order_release);
    // QoS 0 publishes written to the lost socket are gone; QoS 1 ones wait in the outbox.
    wire_.clear();
    // Messages received on it are not acknowledged on the next one: the broker sends them
    // again if it kept the session.
    inbound_head_.store(inbound_tail_.load(std::memory_order_relaxed), std::memory_order_release);
}

bool MqttConnection::wait_inbound_room() {
    const std::size_t n = inbound_ids_.size();
    const auto full = [&] {
        return inbound_tail_.load(std::memory_order_relaxed) -
                   inbound_head_.load(std::memory_order_acquire) >=
               n;
    };
    if (!full()) {
        return true;
    }
    // What the owner holds from this read goes on first: its acknowledgements free the ring.
    handler_->on_burst_end();
    while (full()) {
        if (stopping_.load(std::memory_order_acquire) || paused_.load(std::memory_order_acquire)) {
            return false;
        }
        // Not reading meanwhile, so keep the broker's keep-alive timer happy by writing.
        const auto now = std::chrono::steady_clock::now();
        const auto last_write = std::chrono::steady_clock::time_point(
            std::chrono::steady_clock::duration(last_write_ns_.load(std::memory_order_relaxed)));
        if (keep_alive_s_ != 0 && now - last_write >= std::chrono::seconds(keep_alive_s_)) {
            mqtt::encode_pingreq(local_);
        }
        if (!write_pending(false)) {
            return false;
        }
        if (!full()) {
            break;
        }
        pollfd p{wake_fd_, POLLIN, 0};
        ::poll(&p, 1, 10);
        std::uint64_t count = 0;
        [[maybe_unused]] const auto got = ::read(wake_fd_, &count, sizeof count);
        wake_pending_.store(false, std::memory_order_release);
    }
    // A PINGRESP may be waiting unread: the keep-alive check starts over.
    if (ping_sent_ != std::chrono::steady_clock::time_point{}) {
        ping_sent_ = std::chrono::steady_clock::now();
    }
    return true;
}

void MqttConnection::wait_backoff(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void MqttConnection::set_connected(bool connected) noexcept {
    {
        // Under the lock a publisher in wait_writable either sees the change or is waiting
        // for the notification below: none is lost.
        std::lock_guard lock(mutex_);
        connected_.store(connected, std::memory_order_release);
    }
    if (ready_connected_ != nullptr) {
        ready_connected_->set(connected);
    }
    if (!connected) {
        subscribed_.store(false, std::memory_order_release);
        if (ready_subscribed_ != nullptr) {
            ready_subscribed_->set(false);
        }
    }
    writable_.notify_all();
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
            // Between half and all of the delay, so clients that lost the same broker do not
            // all come back in the same millisecond.
            std::uniform_int_distribution<long long> spread(delay.count() / 2, delay.count());
            const auto wait = std::chrono::milliseconds(spread(jitter_));
            // The first failure and then every tenth are logged; all are in the outage summary.
            if (failures == 1 || failures % 10 == 0) {
                log_warn("mqtt", owner_ + ": cannot connect to " + config_.broker + " (" +
                                     last_error() + ", attempt " + std::to_string(failures) +
                                     "), retrying in " + std::to_string(wait.count()) + " ms");
            }
            wait_backoff(wait);
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

        // Between turns the loop sleeps in epoll_wait; publishers and stop() wake it.
        while (!stopping_ && turn(std::chrono::milliseconds(1000))) {
        }
        if (stopping_ && lost_cause_.empty()) {
            disconnect_cleanly();
            set_connected(false);
            close_stream();
            break;
        }
        set_connected(false);
        close_stream();
        {
            std::lock_guard lock(mutex_);
            lost_at_ = std::chrono::steady_clock::now();
        }
        disconnects_.fetch_add(1, std::memory_order_relaxed);
        log_warn("mqtt", owner_ + ": connection to " + config_.broker + " lost: " + lost_cause_ +
                             "; reconnecting");
    }
    set_connected(false);
}

Status MqttConnection::subscribe(const std::vector<std::string>& filters, int qos) {
    std::vector<mqtt::Subscription> list;
    list.reserve(filters.size());
    for (const auto& f : filters) {
        list.push_back({f, static_cast<std::uint8_t>(qos)});
    }
    suback_ = false;
    suback_id_ = 0;
    {
        std::lock_guard lock(mutex_);
        // Subscriptions share the id space with publishes; this one is not in the outbox.
        suback_id_ = next_packet_id_;
        next_packet_id_ = next_packet_id_ == 65535 ? 1 : next_packet_id_ + 1;
    }
    mqtt::encode_subscribe(local_, version_, suback_id_, list);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.connect_timeout);
    while (!suback_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (stopping_) {
            return Status::error("stopped while subscribing");
        }
        if (left.count() <= 0) {
            return Status::error("no SUBACK within " + std::to_string(config_.connect_timeout) +
                                 " s");
        }
        if (!turn(std::min(left, std::chrono::milliseconds(100)))) {
            return Status::error("connection lost while subscribing: " + lost_cause_);
        }
    }
    for (std::size_t i = 0; i < granted_.size() && i < filters.size(); ++i) {
        const auto code = static_cast<std::uint8_t>(granted_[i]);
        if (code >= 0x80) {
            return Status::error("the broker refused the subscription to '" + filters[i] +
                                 "' (reason code " + std::to_string(code) + ")");
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

}  // namespace edgeflow
