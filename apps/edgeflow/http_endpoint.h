// HttpEndpoint: the HTTP side of `edgeflow run` — `/metrics` (Prometheus text), `/healthz`
// (the process is alive) and `/readyz` (every readiness condition holds), served by cpp-httplib.
//
// start() binds the listen address at once (so a taken port is a start-up error) and serves
// from a thread of its own (`ef-http`), started from a thread bound to the I/O CPUs so it and
// the library's two request threads inherit that affinity. The engine is attached once it has
// started; until then `/metrics` has only the readiness conditions. stop() stops serving and
// joins; it must run before the engine and the readiness registry are destroyed.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "core/config/pipeline_config.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/engine.h"
#include "core/runtime/readiness.h"
#include "core/status.h"

namespace httplib {
class Server;
}

namespace edgeflow::app {

class HttpEndpoint {
public:
    explicit HttpEndpoint(Readiness& readiness);
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    /// Binds `config`'s address and starts serving. Fails when the address cannot be bound.
    Status start(const HttpConfig& config, const CpuList& io_cpus);
    /// From now on `/metrics` includes the engine's metrics. The engine must outlive stop().
    void attach(const Engine* engine) noexcept { engine_.store(engine); }
    void stop();

    /// The port actually bound (the configured one).
    int port() const noexcept { return port_; }

private:
    std::string metrics_text() const;
    std::string readiness_json(bool& ready) const;

    Readiness& readiness_;
    std::atomic<const Engine*> engine_{nullptr};
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

}  // namespace edgeflow::app
