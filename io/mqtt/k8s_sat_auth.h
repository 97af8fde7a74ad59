// K8sSatAuth: the client's side of MQTT 5 enhanced authentication with a Kubernetes
// service-account token (method `K8S-SAT`), as the Azure IoT Operations broker takes it from
// in-cluster clients.
//
// The exchange, as AIO documents it: the CONNECT carries authentication method `K8S-SAT` and the
// raw token bytes as authentication data, and no username or password. The broker closes the
// connection of a client whose token expired (without a DISCONNECT), and an MQTT 5 client may
// re-authenticate before that with an AUTH packet (reason 0x19, same method, the new token);
// the broker answers AUTH success (0x00), or disconnects when it refuses. Should the broker ask
// to continue (AUTH 0x18), the answer is the current token: this method has nothing else to
// send (at most four rounds per exchange, so a broker cannot keep a client in a loop).
//
// When a re-authentication starts (poll()):
// - the token file holds a new token (checked about once a second: ServiceAccountToken::check);
// - or the token's own renewal time passed without one (ServiceAccountToken::renew_at(): 90% of
//   its lifetime, at the latest 60 s before `exp`): the file is read again and whatever it holds
//   is sent, once per token. The same token again only confirms it; the warning says the kubelet
//   did not rotate it, and the broker will close the connection at `exp`.
// One re-authentication at a time; one not answered within the answer timeout loses the
// connection, and the reconnect reads the file again. Counted: re-authentications answered with
// success, and failed ones (refused, unanswered, or cut off by the connection ending).
//
// Owned by an MqttConnection and used from its thread only; the counters may be read from any
// thread. What it sends is appended to the connection's write buffer. Allocates when it reads
// the token (at connect and rotation), never per message.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "io/mqtt/codec/codec.h"
#include "io/mqtt/service_account_token.h"

namespace edgeflow {

class K8sSatAuth {
public:
    static constexpr std::string_view method = "K8S-SAT";
    /// Continue-authentication rounds allowed per exchange.
    static constexpr int max_rounds = 4;

    /// `owner` names the connection in logs.
    K8sSatAuth(std::string owner, std::string token_file,
               std::chrono::milliseconds check_interval = std::chrono::seconds(1));

    /// Before each CONNECT: reads the token file again (it may have been rotated while the
    /// connection was down) and sets the authentication method and data; the views are valid
    /// until the next call. Fails when the file cannot be read. A re-authentication still
    /// awaiting its answer from the previous connection is counted as failed.
    Status prepare_connect(mqtt::ConnectOptions& connect);

    /// An AUTH packet from the broker; `accepted` says whether the CONNACK came already. The
    /// answer, if any, goes to `out`. An error means the connection must end: a DISCONNECT with
    /// protocol error and the message as the cause.
    Status on_auth(const mqtt::AuthView& auth, bool accepted, mqtt::WriteBuffer& out);
    /// Once per loop turn on an accepted connection: starts a re-authentication when one is due
    /// (appending the AUTH to `out`), and gives up on one unanswered for `answer_timeout`: the
    /// error then is why the connection is lost.
    Status poll(std::chrono::steady_clock::time_point now,
                std::chrono::system_clock::time_point wall, std::chrono::seconds answer_timeout,
                mqtt::WriteBuffer& out);

    /// Whether a re-authentication was sent and not yet answered.
    bool reauthenticating() const noexcept { return in_flight_; }
    /// The broker disconnected with `why` while a re-authentication was under way: counted and
    /// logged as a refusal; returns the connection's cause of loss.
    std::string refused(const std::string& why);

    const ServiceAccountToken& token() const noexcept { return token_; }
    /// Re-authentications the broker accepted.
    std::uint64_t reauthentications() const noexcept {
        return reauthentications_.load(std::memory_order_relaxed);
    }
    /// Re-authentications refused, unanswered in time, or cut off by the connection ending.
    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    void start(std::chrono::steady_clock::time_point now, mqtt::WriteBuffer& out,
               const std::string& reason);
    void fail() noexcept;

    std::string owner_;
    ServiceAccountToken token_;
    bool in_flight_ = false;
    std::chrono::steady_clock::time_point sent_at_{};
    int rounds_ = 0;  ///< continue-authentication answers in the current exchange
    /// The token generation whose renewal time was acted on (or had passed at connect).
    std::uint64_t renewed_generation_ = 0;
    std::string last_check_error_;  ///< logged once until the file reads again
    std::atomic<std::uint64_t> reauthentications_{0};
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace edgeflow
