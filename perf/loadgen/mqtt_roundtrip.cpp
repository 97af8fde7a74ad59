// edgeflow_mqtt_roundtrip: publishes N numbered messages to an MQTT broker and measures, with
// a subscriber in the same process, how many come back, how fast, and with what latency.
//
// Each payload carries its sequence number and its send time (steady clock, ns), so latency is
// measured per message from send to receipt, and loss and duplicates are found by sequence.
// The publisher keeps at most --window publishes unacknowledged (closed loop). Point the
// subscriber at the publisher's own topic to measure the broker alone, or at an engine's
// output topic to measure through the engine.
//
//   edgeflow_mqtt_roundtrip --port 1883 --count 100000 --pub bench/in/x --sub 'bench/out/#'
#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "perf/loadgen/tool_options.h"

namespace {

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

struct Options {
    std::string host = "127.0.0.1";
    int port = 1883;
    std::uint64_t count = 100000;
    int qos = 1;
    int window = 256;
    std::string pub = "bench/alone";
    std::string sub = "bench/alone";
    int timeout_s = 60;
};

struct Subscriber {
    std::vector<std::uint32_t> latency_us;
    std::vector<std::uint8_t> seen;
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> last_ns{0};
    std::atomic<bool> subscribed{false};
};

struct Publisher {
    std::atomic<std::int64_t> inflight{0};
};

void on_message(mosquitto*, void* self, const mosquitto_message* m) {
    auto* sub = static_cast<Subscriber*>(self);
    const std::uint64_t at = now_ns();
    // Payload: {"seq":N,"sent_ns":T,...}; the fields are found by name, not by position.
    std::string text(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen));
    const auto seq_at = text.find("\"seq\":");
    const auto sent_at = text.find("\"sent_ns\":");
    if (seq_at == std::string::npos || sent_at == std::string::npos) {
        return;
    }
    const std::uint64_t seq = std::strtoull(text.c_str() + seq_at + 6, nullptr, 10);
    const std::uint64_t sent = std::strtoull(text.c_str() + sent_at + 10, nullptr, 10);
    if (seq >= sub->seen.size()) {
        return;
    }
    if (sub->seen[seq] != 0) {
        sub->duplicates.fetch_add(1);
        return;
    }
    sub->seen[seq] = 1;
    sub->latency_us.push_back(static_cast<std::uint32_t>((at - sent) / 1000));
    sub->received.fetch_add(1);
    sub->last_ns.store(at);
}

void on_subscribe(mosquitto*, void* self, int, int, const int*) {
    static_cast<Subscriber*>(self)->subscribed.store(true);
}

void on_publish(mosquitto*, void* self, int) {
    static_cast<Publisher*>(self)->inflight.fetch_sub(1);
}

mosquitto* connect(const Options& o, const char* id, void* self) {
    mosquitto* client = mosquitto_new(id, true, self);
    mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(client, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
    mosquitto_int_option(client, MOSQ_OPT_SEND_MAXIMUM, std::min(o.window, 65535));
    if (mosquitto_connect(client, o.host.c_str(), o.port, 60) != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "cannot connect to %s:%d\n", o.host.c_str(), o.port);
        std::exit(1);
    }
    mosquitto_loop_start(client);
    return client;
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1));
    return sorted[i];
}

constexpr std::string_view usage =
    R"(Usage: edgeflow_mqtt_roundtrip [--host H] [--port P] [--count N] [--qos Q] [--window N]
                               [--pub TOPIC] [--sub FILTER] [--timeout S]

Publishes --count numbered messages on --pub, at most --window unacknowledged (closed loop),
and counts what a subscriber to --sub receives: throughput, latency from send to receipt, loss
and duplicates. Prints one JSON object.

  --host H        broker address (default 127.0.0.1)
  --port P        broker port (default 1883)
  --count N       messages (default 100000)
  --qos Q         0, 1 or 2 (default 1)
  --window N      unacknowledged publishes at most (default 256)
  --pub TOPIC     topic to publish on (default bench/alone)
  --sub FILTER    topic filter to receive from (default bench/alone)
  --timeout S     seconds to wait for the last message (default 60)
  -h, --help      this help
)";

}  // namespace

int main(int argc, char** argv) {
    using edgeflow::perf::exit_code_of;
    using edgeflow::perf::text_option;
    using edgeflow::perf::whole_option;
    Options o;
    if (const auto code = exit_code_of(edgeflow::perf::parse_tool_options(
            "edgeflow_mqtt_roundtrip", usage, argc, argv,
            {text_option("--host", o.host), whole_option("--port", o.port, 1, 65535),
             whole_option("--count", o.count, std::uint64_t{1}, std::uint64_t{1} << 32),
             whole_option("--qos", o.qos, 0, 2), whole_option("--window", o.window, 1, 65535),
             text_option("--pub", o.pub), text_option("--sub", o.sub),
             whole_option("--timeout", o.timeout_s, 1, 86400)}))) {
        return *code;
    }
    mosquitto_lib_init();
    Subscriber sub;
    sub.seen.assign(o.count, 0);
    sub.latency_us.reserve(o.count);
    Publisher pub;

    mosquitto* subscriber = connect(o, "roundtrip-sub", &sub);
    mosquitto_message_callback_set(subscriber, on_message);
    mosquitto_subscribe_callback_set(subscriber, on_subscribe);
    mosquitto_subscribe(subscriber, nullptr, o.sub.c_str(), o.qos);
    mosquitto* publisher = connect(o, "roundtrip-pub", &pub);
    mosquitto_publish_callback_set(publisher, on_publish);
    while (!sub.subscribed.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }

    const std::uint64_t start = now_ns();
    char payload[256];
    for (std::uint64_t seq = 0; seq < o.count; ++seq) {
        while (pub.inflight.load() >= o.window) {
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        const int len = std::snprintf(
            payload, sizeof payload,
            "{\"deviceId\":\"dev-%03" PRIu64 "\",\"seq\":%" PRIu64 ",\"sent_ns\":%" PRIu64
            ",\"temperature\":%.2f,\"humidity\":%.1f,\"pressure\":%.1f,\"status\":\"ok\"}",
            seq % 500, seq, now_ns(), 20.0 + static_cast<double>(seq % 70) / 10.0,
            40.0 + static_cast<double>(seq % 30), 1000.0 + static_cast<double>(seq % 40));
        pub.inflight.fetch_add(1);
        if (mosquitto_publish(publisher, nullptr, o.pub.c_str(), len, payload, o.qos, false) !=
            MOSQ_ERR_SUCCESS) {
            pub.inflight.fetch_sub(1);
            std::fprintf(stderr, "publish failed\n");
            return 1;
        }
    }
    const std::uint64_t published = now_ns();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
    std::uint64_t last_count = 0;
    auto last_change = std::chrono::steady_clock::now();
    while (sub.received.load() < o.count && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (sub.received.load() != last_count) {
            last_count = sub.received.load();
            last_change = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - last_change > std::chrono::seconds(5)) {
            break;  // nothing more is coming
        }
    }
    mosquitto_loop_stop(subscriber, true);
    mosquitto_loop_stop(publisher, true);

    auto latencies = sub.latency_us;
    std::sort(latencies.begin(), latencies.end());
    const std::uint64_t received = sub.received.load();
    const double seconds = static_cast<double>(sub.last_ns.load() - start) / 1e9;
    std::printf("{\"count\":%" PRIu64 ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64
                ",\"duplicates\":%" PRIu64
                ",\"seconds\":%.3f,\"publish_seconds\":%.3f,"
                "\"rate\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"max_us\":%.0f}\n",
                o.count, received, o.count - received, sub.duplicates.load(), seconds,
                static_cast<double>(published - start) / 1e9,
                seconds > 0 ? static_cast<double>(received) / seconds : 0.0,
                percentile(latencies, 50), percentile(latencies, 99), percentile(latencies, 99.9),
                latencies.empty() ? 0.0 : latencies.back());
    return received == o.count ? 0 : 1;
}
