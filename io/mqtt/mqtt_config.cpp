#include "io/mqtt/mqtt_config.h"

#include <cstdlib>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/config/map_reader.h"

namespace edgeflow {

std::string check_topic_filter(std::string_view filter) {
    if (filter.empty()) {
        return "an empty filter";
    }
    if (filter.starts_with("$share/")) {
        const auto rest = filter.substr(7);
        const auto slash = rest.find('/');
        if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) {
            return "a shared subscription needs $share/<group>/<filter>";
        }
        const auto group = rest.substr(0, slash);
        if (group.find_first_of("+#") != std::string_view::npos) {
            return "a shared subscription group cannot hold '+' or '#'";
        }
        filter = rest.substr(slash + 1);
    }
    std::size_t start = 0;
    while (true) {
        const auto slash = filter.find('/', start);
        const auto level = filter.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (level.find('#') != std::string_view::npos &&
            (level != "#" || slash != std::string_view::npos)) {
            return "'#' must be a whole level and the last one";
        }
        if (level.find('+') != std::string_view::npos && level != "+") {
            return "'+' must be a whole level";
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return {};
}

MqttConfig MqttConfig::parse(const EndpointConfig& endpoint, bool source, ConfigErrors& errors) {
    MqttConfig config;
    MapReader reader(endpoint.node, errors, source ? "an mqtt source" : "an mqtt destination");
    if (source) {
        mark_source_keys(reader);
    } else {
        mark_destination_keys(reader);
    }
    if (reader.required_string("broker", config.broker,
                               "a broker URI such as tcp://127.0.0.1:1883 or ssl://host:8883")) {
        const auto scheme_end = config.broker.find("://");
        const std::string scheme =
            scheme_end == std::string::npos ? "" : config.broker.substr(0, scheme_end);
        if (scheme == "ssl" || scheme == "mqtts") {
            config.tls.enabled = true;
        } else if (scheme != "tcp" && scheme != "mqtt") {
            errors.add(*endpoint.node.find("broker"),
                       "a broker URI starting tcp://, mqtt://, ssl:// or mqtts://",
                       "\"" + config.broker + "\"");
        }
    }
    config.client_id = "edgeflow-" + endpoint.name + "-" + std::to_string(::getpid());
    reader.optional_string("client_id", config.client_id, "a client id");
    if (const ConfigNode* protocol = reader.get("protocol")) {
        if (protocol->is_scalar() && protocol->scalar == "5") {
            config.protocol = 5;
        } else if (protocol->is_scalar() &&
                   (protocol->scalar == "3.1.1" || protocol->scalar == "4")) {
            config.protocol = 4;
        } else {
            errors.add(*protocol, "5 or 3.1.1");
        }
    }
    std::uint64_t qos = 1;
    reader.optional_uint("qos", qos, 0, 1);
    config.qos = static_cast<int>(qos);
    reader.optional_bool("clean_start", config.clean_start);
    reader.optional_uint("session_expiry", config.session_expiry, 0, 0xFFFFFFFFu);
    reader.optional_uint("keep_alive", config.keep_alive, 0, 65535);
    if (config.keep_alive > 0 && config.keep_alive < 5) {
        // A keep-alive under 5 s turns a short stall of the broker into a reconnect (0: off).
        errors.add(*endpoint.node.find("keep_alive"), "0 (off) or 5 to 65535 seconds",
                   std::string(1, '"') + std::to_string(config.keep_alive) + '"');
    }
    reader.optional_uint("connect_timeout", config.connect_timeout, 1, 3600);
    reader.optional_string("username", config.username, "a user name");
    reader.optional_string("password", config.password, "a password");
    std::string password_file;
    reader.optional_string("password_file", password_file,
                           "the path of a file holding the password");
    if (!password_file.empty()) {
        const ConfigNode& at = *endpoint.node.find("password_file");
        if (!config.password.empty()) {
            errors.add(at, "password or password_file, not both", "both");
        }
        password_file = endpoint.resolve_path(password_file);
        std::ifstream in(password_file);
        if (!in) {
            errors.add(at, "a readable password file", "\"" + password_file + "\" cannot be read");
        } else {
            std::stringstream text;
            text << in.rdbuf();
            config.password = text.str();
            while (!config.password.empty() &&
                   (config.password.back() == '\n' || config.password.back() == '\r')) {
                config.password.pop_back();
            }
        }
    }
    std::string password_env;
    reader.optional_string("password_env", password_env,
                           "the name of an environment variable holding the password");
    if (!password_env.empty()) {
        const ConfigNode& at = *endpoint.node.find("password_env");
        if (!config.password.empty() || !password_file.empty()) {
            errors.add(at, "one of password, password_file and password_env", "more than one");
        }
        // Read at load, like password_file, so `edgeflow check` reports a missing variable.
        if (const char* value = std::getenv(password_env.c_str()); value == nullptr) {
            errors.add(at, "a set environment variable", "\"" + password_env + "\" is not set");
        } else {
            config.password = value;
        }
    }
    if (!config.password.empty() && config.username.empty()) {
        const ConfigNode* at = endpoint.node.find("password");
        if (at == nullptr) {
            at = endpoint.node.find("password_file");
        }
        if (at == nullptr) {
            at = endpoint.node.find("password_env");
        }
        errors.add(*at, "a username with the password", "a password without a username");
    }
    if (const ConfigNode* auth = reader.get("auth")) {
        MapReader a(*auth, errors, "auth");
        std::string method;
        if (a.required_string("method", method, "an authentication method: K8S-SAT")) {
            if (method == "K8S-SAT") {
                config.auth.method = MqttAuthConfig::Method::k8s_sat;
            } else {
                errors.add(*auth->find("method"),
                           "an authentication method edgeflow speaks: K8S-SAT (a Kubernetes "
                           "service account token; for a user name and password, use username "
                           "and password_file instead of auth)",
                           "\"" + method + "\"");
            }
        }
        // Not read here: outside the cluster (edgeflow check in CI) the projected file does not
        // exist, and in it the file is read at every connect anyway.
        a.required_string("token_file", config.auth.token_file,
                          "the path of the projected service account token, such as "
                          "/var/run/secrets/tokens/mqtt-client-token");
        a.finish();
        if (!config.auth.token_file.empty()) {
            config.auth.token_file = endpoint.resolve_path(config.auth.token_file);
        }
        if (config.auth.method == MqttAuthConfig::Method::k8s_sat) {
            if (config.protocol == 4) {
                errors.add(*endpoint.node.find("protocol"),
                           "protocol: 5 with auth (enhanced authentication is MQTT 5 only)",
                           "3.1.1");
            }
            // The token is the whole credential: the broker identifies the client by the
            // token's service account, and a username or password would be a second, different
            // authentication the broker may try instead.
            for (const char* key : {"username", "password", "password_file", "password_env"}) {
                if (const ConfigNode* at = endpoint.node.find(key)) {
                    errors.add(*at,
                               "no " + std::string(key) +
                                   " with auth method K8S-SAT (the service account token "
                                   "alone authenticates the client)",
                               "a " + std::string(key));
                }
            }
        }
    }
    if (const ConfigNode* reconnect = reader.get("reconnect")) {
        MapReader r(*reconnect, errors, "reconnect");
        r.optional_uint("initial_delay_ms", config.reconnect_initial_ms, 1, 600000);
        r.optional_uint("max_delay_ms", config.reconnect_max_ms, 1, 3600000);
        r.finish();
        if (config.reconnect_max_ms < config.reconnect_initial_ms) {
            errors.add(*reconnect, "max_delay_ms at least initial_delay_ms",
                       std::to_string(config.reconnect_max_ms) + " < " +
                           std::to_string(config.reconnect_initial_ms));
        }
    }
    if (const ConfigNode* tls = reader.get("tls")) {
        MapReader t(*tls, errors, "tls");
        t.optional_string("ca_file", config.tls.ca_file, "a CA certificate file (PEM)");
        t.optional_string("ca_dir", config.tls.ca_dir,
                          "a directory of CA certificates (PEM, named by c_rehash)");
        t.optional_string("cert_file", config.tls.cert_file, "a client certificate file (PEM)");
        t.optional_string("key_file", config.tls.key_file, "a client key file (PEM)");
        t.optional_bool("verify", config.tls.verify);
        t.finish();
        for (auto* file : {&config.tls.ca_file, &config.tls.ca_dir, &config.tls.cert_file,
                           &config.tls.key_file}) {
            *file = endpoint.resolve_path(*file);
        }
        if (!config.tls.enabled) {
            errors.add(*tls, "tls only with an ssl:// or mqtts:// broker", "a tls block");
        }
    }
    if (source) {
        if (reader.get("topics") == nullptr && reader.ok()) {
            errors.missing(endpoint.node, "topics", "a list of topic filters to subscribe to");
        }
        reader.optional_string_list("topics", config.topics);
        if (const ConfigNode* topics = endpoint.node.find("topics")) {
            for (std::size_t i = 0; i < config.topics.size(); ++i) {
                if (auto why = check_topic_filter(config.topics[i]); !why.empty()) {
                    const ConfigNode& at = topics->is_sequence() && i < topics->items.size()
                                               ? topics->items[i]
                                               : *topics;
                    errors.add(at, "an MQTT topic filter", "\"" + config.topics[i] + "\": " + why);
                }
            }
        }
        reader.optional_choice("acknowledge", config.acknowledge,
                               {{"after_delivery", MqttAcknowledge::after_delivery},
                                {"on_receipt", MqttAcknowledge::on_receipt}});
        // The Receive Maximum asked of the broker: QoS 1 messages it sends before their PUBACK.
        reader.optional_uint("max_inflight", config.max_inflight, 1, 65535);
    } else {
        reader.optional_bool("retain", config.retain);
        reader.optional_uint("max_inflight", config.max_inflight, 1, 4096);
        reader.optional_uint("drain_timeout", config.drain_timeout, 0, 3600);
    }
    if (config.protocol == 4 && config.session_expiry != 0) {
        errors.add(*endpoint.node.find("session_expiry"), "session_expiry only with protocol: 5",
                   std::to_string(config.session_expiry));
    }
    reader.finish();
    return config;
}

}  // namespace edgeflow
