// MqttConfig: the keys shared by the MQTT source and destination (kind `mqtt`).
//
//   broker: tcp://127.0.0.1:1883   # tcp:// mqtt:// (plain) or ssl:// mqtts:// (TLS)
//   client_id: edgeflow-in          # default edgeflow-<name>-<pid>
//   protocol: 5                     # 5 or 3.1.1
//   qos: 1                          # 0 or 1
//   clean_start: true               # false resumes the session (with a fixed client_id, and a
//                                   # session_expiry above 0 on MQTT 5)
//   session_expiry: 0               # seconds the broker keeps the session (MQTT 5)
//   keep_alive: 30                  # seconds: 0 (off) or 5 to 65535
//   connect_timeout: 10             # seconds
//   username: edge                  # optional; a password needs one
//   password_file: /run/secrets/mqtt-password   # or password_env: MQTT_PASSWORD, or password
//   auth: {method: K8S-SAT, token_file: /var/run/secrets/tokens/mqtt-client-token}
//                                   # MQTT 5 enhanced authentication with a Kubernetes service
//                                   # account token (the Azure IoT Operations broker in-cluster);
//                                   # no username or password then. The file is read at every
//                                   # connect and watched: a rotated token re-authenticates.
//   reconnect: {initial_delay_ms: 250, max_delay_ms: 10000}
//   tls: {ca_file: ca.pem, ca_dir: /etc/ssl/certs, cert_file: client.pem, key_file: client.key,
//         verify: true}
//   # source only
//   topics: ["factory/+/telemetry", "$share/edgeflow/plant/#"]
//   acknowledge: after_delivery     # a QoS 1 message's PUBACK waits until what it produced is
//                                   # safe; on_receipt acknowledges on arrival (loses what is in
//                                   # the engine when the process dies)
//   max_inflight: 256               # QoS 1 messages the broker sends before their PUBACK
//                                   # (the Receive Maximum asked of it), 1 to 65535
//   # destination only
//   retain: false
//   max_inflight: 256               # publishes awaiting PUBACK before the sink waits
//   drain_timeout: 10               # seconds to wait for the broker when stopping
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"

namespace edgeflow {

struct TlsConfig {
    bool enabled = false;
    std::string ca_file;
    std::string ca_dir;
    std::string cert_file;
    std::string key_file;
    bool verify = true;
};

/// When an MQTT source acknowledges a QoS 1 message to its broker.
enum class MqttAcknowledge : std::uint8_t {
    after_delivery,  ///< once everything it produced is safe (see docs/reliability.md)
    on_receipt,      ///< as soon as it is read: the lowest latency, lost if the process dies
};

/// MQTT 5 enhanced authentication (`auth:`).
struct MqttAuthConfig {
    enum class Method : std::uint8_t {
        none,
        k8s_sat,  ///< K8S-SAT: a Kubernetes service account token (io/mqtt/k8s_sat_auth.h)
    };
    Method method = Method::none;
    std::string token_file;  ///< K8S-SAT: the projected token, read at connect, not at load
};

struct MqttConfig {
    std::string broker;
    std::string client_id;
    int protocol = 5;  ///< 5 or 4 (3.1.1)
    int qos = 1;
    bool clean_start = true;
    std::uint64_t session_expiry = 0;
    std::uint64_t keep_alive = 30;
    std::uint64_t connect_timeout = 10;
    std::string username;
    std::string password;
    MqttAuthConfig auth;
    std::uint64_t reconnect_initial_ms = 250;
    std::uint64_t reconnect_max_ms = 10000;
    TlsConfig tls;
    std::vector<std::string> topics;                                ///< source
    MqttAcknowledge acknowledge = MqttAcknowledge::after_delivery;  ///< source
    bool retain = false;                                            ///< destination
    /// Destination: publishes awaiting PUBACK before the sink waits. Source: the Receive
    /// Maximum, QoS 1 messages the broker may send before they are acknowledged.
    std::uint64_t max_inflight = 256;
    std::uint64_t drain_timeout = 10;

    static MqttConfig parse(const EndpointConfig& endpoint, bool source, ConfigErrors& errors);
};

/// Why `filter` is not a valid MQTT subscription filter, or empty when it is. Accepts
/// `$share/<group>/<filter>` shared subscriptions.
std::string check_topic_filter(std::string_view filter);

}  // namespace edgeflow
