#include "io/mqtt/k8s_sat_auth.h"

#include "core/log.h"

namespace edgeflow {
namespace {

// "expires in 3540 s", "expired 12 s ago", or empty without an exp claim.
std::string expiry_text(const ServiceAccountToken& token,
                        std::chrono::system_clock::time_point wall) {
    const auto exp = token.expires_at();
    if (!exp) {
        return {};
    }
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(*exp - wall).count();
    return left >= 0 ? "expires in " + std::to_string(left) + " s"
                     : "expired " + std::to_string(-left) + " s ago";
}

}  // namespace

K8sSatAuth::K8sSatAuth(std::string owner, std::string token_file,
                       std::chrono::milliseconds check_interval)
    : owner_(std::move(owner)), token_(std::move(token_file), check_interval) {}

void K8sSatAuth::fail() noexcept {
    in_flight_ = false;
    failures_.fetch_add(1, std::memory_order_relaxed);
}

Status K8sSatAuth::prepare_connect(mqtt::ConnectOptions& connect) {
    if (in_flight_) {
        fail();
        log_warn("mqtt", owner_ + ": the connection ended before the broker answered the " +
                             std::string(method) + " re-authentication");
    }
    rounds_ = 0;
    if (Status status = token_.read(); !status) {
        return status;
    }
    last_check_error_.clear();
    // The CONNECT authenticates this token: its renewal time, if already past, needs no AUTH.
    const auto renew = token_.renew_at();
    if (renew && *renew <= std::chrono::system_clock::now()) {
        renewed_generation_ = token_.generation();
    }
    connect.authentication_method = method;
    connect.authentication_data = token_.value();
    return Status::ok();
}

Status K8sSatAuth::on_auth(const mqtt::AuthView& auth, bool accepted, mqtt::WriteBuffer& out) {
    if (auth.authentication_method != method) {
        if (in_flight_) {
            fail();
        }
        return Status::error("the broker sent AUTH with authentication method '" +
                             std::string(auth.authentication_method) + "', not " +
                             std::string(method));
    }
    const bool exchanging = !accepted || in_flight_;
    switch (auth.reason) {
        case mqtt::reason::continue_authentication:
            if (!exchanging) {
                return Status::error(
                    "the broker sent AUTH continue with no authentication under way");
            }
            if (++rounds_ > max_rounds) {
                if (in_flight_) {
                    fail();
                }
                return Status::error("the broker asked to continue authentication more than " +
                                     std::to_string(max_rounds) + " times");
            }
            // K8S-SAT has one credential to offer: the token, again.
            mqtt::encode_auth(out, mqtt::reason::continue_authentication, method, token_.value());
            return Status::ok();
        case mqtt::reason::success:
            if (!accepted || !in_flight_) {
                // Before the CONNACK, success is the CONNACK's to say.
                return Status::error(
                    "the broker sent AUTH success with no re-authentication "
                    "under way");
            }
            in_flight_ = false;
            reauthentications_.fetch_add(1, std::memory_order_relaxed);
            {
                const std::string expiry = expiry_text(token_, std::chrono::system_clock::now());
                log_info("mqtt", owner_ + ": re-authenticated with the token from '" +
                                     token_.path() + "'" +
                                     (expiry.empty() ? std::string() : " (it " + expiry + ")"));
            }
            return Status::ok();
        default:
            // 0x19 is the client's to send; the codec has refused every other code already.
            if (in_flight_) {
                fail();
            }
            return Status::error("the broker sent AUTH with reason " +
                                 std::string(mqtt::reason_text(auth.reason)) +
                                 ", which only a client sends");
    }
}

void K8sSatAuth::start(std::chrono::steady_clock::time_point now, mqtt::WriteBuffer& out,
                       const std::string& reason) {
    mqtt::encode_auth(out, mqtt::reason::reauthenticate, method, token_.value());
    in_flight_ = true;
    sent_at_ = now;
    rounds_ = 0;
    log_info("mqtt", owner_ + ": re-authenticating (" + reason + ")");
}

Status K8sSatAuth::poll(std::chrono::steady_clock::time_point now,
                        std::chrono::system_clock::time_point wall,
                        std::chrono::seconds answer_timeout, mqtt::WriteBuffer& out) {
    if (in_flight_) {
        if (now - sent_at_ >= answer_timeout) {
            fail();
            const std::string why = "the broker did not answer the re-authentication within " +
                                    std::to_string(answer_timeout.count()) + " s";
            log_error("mqtt", owner_ + ": " + why);
            return Status::error(why);
        }
        return Status::ok();
    }
    const auto changed = token_.check(now);
    if (!changed) {
        // The kubelet's swap is atomic, so this is a real problem; the current token is kept
        // until it expires, and the broker then closes the connection.
        if (changed.error() != last_check_error_) {
            last_check_error_ = changed.error();
            log_warn("mqtt", owner_ + ": " + last_check_error_ + "; keeping the current token");
        }
    } else if (changed.value()) {
        last_check_error_.clear();
        const std::string expiry = expiry_text(token_, wall);
        start(now, out,
              "the token file has a new token" + (expiry.empty() ? "" : " that " + expiry));
        return Status::ok();
    }
    const auto renew = token_.renew_at();
    if (renew && wall >= *renew && renewed_generation_ != token_.generation()) {
        // Once per token: the file is read again in case the check has not seen a new one yet.
        const std::uint64_t before = token_.generation();
        renewed_generation_ = before;
        if (Status status = token_.read(); !status) {
            log_warn("mqtt", owner_ + ": " + status.message() + "; keeping the current token");
        }
        if (token_.generation() != before) {
            // A new token has its own renewal time; one already past is served by this AUTH.
            const auto fresh = token_.renew_at();
            if (fresh && wall >= *fresh) {
                renewed_generation_ = token_.generation();
            }
            const std::string expiry = expiry_text(token_, wall);
            start(now, out,
                  "the token file has a new token" + (expiry.empty() ? "" : " that " + expiry));
            return Status::ok();
        }
        log_warn("mqtt", owner_ + ": the service account token in '" + token_.path() +
                             "' was not rotated and " + expiry_text(token_, wall) +
                             "; the broker will close the connection when it expires");
        start(now, out, "the token " + expiry_text(token_, wall));
    }
    return Status::ok();
}

std::string K8sSatAuth::refused(const std::string& why) {
    fail();
    const std::string text =
        "the broker refused the " + std::string(method) + " re-authentication (" + why + ")";
    log_error("mqtt",
              owner_ + ": " + text + "; reconnecting with the token from '" + token_.path() + "'");
    return text;
}

}  // namespace edgeflow
