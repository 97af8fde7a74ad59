// A real mosquitto broker for integration tests, on a free loopback port, started and stopped
// by the test. Optionally persistent, so a restart keeps sessions and queued messages.
//
// MosquittoOptions give the broker what a transport test needs: a TLS listener, a password
// file without anonymous access, and the MQTT 5 limits mosquitto announces in its CONNACK
// (receive maximum, maximum packet size, topic alias maximum). A broker with TLS or users
// keeps a second, plain anonymous listener for the test's own clients (client_uri()), so the
// probes that publish and count never depend on the settings under test.
//
// With `log_all` the broker logs every packet it sends and receives (mosquitto's
// `log_type all`), so a test can read the order of PUBLISHes and PUBACKs on a connection from
// log(). signal() lets a test stop (SIGSTOP) and resume (SIGCONT) the broker to make it stall.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.h"

namespace edgeflow::test {

struct MosquittoTls {
    std::string ca_file;    ///< CA the broker verifies client certificates with
    std::string cert_file;  ///< the broker's certificate
    std::string key_file;
    bool require_certificate = false;  ///< clients must present a certificate signed by ca_file
};

struct MosquittoOptions {
    bool persistent = false;
    /// When set, uri() is ssl://localhost:PORT.
    std::optional<MosquittoTls> tls;
    /// When not empty, uri()'s listener takes only these (user, password) pairs: a password
    /// file made with mosquitto_passwd, `allow_anonymous false`.
    std::vector<std::pair<std::string, std::string>> users;
    int max_inflight_messages = 0;  ///< 0: mosquitto's default
    int max_packet_size = 0;        ///< 0: mosquitto's default (no limit)
    int max_topic_alias = -1;       ///< -1: mosquitto's default
    bool log_all = false;           ///< `log_type all`: every packet in and out is logged
};

class Mosquitto {
public:
    /// `dir` holds the config, log and persistence files.
    Mosquitto(std::string dir, bool persistent = false);
    Mosquitto(std::string dir, MosquittoOptions options);
    ~Mosquitto();

    /// Starts the broker (on the same port as before, after a stop) and waits until it accepts
    /// connections. False with the broker's log in `error` when it does not come up.
    bool start(std::string& error);
    /// SIGTERM and wait: a persistent broker saves its state on the way out.
    void stop();
    /// Sends `sig` to the running broker (SIGSTOP, SIGCONT); nothing when it is not running.
    void signal(int sig) const;
    /// The broker's process id, or -1 when it is not running.
    pid_t pid() const noexcept;

    /// Makes the next start() listen on `port` (before the first start: a client may be told
    /// the port before the broker is up).
    void use_port(int port) noexcept { port_ = port; }
    int port() const noexcept { return port_; }
    /// The listener with the options: what the engine under test is given.
    std::string uri() const;
    /// A plain anonymous listener for the test's own clients (uri() when the broker has no
    /// TLS and no users).
    std::string client_uri() const;
    std::string log() const;

private:
    bool has_probe_listener() const noexcept {
        return options_.tls.has_value() || !options_.users.empty();
    }
    bool write_config(std::string& error);

    std::string dir_;
    MosquittoOptions options_;
    int port_ = 0;
    int probe_port_ = 0;
    std::unique_ptr<Process> process_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

}  // namespace edgeflow::test
