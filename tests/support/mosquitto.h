// A real mosquitto broker for integration tests, on a free loopback port, started and stopped
// by the test. Optionally persistent, so a restart keeps sessions and queued messages.
#pragma once

#include <memory>
#include <string>

#include "tests/support/process.h"

namespace edgeflow::test {

class Mosquitto {
public:
    /// `dir` holds the config, log and persistence files.
    Mosquitto(std::string dir, bool persistent = false);
    ~Mosquitto();

    /// Starts the broker (on the same port as before, after a stop) and waits until it accepts
    /// connections. False with the broker's log in `error` when it does not come up.
    bool start(std::string& error);
    /// SIGTERM and wait: a persistent broker saves its state on the way out.
    void stop();

    /// Makes the next start() listen on `port` (before the first start: a client may be told
    /// the port before the broker is up).
    void use_port(int port) noexcept { port_ = port; }
    int port() const noexcept { return port_; }
    std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    std::string log() const;

private:
    std::string dir_;
    bool persistent_;
    int port_ = 0;
    std::unique_ptr<Process> process_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

}  // namespace edgeflow::test
