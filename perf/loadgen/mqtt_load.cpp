// edgeflow_mqtt_load: an open-loop MQTT load generator and end-to-end subscriber in one
// process, for the MQTT mode of the benchmark suite.
//
// Publishers: --connections clients publish the reference workload (FactoryWorkload) at
// --rate messages/s in all for --seconds; message i goes out on connection i % C when it falls
// due (OpenLoopSchedule), carrying its sequence number and its *scheduled* time, so a
// generator or broker that falls behind shows in the latency instead of slowing the offered
// load. Subscribers: --sub-clients clients subscribe to --sub (a shared subscription,
// $share/edgeflow-bench/..., when more than one) and record each message's latency from its
// scheduled time (LatencyHistogram), and find loss and duplicates by sequence number.
// Messages due during --warmup are delivered and counted but not in the latency figures.
// --seq-base starts the run's message numbers there, so late messages of an earlier run
// against the same broker are told apart (counted as foreign) instead of taken for this run's.
//
// Subscribe to the generator's own topics (factory/#) to measure the broker alone, or to an
// engine's output (enriched/#) to measure through the engine. Prints one JSON object.
//
//   edgeflow_mqtt_load --port 1883 --rate 20000 --seconds 5 --connections 2 --qos 1
//                      --sub 'enriched/#' --sub-clients 1
#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "perf/harness/histogram.h"
#include "perf/harness/open_loop_source.h"
#include "perf/harness/schedule.h"
#include "perf/harness/workload.h"
#include "perf/loadgen/tool_options.h"

namespace edgeflow::perf {
namespace {

struct Options {
    std::string host = "127.0.0.1";
    int port = 1883;
    double rate = 10000;
    double seconds = 5;
    double warmup = 1;
    double drain = 5;
    int connections = 1;
    int sub_clients = 1;
    int qos = 1;
    int inflight = 1000;
    std::string sub = "factory/#";
    std::string id = "edgeflow-load";
    std::uint64_t seq_base = 0;
};

// One subscribing client: its callback thread owns its histogram.
struct Subscriber {
    LatencyHistogram latency;
    std::uint64_t received = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t foreign = 0;  ///< messages without seq/sent (not from this run)
    std::uint64_t last_ns = 0;
    std::atomic<bool> subscribed{false};
    mosquitto* client = nullptr;
};

struct Shared {
    std::vector<std::atomic<std::uint8_t>> seen;
    std::uint64_t record_from_ns = 0;
    std::uint64_t seq_base = 0;
    std::atomic<std::uint64_t> received{0};
    explicit Shared(std::size_t n) : seen(n) {}
};

Shared* shared_state = nullptr;

bool read_number(std::string_view text, std::string_view key, std::uint64_t& out) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) {
        return false;
    }
    const char* p = text.data() + at + key.size();
    const char* end = text.data() + text.size();
    std::uint64_t v = 0;
    bool any = false;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + static_cast<std::uint64_t>(*p - '0');
        ++p;
        any = true;
    }
    out = v;
    return any;
}

void on_message(mosquitto*, void* self, const mosquitto_message* m) {
    auto* sub = static_cast<Subscriber*>(self);
    const std::uint64_t now = steady_now_ns();
    const std::string_view text(static_cast<const char*>(m->payload),
                                static_cast<std::size_t>(std::max(m->payloadlen, 0)));
    std::uint64_t seq = 0, sent = 0;
    if (!read_number(text, "\"seq\":", seq) || !read_number(text, "\"sent\":", sent) ||
        seq < shared_state->seq_base || seq - shared_state->seq_base >= shared_state->seen.size()) {
        ++sub->foreign;  // another run's late message, or not from this generator
        return;
    }
    seq -= shared_state->seq_base;
    if (shared_state->seen[seq].exchange(1, std::memory_order_relaxed) != 0) {
        ++sub->duplicates;
        return;
    }
    ++sub->received;
    shared_state->received.fetch_add(1, std::memory_order_relaxed);
    sub->last_ns = now;
    if (sent >= shared_state->record_from_ns) {
        sub->latency.record(now > sent ? now - sent : 0);
    }
}

void on_subscribe(mosquitto*, void* self, int, int, const int*) {
    static_cast<Subscriber*>(self)->subscribed.store(true);
}

struct Publisher {
    mosquitto* client = nullptr;
    std::atomic<std::uint64_t> acked{0};
    std::uint64_t published = 0;
    std::uint64_t failed = 0;
    LatencyHistogram lag;  ///< publish call time minus scheduled time
};

void on_publish(mosquitto*, void* self, int) {
    static_cast<Publisher*>(self)->acked.fetch_add(1, std::memory_order_relaxed);
}

mosquitto* connect(const Options& o, const std::string& id, void* self) {
    mosquitto* client = mosquitto_new(id.c_str(), true, self);
    mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(client, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
    mosquitto_int_option(client, MOSQ_OPT_SEND_MAXIMUM, std::clamp(o.inflight, 1, 65535));
    if (mosquitto_connect(client, o.host.c_str(), o.port, 60) != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "edgeflow_mqtt_load: cannot connect to %s:%d\n", o.host.c_str(),
                     o.port);
        std::exit(1);
    }
    mosquitto_loop_start(client);
    return client;
}

constexpr std::string_view usage =
    R"(Usage: edgeflow_mqtt_load [--host H] [--port P] --rate MSG_PER_S [--seconds S]
                          [--warmup S] [--drain S] [--connections N] [--sub-clients N]
                          [--qos 0|1|2] [--inflight N] [--sub FILTER] [--id PREFIX]
                          [--seq-base N]

Publishes the reference workload open loop at --rate messages/s in all, over --connections
clients, for --warmup + --seconds, and measures what --sub-clients subscribers to --sub receive:
latency from each message's scheduled send time, loss and duplicates. Prints one JSON object.

  --host H            broker address (default 127.0.0.1)
  --port P            broker port (default 1883)
  --rate R            messages per second, all connections together (default 10000)
  --seconds S         measured time (default 5)
  --warmup S          time before it, delivered but not in the latency figures (default 1)
  --drain S           how long to wait for stragglers after the last publish (default 5)
  --connections N     publishing clients (default 1)
  --sub-clients N     subscribing clients; more than one share one subscription (default 1)
  --qos Q             0, 1 or 2 (default 1)
  --inflight N        unacknowledged publishes per publishing client (default 1000)
  --sub FILTER        topic filter to measure: factory/# (broker alone) or the engine's output
  --id PREFIX         client id prefix (default edgeflow-load)
  --seq-base N        first sequence number, to tell this run from an earlier one's stragglers
  -h, --help          this help
)";

}  // namespace
}  // namespace edgeflow::perf

int main(int argc, char** argv) {
    using namespace edgeflow::perf;
    Options o;
    if (const auto code = exit_code_of(parse_tool_options(
            "edgeflow_mqtt_load", usage, argc, argv,
            {text_option("--host", o.host), whole_option("--port", o.port, 1, 65535),
             number_option("--rate", o.rate, 0.001, 1e8),
             number_option("--seconds", o.seconds, 0.1, 86400),
             number_option("--warmup", o.warmup, 0, 3600),
             number_option("--drain", o.drain, 0, 3600),
             whole_option("--connections", o.connections, 1, 256),
             whole_option("--sub-clients", o.sub_clients, 1, 256),
             whole_option("--qos", o.qos, 0, 2), whole_option("--inflight", o.inflight, 1, 65535),
             text_option("--sub", o.sub), text_option("--id", o.id),
             whole_option("--seq-base", o.seq_base, std::uint64_t{0}, std::uint64_t{1} << 62)}))) {
        return *code;
    }
    const auto total = static_cast<std::uint64_t>(o.rate * (o.seconds + o.warmup));
    mosquitto_lib_init();
    Shared shared(total);
    shared.seq_base = o.seq_base;
    shared_state = &shared;

    std::vector<std::unique_ptr<Subscriber>> subscribers;
    const std::string filter = o.sub_clients > 1 ? "$share/edgeflow-bench/" + o.sub : o.sub;
    for (int k = 0; k < o.sub_clients; ++k) {
        auto sub = std::make_unique<Subscriber>();
        sub->client = connect(o, o.id + "-sub-" + std::to_string(k), sub.get());
        mosquitto_message_callback_set(sub->client, on_message);
        mosquitto_subscribe_callback_set(sub->client, on_subscribe);
        mosquitto_subscribe(sub->client, nullptr, filter.c_str(), o.qos);
        subscribers.push_back(std::move(sub));
    }
    std::vector<std::unique_ptr<Publisher>> publishers;
    for (int c = 0; c < o.connections; ++c) {
        auto pub = std::make_unique<Publisher>();
        pub->client = connect(o, o.id + "-pub-" + std::to_string(c), pub.get());
        mosquitto_publish_callback_set(pub->client, on_publish);
        publishers.push_back(std::move(pub));
    }
    for (const auto& sub : subscribers) {
        while (!sub->subscribed.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

    const FactoryWorkload workload;
    const OpenLoopSchedule schedule(o.rate, steady_now_ns() + 20'000'000);
    shared.record_from_ns = schedule.due_at(static_cast<std::uint64_t>(o.rate * o.warmup));
    std::vector<std::thread> threads;
    for (int c = 0; c < o.connections; ++c) {
        threads.emplace_back([&, c] {
            Publisher& pub = *publishers[static_cast<std::size_t>(c)];
            std::string topic, payload;
            const auto step = static_cast<std::uint64_t>(o.connections);
            for (std::uint64_t i = static_cast<std::uint64_t>(c); i < total; i += step) {
                const std::uint64_t due = schedule.due_at(i);
                std::uint64_t now = steady_now_ns();
                if (now < due) {
                    timespec ts{static_cast<time_t>(due / 1'000'000'000),
                                static_cast<long>(due % 1'000'000'000)};
                    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
                    now = steady_now_ns();
                }
                workload.render(o.seq_base + i, due, topic, payload);
                pub.lag.record(now > due ? now - due : 0);
                const int rc = mosquitto_publish(pub.client, nullptr, topic.c_str(),
                                                 static_cast<int>(payload.size()), payload.data(),
                                                 o.qos, false);
                if (rc == MOSQ_ERR_SUCCESS) {
                    ++pub.published;
                } else {
                    ++pub.failed;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const std::uint64_t published_at = steady_now_ns();
    // Wait for stragglers: until everything arrived, or nothing arrived for a while, or the
    // drain time is over.
    const auto drain_end = published_at + static_cast<std::uint64_t>(o.drain * 1e9);
    std::uint64_t last_count = shared.received.load();
    std::uint64_t last_change = steady_now_ns();
    while (shared.received.load() < total && steady_now_ns() < drain_end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const std::uint64_t now_count = shared.received.load();
        if (now_count != last_count) {
            last_count = now_count;
            last_change = steady_now_ns();
        } else if (steady_now_ns() - last_change > 2'000'000'000ULL) {
            break;
        }
    }
    for (const auto& sub : subscribers) {
        mosquitto_disconnect(sub->client);
        mosquitto_loop_stop(sub->client, false);
    }
    std::uint64_t published = 0, failed = 0, acked = 0;
    LatencyHistogram lag;
    for (const auto& pub : publishers) {
        published += pub->published;
        failed += pub->failed;
        acked += pub->acked.load();
        lag.merge(pub->lag);
        mosquitto_disconnect(pub->client);
        mosquitto_loop_stop(pub->client, false);
    }
    LatencyHistogram latency;
    std::uint64_t received = 0, duplicates = 0, foreign = 0, last = 0;
    for (const auto& sub : subscribers) {
        latency.merge(sub->latency);
        received += sub->received;
        duplicates += sub->duplicates;
        foreign += sub->foreign;
        last = std::max(last, sub->last_ns);
    }
    const double elapsed =
        last > schedule.start_ns() ? static_cast<double>(last - schedule.start_ns()) / 1e9 : 0;
    const auto u = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    std::printf(
        "{\"mode\":\"mqtt\",\"rate\":%.0f,\"seconds\":%.1f,\"connections\":%d,"
        "\"sub_clients\":%d,\"qos\":%d,\"sent\":%llu,\"publish_failed\":%llu,\"acked\":%llu,"
        "\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"foreign\":%llu,"
        "\"achieved\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
        "\"max_us\":%.1f,\"mean_us\":%.1f,\"recorded\":%llu,\"generator_lag_p99_us\":%.1f}\n",
        o.rate, o.seconds, o.connections, o.sub_clients, o.qos,
        static_cast<unsigned long long>(published), static_cast<unsigned long long>(failed),
        static_cast<unsigned long long>(acked), static_cast<unsigned long long>(received),
        static_cast<unsigned long long>(published - std::min(published, received)),
        static_cast<unsigned long long>(duplicates), static_cast<unsigned long long>(foreign),
        elapsed > 0 ? static_cast<double>(received) / elapsed : 0.0, u(latency.percentile(50)),
        u(latency.percentile(90)), u(latency.percentile(99)), u(latency.percentile(99.9)),
        u(latency.max()), latency.mean() / 1000.0, static_cast<unsigned long long>(latency.count()),
        u(lag.percentile(99)));
    mosquitto_lib_cleanup();
    return 0;
}
