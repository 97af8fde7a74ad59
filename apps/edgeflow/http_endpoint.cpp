#include "apps/edgeflow/http_endpoint.h"

#include <httplib.h>

#include "apps/edgeflow/version.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/runtime/thread_placement.h"

namespace edgeflow::app {
namespace {

constexpr const char* prometheus_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

HttpEndpoint::HttpEndpoint(Readiness& readiness) : readiness_(readiness) {}

HttpEndpoint::~HttpEndpoint() {
    stop();
}

std::string HttpEndpoint::metrics_text() const {
    MetricsWriter writer;
    writer.gauge("edgeflow_build_info", "edgeflow's version", {{"version", version}}, 1);
    bool all = true;
    for (const auto& [name, value] : readiness_.conditions()) {
        writer.gauge("edgeflow_ready_condition", "1 while a readiness condition holds",
                     {{"condition", name}}, value ? 1 : 0);
        all = all && value;
    }
    writer.gauge("edgeflow_ready", "1 while every readiness condition holds (see /readyz)", {},
                 all && readiness_.ready() ? 1 : 0);
    if (const Engine* engine = engine_.load()) {
        engine->metrics(writer);
    }
    return writer.text();
}

std::string HttpEndpoint::readiness_json(bool& ready) const {
    const auto conditions = readiness_.conditions();
    ready = !conditions.empty();
    std::string body = "{\"conditions\":{";
    bool first = true;
    for (const auto& [name, value] : conditions) {
        body += first ? "" : ",";
        first = false;
        json::append_string(body, name);
        body += value ? ":true" : ":false";
        ready = ready && value;
    }
    body += ready ? "},\"ready\":true}\n" : "},\"ready\":false}\n";
    return body;
}

Status HttpEndpoint::start(const HttpConfig& config, const CpuList& io_cpus) {
    server_ = std::make_unique<httplib::Server>();
    // Two request threads: scrapes and probes are small and rare.
    server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
        response.set_content(metrics_text(), prometheus_type);
    });
    server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("ok\n", "text/plain");
    });
    server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
        bool ready = false;
        response.set_content(readiness_json(ready), "application/json");
        response.status = ready ? 200 : 503;
    });
    if (!server_->bind_to_port(config.host, config.port)) {
        server_.reset();
        return Status::error("runtime.http.listen: cannot listen on " + config.host + ":" +
                             std::to_string(config.port) +
                             " (the port is in use or the address is not local)");
    }
    port_ = config.port;
    // Started from a thread on the I/O CPUs: the server thread and its request threads inherit
    // that affinity and name.
    run_on_cpus(io_cpus, "ef-io", [this] {
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        pthread_setname_np(thread_.native_handle(), "ef-http");
    });
    log_info("http", "serving /metrics, /healthz and /readyz on " + config.host + ":" +
                         std::to_string(config.port));
    return Status::ok();
}

void HttpEndpoint::stop() {
    if (server_ != nullptr) {
        server_->stop();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    server_.reset();
}

}  // namespace edgeflow::app
