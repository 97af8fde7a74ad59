// Crash recovery: `edgeflow run` killed with SIGKILL mid-stream, against real brokers.
//
// Two persistent mosquittos on loopback: A, which the pipeline's source reads with a resumable
// session (fixed client_id, clean_start: false, session_expiry), and B, which its destinations
// publish to. A generator publishes numbered messages at QoS 1 to A at a fixed rate, and a
// subscriber on B records every sequence number. With `acknowledge: after_delivery` (the
// default) a message is acknowledged to A only once what it produced is safe at B, so whatever
// a killed engine had taken in is sent again by A to the next run: every number reaches B at
// least once. The tests also stall B (SIGSTOP) to check that the source then stops taking
// messages within its Receive Maximum and in bounded memory, and read A's packet log to check
// that PUBACKs reach A in the order A sent the PUBLISHes.
//
// The generator and the subscriber are libmosquitto clients: paced publishing at 10,000
// messages/s needs a client that does not poll.
#include <gtest/gtest.h>
#include <httplib.h>
#include <mosquitto.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/mosquitto.h"
#include "tests/support/process.h"
#include "tests/support/run_output.h"

using namespace std::chrono_literals;
using edgeflow::test::eventually;
using edgeflow::test::free_loopback_port;
using edgeflow::test::Mosquitto;
using edgeflow::test::MosquittoOptions;
using edgeflow::test::Process;
using edgeflow::test::read_file;
using edgeflow::test::seq_of;
using edgeflow::test::TempDir;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized_build = true;
#else
constexpr bool sanitized_build = false;
#endif

void init_libmosquitto() {
    static const int once = [] { return mosquitto_lib_init(); }();
    static_cast<void>(once);
}

std::uint64_t monotonic_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

/// A libmosquitto client with its own network thread, connected with MQTT 5 and a clean start.
mosquitto* connect_client(int port, const std::string& id, void* self) {
    init_libmosquitto();
    mosquitto* client = mosquitto_new(id.c_str(), true, self);
    mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(client, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
    mosquitto_int_option(client, MOSQ_OPT_SEND_MAXIMUM, 1000);
    if (mosquitto_connect(client, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(client);
        return nullptr;
    }
    mosquitto_loop_start(client);
    return client;
}

void disconnect_client(mosquitto* client) {
    if (client != nullptr) {
        mosquitto_disconnect(client);
        mosquitto_loop_stop(client, false);
        mosquitto_destroy(client);
    }
}

/// Publishes `count` numbered messages at QoS 1 at `rate` per second from a thread of its own,
/// message i falling due at start + i / rate (open loop: a late generator catches up instead of
/// slowing the offered load). `render` makes message i's topic and payload.
class Generator {
public:
    using Render = std::function<void(std::uint64_t seq, std::string& topic, std::string& payload)>;

    Generator(int port, const std::string& id, Render render) : render_(std::move(render)) {
        client_ = connect_client(port, id, this);
        if (client_ != nullptr) {
            mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int) {
                static_cast<Generator*>(self)->acknowledged_.fetch_add(1);
            });
        }
    }
    ~Generator() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
        disconnect_client(client_);
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    bool connected() const noexcept { return client_ != nullptr; }
    void start(std::uint64_t count, double rate) {
        count_ = count;
        thread_ = std::thread([this, count, rate] {
            const std::uint64_t start = monotonic_ns();
            std::string topic;
            std::string payload;
            for (std::uint64_t i = 0; i < count && !stop_.load(); ++i) {
                const auto due =
                    start + static_cast<std::uint64_t>(static_cast<double>(i) * 1e9 / rate);
                if (monotonic_ns() < due) {
                    const timespec at{static_cast<time_t>(due / 1'000'000'000),
                                      static_cast<long>(due % 1'000'000'000)};
                    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
                }
                render_(i, topic, payload);
                if (mosquitto_publish(client_, nullptr, topic.c_str(),
                                      static_cast<int>(payload.size()), payload.data(), 1,
                                      false) != MOSQ_ERR_SUCCESS) {
                    failed_.fetch_add(1);
                }
                sent_.fetch_add(1);
            }
        });
    }
    std::uint64_t sent() const noexcept { return sent_.load(); }
    std::uint64_t failed() const noexcept { return failed_.load(); }
    /// Publishes broker A acknowledged: it holds them for the engine from then on.
    std::uint64_t acknowledged() const noexcept { return acknowledged_.load(); }
    bool all_acknowledged() const noexcept { return acknowledged_.load() >= count_; }

private:
    Render render_;
    mosquitto* client_ = nullptr;
    std::thread thread_;
    std::uint64_t count_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> acknowledged_{0};
};

/// Subscribes at QoS 1 and counts, per sequence number, the messages on topics starting with
/// `counted_prefix`; other messages (events) are only counted.
class Recorder {
public:
    Recorder(int port, const std::string& id, std::size_t n, std::string counted_prefix)
        : counts_(n, 0), prefix_(std::move(counted_prefix)) {
        client_ = connect_client(port, id, this);
        if (client_ == nullptr) {
            return;
        }
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            static_cast<Recorder*>(self)->subscribed_.fetch_add(1);
        });
        mosquitto_message_callback_set(client_,
                                       [](mosquitto*, void* self, const mosquitto_message* m) {
                                           static_cast<Recorder*>(self)->arrived(m);
                                       });
    }
    ~Recorder() { disconnect_client(client_); }
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    /// Subscribes to each filter and waits for the broker's answers.
    bool subscribe(const std::vector<std::string>& filters) {
        if (client_ == nullptr) {
            return false;
        }
        for (const auto& filter : filters) {
            mosquitto_subscribe(client_, nullptr, filter.c_str(), 1);
        }
        return eventually([&] { return subscribed_.load() >= static_cast<int>(filters.size()); },
                          10s);
    }
    /// Sequence numbers seen at least once.
    std::size_t distinct() const noexcept { return distinct_.load(); }
    /// Copies beyond the first, over all sequence numbers.
    std::size_t duplicates() const noexcept { return duplicates_.load(); }
    std::size_t others() const noexcept { return others_.load(); }
    std::size_t foreign() const noexcept { return foreign_.load(); }
    std::size_t missing() {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count(counts_.begin(), counts_.end(), 0u));
    }
    /// The first `limit` sequence numbers not seen, for a failure message.
    std::string missing_list(std::size_t limit = 40) {
        std::lock_guard lock(mutex_);
        std::string text;
        std::size_t listed = 0;
        for (std::size_t i = 0; i < counts_.size() && listed < limit; ++i) {
            if (counts_[i] == 0) {
                text += " " + std::to_string(i);
                ++listed;
            }
        }
        return text;
    }

private:
    void arrived(const mosquitto_message* m) {
        const std::string_view topic(m->topic);
        if (!topic.starts_with(prefix_)) {
            others_.fetch_add(1);
            return;
        }
        const int seq = seq_of(std::string(static_cast<const char*>(m->payload),
                                           static_cast<std::size_t>(std::max(m->payloadlen, 0))));
        std::lock_guard lock(mutex_);
        if (seq < 0 || static_cast<std::size_t>(seq) >= counts_.size()) {
            foreign_.fetch_add(1);
            return;
        }
        if (counts_[static_cast<std::size_t>(seq)]++ == 0) {
            distinct_.fetch_add(1);
        } else {
            duplicates_.fetch_add(1);
        }
    }

    mosquitto* client_ = nullptr;
    std::mutex mutex_;
    std::vector<std::uint32_t> counts_;
    std::string prefix_;
    std::atomic<int> subscribed_{0};
    std::atomic<std::size_t> distinct_{0};
    std::atomic<std::size_t> duplicates_{0};
    std::atomic<std::size_t> others_{0};
    std::atomic<std::size_t> foreign_{0};
};

/// GET `path` from the engine's HTTP endpoint; "" when it does not answer.
std::string http_get(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    auto result = client.Get(path.c_str());
    return result && result->status == 200 ? result->body : std::string();
}

/// The value of the sample `series` (name and labels exactly as exported), or -1.
double metric(const std::string& text, const std::string& series) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return -1;
}

std::string suspected_series(const std::string& source) {
    return "edgeflow_mqtt_duplicates_suspected_total{endpoint=\"" + source + "\"}";
}
std::string unacknowledged_series(const std::string& source) {
    return "edgeflow_mqtt_unacknowledged{endpoint=\"" + source + "\"}";
}
std::string received_series(const std::string& source) {
    return "edgeflow_source_messages_total{source=\"" + source + "\",kind=\"mqtt\"}";
}

/// VmRSS of `pid` in KiB, or 0 when it cannot be read.
std::uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) {
            return std::stoull(line.substr(6));
        }
    }
    return 0;
}

/// What a broker's packet log (`log_type all`) says about one client's connections: the QoS 1
/// PUBLISHes the broker sent it and the PUBACKs it answered with, per connection, in order.
struct AckOrder {
    std::size_t connections = 0;
    std::size_t publishes = 0;
    std::size_t redelivered = 0;  ///< PUBLISHes sent with DUP set
    std::size_t acks = 0;
    /// Empty when, on every connection, the k-th PUBACK answered the k-th PUBLISH.
    std::string violation;
};

AckOrder read_ack_order(const std::string& log, const std::string& client) {
    AckOrder order;
    const std::string connected = " as " + client + " (";
    const std::string sending = "Sending PUBLISH to " + client + " (";
    const std::string acked = "Received PUBACK from " + client + " (Mid: ";
    std::vector<int> sent;
    std::size_t next_ack = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("New client connected from") != std::string::npos &&
            line.find(connected) != std::string::npos) {
            ++order.connections;
            sent.clear();
            next_ack = 0;
        } else if (const auto at = line.find(sending); at != std::string::npos) {
            // (d0, q1, r0, m17, 'topic', ... (n bytes))
            const auto fields = line.substr(at + sending.size());
            if (!fields.starts_with("d") || fields.find(", q1,") == std::string::npos) {
                continue;
            }
            const auto mid_at = fields.find(", m");
            sent.push_back(std::stoi(fields.substr(mid_at + 3)));
            ++order.publishes;
            order.redelivered += fields.starts_with("d1") ? 1 : 0;
        } else if (const auto at_ack = line.find(acked); at_ack != std::string::npos) {
            const int mid = std::stoi(line.substr(at_ack + acked.size()));
            ++order.acks;
            if (order.violation.empty()) {
                if (next_ack >= sent.size()) {
                    order.violation = "PUBACK for mid " + std::to_string(mid) +
                                      " before its PUBLISH on connection " +
                                      std::to_string(order.connections);
                } else if (sent[next_ack] != mid) {
                    order.violation = "connection " + std::to_string(order.connections) +
                                      ": PUBACK #" + std::to_string(next_ack + 1) + " is for mid " +
                                      std::to_string(mid) + ", the PUBLISH sent then was mid " +
                                      std::to_string(sent[next_ack]);
                }
            }
            ++next_ack;
        }
    }
    return order;
}

/// The telemetry the generator sends in the crash tests: a device, a sequence number, a
/// temperature that crosses the threshold rule's limits, and a status the lkv stage fills in
/// when it is left out.
void render_telemetry(std::uint64_t seq, std::string& topic, std::string& payload) {
    topic = "plant/line" + std::to_string(seq % 4) + "/telemetry";
    payload = "{\"device\":\"d" + std::to_string(seq % 8) + "\",\"seq\":" + std::to_string(seq) +
              ",\"temperature\":" + std::to_string(30 + static_cast<int>(seq % 20));
    if (seq % 10 != 0) {
        payload += ",\"status\":\"ok\"";
    }
    payload += "}";
}

/// Factory telemetry (examples/factory/README.md) for eight devices of its dataset. The
/// temperature moves in steps of 100 messages through 20-39 °C, so the overheat rule fires;
/// event time advances 2 ms a message, so 10 s windows close during a run.
void render_factory(std::uint64_t seq, std::string& topic, std::string& payload) {
    static const std::uint64_t base_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    const std::string device = "dev-000" + std::to_string(1 + seq % 8);
    topic = "factory/line-1/" + device + "/telemetry";
    payload = "{\"deviceId\":\"" + device +
              "\",\"timestamp\":" + std::to_string(base_ms + 2 * seq) +
              ",\"temperature\":" + std::to_string(20 + static_cast<int>(seq / 100 % 20)) +
              ".5,\"humidity\":40.0,\"pressure\":1013.2";
    if (seq % 25 != 0) {
        payload += ",\"status\":\"ok\"";
    }
    payload += ",\"seq\":" + std::to_string(seq) + "}";
}

/// render_telemetry with about 1 KiB of padding, so that taking in the backlog would show in
/// the engine's memory.
void render_padded(std::uint64_t seq, std::string& topic, std::string& payload) {
    render_telemetry(seq, topic, payload);
    payload.insert(payload.size() - 1, ",\"blob\":\"" + std::string(1000, 'x') + "\"");
}

/// render_telemetry, with every 11th message not JSON (a dead letter).
void render_with_bad_input(std::uint64_t seq, std::string& topic, std::string& payload) {
    render_telemetry(seq, topic, payload);
    if (seq % 11 == 5) {
        payload = "not json " + std::to_string(seq);
    }
}

struct PipelineOptions {
    std::string acknowledge = "after_delivery";
    int source_max_inflight = 0;  ///< 0: the default (256)
    /// A filter dropping every third message, and a QoS 0 dead-letter destination.
    bool filter_and_dead_letters = false;
};

/// One stream through an engine that is killed and started again.
struct Scenario {
    std::string pipeline;
    std::size_t n = 0;
    double rate = 0;
    Generator::Render render = render_telemetry;
    std::string source = "in";               ///< the source's name
    std::string source_client = "crash-in";  ///< its client_id at A
    std::string counted_prefix = "out/";     ///< topics on B that carry the numbered outputs
    /// SIGKILL once this fraction of the messages reached B, in order.
    std::vector<double> kills = {0.2, 0.5};
    /// Then SIGKILL while B is stopped, once this fraction reached B (negative: not).
    double stalled_kill = 0.7;
    bool on_receipt = false;
};

struct Outcome {
    std::size_t missing = 0;
    std::string missing_list;
    std::size_t duplicates = 0;   ///< copies of a sequence number at B beyond the first
    std::uint64_t suspected = 0;  ///< the engine's suspected duplicates, over all runs
    std::size_t events = 0;       ///< other messages at B (heuristics events)
    std::size_t kills = 0;
    bool stalled = false;  ///< one kill came while B was stopped
    AckOrder order;        ///< A's packet log for the source's client
};

class CrashRecovery : public testing::Test {
protected:
    void SetUp() override {
        namespace fs = std::filesystem;
        fs::create_directories(dir_.file("a"));
        fs::create_directories(dir_.file("b"));
        MosquittoOptions a_options;
        a_options.persistent = true;
        a_options.log_all = true;  // the PUBLISHes and PUBACKs on the source's connections
        a_ = std::make_unique<Mosquitto>(dir_.file("a"), a_options);
        MosquittoOptions b_options;
        b_options.persistent = true;
        b_ = std::make_unique<Mosquitto>(dir_.file("b"), b_options);
        std::string error;
        ASSERT_TRUE(a_->start(error)) << error;
        ASSERT_TRUE(b_->start(error)) << error;
        http_port_ = free_loopback_port();
    }

    void TearDown() override {
        if (b_ != nullptr) {
            b_->signal(SIGCONT);  // a test that failed during a stall leaves B stopped
        }
    }

    /// Transform (a map), lkv and heuristics (a threshold rule) between a resumable QoS 1
    /// source on A and QoS 1 destinations on B.
    std::string write_pipeline(const PipelineOptions& options) {
        const std::string path = dir_.file("pipeline.yaml");
        std::ofstream out(path);
        out << "version: 1\nname: crash\n"
            << "sources:\n"
            << "  - name: in\n    kind: mqtt\n    broker: " << a_->uri() << "\n"
            << "    client_id: crash-in\n    topics: [\"plant/+/telemetry\"]\n    qos: 1\n"
            << "    clean_start: false\n    session_expiry: 300\n"
            << "    acknowledge: " << options.acknowledge << "\n";
        if (options.source_max_inflight > 0) {
            out << "    max_inflight: " << options.source_max_inflight << "\n";
        }
        out << "destinations:\n"
            << "  - name: out\n    kind: mqtt\n    broker: " << b_->uri() << "\n"
            << "    client_id: crash-out\n    qos: 1\n    topic: out/{topic.2}/{device}\n"
            << "  - name: events\n    kind: mqtt\n    broker: " << b_->uri() << "\n"
            << "    client_id: crash-events\n    qos: 1\n    topic: events/{rule}\n";
        if (options.filter_and_dead_letters) {
            out << "  - name: dlq\n    kind: mqtt\n    broker: " << b_->uri() << "\n"
                << "    client_id: crash-dlq\n    qos: 0\n    dead_letter: true\n"
                << "    topic: deadletter/{topic}\n";
        }
        out << "runtime:\n  workers: 2\n  http: {listen: \"127.0.0.1:" << http_port_ << "\"}\n"
            << "stages:\n"
            << "  - kind: transform\n    name: convert\n";
        if (options.filter_and_dead_letters) {
            out << "    filter:\n      - inputs: [seq]\n        drop_when: $1 % 3 == 0\n";
        }
        out << "    map:\n"
            << "      - inputs: ['*']\n        output: '*'\n"
            << "      - inputs: [temperature]\n        output: temperatureF\n"
            << "        expression: cToF($1)\n"
            << "  - kind: lkv\n    name: last-values\n    fields: [temperatureF, status]\n"
            << "    fill_missing: true\n"
            << "  - kind: heuristics\n    name: alarms\n    events: events\n    rules:\n"
            << "      - {id: overheat, kind: threshold, input: temperatureF, high: 95.0, "
               "low: 91.4, for_count: 3}\n";
        return path;
    }

    /// Starts `edgeflow run` and waits until its source subscribed.
    std::unique_ptr<Process> start_engine(const std::string& pipeline) {
        auto engine = std::make_unique<Process>(
            std::vector<std::string>{EDGEFLOW_BINARY, "run", "-c", pipeline},
            dir_.file("run" + std::to_string(++runs_)));
        EXPECT_TRUE(engine->started());
        EXPECT_TRUE(engine->wait_for_err("subscribed to", 20s)) << engine->err();
        return engine;
    }

    std::string scrape() const { return http_get(http_port_, "/metrics"); }

    /// The engine's suspected duplicates so far (0 when the scrape fails, which is reported).
    std::uint64_t suspected_duplicates(const std::string& source) {
        const auto series = suspected_series(source);
        const double value = metric(scrape(), series);
        EXPECT_GE(value, 0) << "no " << series << " in the scrape";
        return value > 0 ? static_cast<std::uint64_t>(value) : 0;
    }

    static void kill_engine(Process& engine) {
        engine.signal(SIGKILL);
        const auto code = engine.wait(10s);
        ASSERT_TRUE(code.has_value());
        EXPECT_EQ(*code, 128 + SIGKILL);
    }

    /// Stops B (SIGSTOP), waits until the engine holds messages it cannot deliver, kills it and
    /// lets B go on. Under after_delivery the engine then holds 200 or more unacknowledged
    /// messages (of the 256 A may send); under on_receipt it took 600 since the stall began,
    /// more than a destination's outbox (256), all of them acknowledged to A already.
    void kill_while_destination_stalls(Process& engine, const Scenario& scenario) {
        const double received_before = metric(scrape(), received_series(scenario.source));
        b_->signal(SIGSTOP);
        std::string text;
        const bool held = eventually(
            [&] {
                text = scrape();
                if (scenario.on_receipt) {
                    return metric(text, received_series(scenario.source)) - received_before >= 600;
                }
                return metric(text, unacknowledged_series(scenario.source)) >= 200;
            },
            20s);
        EXPECT_TRUE(held) << "the engine took no backlog while B was stopped\n" << text;
        kill_engine(engine);
        b_->signal(SIGCONT);
    }

    /// Streams the scenario's messages, killing and restarting the engine as it says, then
    /// waits for the stream to finish and stops the last run gracefully.
    Outcome stream_with_kills(const Scenario& scenario) {
        Outcome outcome;
        const std::size_t n = scenario.n;
        Recorder recorder(b_->port(), "crash-recorder", n, scenario.counted_prefix);
        EXPECT_TRUE(recorder.subscribe({scenario.counted_prefix + "#", "events/#"}));
        auto engine = start_engine(scenario.pipeline);
        Generator generator(a_->port(), "crash-generator", scenario.render);
        EXPECT_TRUE(generator.connected());
        generator.start(n, scenario.rate);

        const auto reach = [&](double fraction) {
            const auto target = static_cast<std::size_t>(fraction * static_cast<double>(n));
            EXPECT_TRUE(eventually([&] { return recorder.distinct() >= target; }, 60s))
                << recorder.distinct() << " of " << target << " reached B\n"
                << engine->err();
        };
        for (const double at : scenario.kills) {
            reach(at);
            outcome.suspected += suspected_duplicates(scenario.source);
            kill_engine(*engine);
            ++outcome.kills;
            engine = start_engine(scenario.pipeline);
        }
        if (scenario.stalled_kill >= 0) {
            reach(scenario.stalled_kill);
            outcome.suspected += suspected_duplicates(scenario.source);
            kill_while_destination_stalls(*engine, scenario);
            ++outcome.kills;
            outcome.stalled = true;
            engine = start_engine(scenario.pipeline);
        }

        // The last run: everything A acknowledged to the generator reaches B.
        EXPECT_TRUE(eventually([&] { return generator.all_acknowledged(); }, 60s))
            << generator.acknowledged() << " of " << n << " acknowledged by A ("
            << generator.failed() << " failed)";
        if (scenario.on_receipt) {
            // What was lost never comes: wait until B has received nothing new for 2 s.
            std::size_t last = recorder.distinct();
            auto quiet_since = std::chrono::steady_clock::now();
            eventually(
                [&] {
                    const auto now = std::chrono::steady_clock::now();
                    if (recorder.distinct() != last) {
                        last = recorder.distinct();
                        quiet_since = now;
                    }
                    return last >= n || now - quiet_since > 2s;
                },
                60s);
        } else {
            EXPECT_TRUE(eventually([&] { return recorder.distinct() >= n; }, 60s))
                << recorder.distinct() << " of " << n << " reached B; last run:\n"
                << engine->err();
        }
        outcome.suspected += suspected_duplicates(scenario.source);
        engine->signal(SIGTERM);
        const auto code = engine->wait(30s);
        EXPECT_TRUE(code.has_value());
        EXPECT_EQ(code.value_or(-1), 0) << engine->err();
        std::this_thread::sleep_for(300ms);  // a duplicate still on its way arrives by now

        outcome.missing = recorder.missing();
        outcome.missing_list = recorder.missing_list();
        outcome.duplicates = recorder.duplicates();
        outcome.events = recorder.others();
        EXPECT_EQ(recorder.foreign(), 0u);
        outcome.order = read_ack_order(a_->log(), scenario.source_client);
        return outcome;
    }

    /// What a kill run under after_delivery must show.
    void expect_nothing_lost(const Outcome& run, std::size_t n) {
        report(run, n);
        EXPECT_EQ(run.missing, 0u) << "of " << n << " lost:" << run.missing_list;
        // Only a message A sent again can reach B twice: A sets DUP on what it sends again,
        // the engine counts those, and each input makes one output on the counted topics.
        EXPECT_LE(run.duplicates, run.suspected)
            << "B received more duplicates than A redelivered to the engine";
        // The engine cannot have seen more DUP publishes than A's packet log shows it sent.
        EXPECT_LE(run.suspected, run.order.redelivered);
        if (run.stalled) {
            // Killed holding 200 or more unacknowledged messages: A sends those again.
            EXPECT_GE(run.suspected, 200u) << "A sent nothing again after the kills";
        }
        EXPECT_GT(run.events, 0u) << "the heuristics stage raised no event";
        EXPECT_EQ(run.order.violation, "");
        EXPECT_EQ(run.order.connections, run.kills + 1);
    }

    void report(const Outcome& run, std::size_t n) {
        RecordProperty("lost", static_cast<int>(run.missing));
        RecordProperty("duplicates_at_b", static_cast<int>(run.duplicates));
        RecordProperty("suspected_by_engine", static_cast<int>(run.suspected));
        RecordProperty("redelivered_by_a", static_cast<int>(run.order.redelivered));
        std::cout << "[ report   ] " << n << " messages, " << run.kills << " kills: lost "
                  << run.missing << ", duplicates at B " << run.duplicates
                  << ", suspected by the engine " << run.suspected << ", sent with DUP by A "
                  << run.order.redelivered << ", events " << run.events << ", connections "
                  << run.order.connections << ", PUBLISHes to the source " << run.order.publishes
                  << ", PUBACKs " << run.order.acks << std::endl;
    }

    TempDir dir_{"crash-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    std::unique_ptr<Mosquitto> a_;
    std::unique_ptr<Mosquitto> b_;
    int http_port_ = 0;
    int runs_ = 0;
};

TEST_F(CrashRecovery, SigkillAt1000PerSecondLosesNothing) {
    Scenario scenario;
    scenario.pipeline = write_pipeline({});
    scenario.n = 5000;  // 5 s of stream
    scenario.rate = 1000;
    expect_nothing_lost(stream_with_kills(scenario), scenario.n);
}

TEST_F(CrashRecovery, SigkillAt10000PerSecondLosesNothing) {
    if (sanitized_build) {
        // The sanitized engine runs several times slower and the subscriber lags behind it, so
        // by the time 70% reached B the engine may have taken all of A's backlog: the stalled
        // kill then finds nothing held. The 1,000 msg/s case runs here; this one in the ci build.
        GTEST_SKIP() << "timing assumptions do not hold under AddressSanitizer";
    }
    Scenario scenario;
    scenario.pipeline = write_pipeline({});
    scenario.n = 30000;  // 3 s of stream
    scenario.rate = 10000;
    expect_nothing_lost(stream_with_kills(scenario), scenario.n);
}

// The contrast: acknowledged on receipt, what the engine held when it was killed is gone. The
// last kill comes while B is stopped, after the engine took (and acknowledged) 600 messages
// that B could not take: more than the destination's outbox holds, so some were certainly in
// the engine's queues.
TEST_F(CrashRecovery, SigkillWithAcknowledgeOnReceiptLosesWhatTheEngineHeld) {
    PipelineOptions options;
    options.acknowledge = "on_receipt";
    Scenario scenario;
    scenario.pipeline = write_pipeline(options);
    scenario.n = 5000;
    scenario.rate = 1000;
    scenario.on_receipt = true;
    const auto run = stream_with_kills(scenario);
    report(run, scenario.n);
    EXPECT_GT(run.missing, 0u) << "on_receipt lost nothing: the contrast did not show";
}

// B stops answering for 30 s in mid-stream. The source may then hold at most its
// max_inflight (the Receive Maximum it asks of A) unacknowledged messages: A keeps the rest,
// the engine takes nothing more and its memory does not grow; after B resumes, everything
// flows and nothing is lost.
//
// The memory bound: RSS at most 8 MiB above what it was just before the stall. Message and
// batch memory is allocated when the engine starts; during the stall at most 128 messages of
// about 1.1 KiB enter it. Taking in the stall's backlog (15,000 messages, 16 MiB of payload)
// or even filling the 8192-message ingest queue with it (9 MiB) would go past the bound.
TEST_F(CrashRecovery, StalledDestinationHoldsTheSourceWithinItsReceiveMaximum) {
    constexpr int max_inflight = 128;
    constexpr std::size_t n = 17500;  // 35 s at 500/s: 2 s before the stall, 30 s of it, 3 s after
    constexpr std::uint64_t rss_margin_kib = 8 * 1024;
    PipelineOptions options;
    options.source_max_inflight = max_inflight;
    const auto pipeline = write_pipeline(options);
    Recorder recorder(b_->port(), "stall-recorder", n, "out/");
    ASSERT_TRUE(recorder.subscribe({"out/#"}));
    auto engine = start_engine(pipeline);
    Generator generator(a_->port(), "stall-generator", render_padded);
    ASSERT_TRUE(generator.connected());
    generator.start(n, 500);
    ASSERT_TRUE(eventually([&] { return recorder.distinct() >= 1000; }, 30s)) << engine->err();

    const std::uint64_t rss_before = rss_kib(engine->pid());
    const double received_before = metric(scrape(), received_series("in"));
    const std::uint64_t published_before = generator.acknowledged();
    b_->signal(SIGSTOP);
    const auto stall_start = std::chrono::steady_clock::now();
    double max_unacknowledged = 0;
    double last_unacknowledged = 0;
    std::uint64_t max_rss = rss_before;
    double received_at_5s = -1;
    double received_at_end = -1;
    std::size_t scrapes = 0;
    while (std::chrono::steady_clock::now() - stall_start < 30s) {
        const auto text = scrape();
        if (!text.empty()) {
            ++scrapes;
            last_unacknowledged = metric(text, unacknowledged_series("in"));
            max_unacknowledged = std::max(max_unacknowledged, last_unacknowledged);
            received_at_end = metric(text, received_series("in"));
            if (received_at_5s < 0 && std::chrono::steady_clock::now() - stall_start >= 5s) {
                received_at_5s = received_at_end;
            }
        }
        max_rss = std::max(max_rss, rss_kib(engine->pid()));
        std::this_thread::sleep_for(200ms);
    }
    const std::uint64_t published_during = generator.acknowledged() - published_before;
    b_->signal(SIGCONT);

    std::cout << "[ report   ] stall: unacknowledged max " << max_unacknowledged << " (last "
              << last_unacknowledged << ") of " << max_inflight << "; taken "
              << received_at_end - received_before << " since just before the stall ("
              << received_at_end - received_at_5s << " after 5 s); A took " << published_during
              << " from the generator; RSS " << rss_before << " KiB before, at most " << max_rss
              << " KiB; " << scrapes << " scrapes" << std::endl;
    RecordProperty("rss_before_kib", static_cast<int>(rss_before));
    RecordProperty("rss_max_kib", static_cast<int>(max_rss));
    EXPECT_GT(scrapes, 50u);
    EXPECT_EQ(max_unacknowledged, max_inflight) << "the source never filled its Receive Maximum";
    EXPECT_LE(max_unacknowledged, max_inflight);
    EXPECT_EQ(received_at_end, received_at_5s) << "the source went on taking messages";
    EXPECT_GT(published_during, 10000u) << "the backlog did not pile up at A";
    EXPECT_GT(rss_before, 0u);
    if (!sanitized_build) {  // AddressSanitizer's quarantine keeps freed memory resident
        EXPECT_LE(max_rss, rss_before + rss_margin_kib);
    }

    EXPECT_TRUE(eventually([&] { return generator.all_acknowledged(); }, 60s));
    EXPECT_TRUE(eventually([&] { return recorder.distinct() >= n; }, 90s))
        << recorder.distinct() << " of " << n << " reached B\n"
        << engine->err();
    engine->signal(SIGTERM);
    EXPECT_EQ(engine->wait(30s).value_or(-1), 0) << engine->err();
    EXPECT_EQ(recorder.missing(), 0u) << recorder.missing_list();
    RecordProperty("duplicates_at_b", static_cast<int>(recorder.duplicates()));
    const auto order = read_ack_order(a_->log(), "crash-in");
    EXPECT_EQ(order.violation, "");
}

// PUBACKs leave in the order the PUBLISHes arrived, whatever order the engine finishes the
// messages in: here a third are filtered (safe at once), one in eleven is a dead letter
// (QoS 0, safe once written) and the rest wait for B's PUBACKs. A's packet log (log_type all)
// shows both directions with their packet ids. A graceful stop mid-stream acknowledges every
// message the engine took.
TEST_F(CrashRecovery, PubacksReachTheSourceBrokerInTheOrderItSentThePublishes) {
    constexpr std::size_t n = 9000;  // 3 s at 3000/s
    PipelineOptions options;
    options.filter_and_dead_letters = true;
    const auto pipeline = write_pipeline(options);
    Recorder recorder(b_->port(), "order-recorder", n, "out/");
    ASSERT_TRUE(recorder.subscribe({"out/#", "deadletter/#"}));
    auto engine = start_engine(pipeline);
    Generator generator(a_->port(), "order-generator", render_with_bad_input);
    ASSERT_TRUE(generator.connected());
    generator.start(n, 3000);
    ASSERT_TRUE(eventually([&] { return recorder.distinct() >= n / 3; }, 60s)) << engine->err();
    engine->signal(SIGTERM);
    const auto code = engine->wait(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << engine->err();
    const auto taken = edgeflow::test::summary_value(engine->out(), "in (mqtt)", 0);

    const auto order = read_ack_order(a_->log(), "crash-in");
    std::cout << "[ report   ] order: " << order.publishes << " PUBLISHes to the source, "
              << order.acks << " PUBACKs, " << taken << " taken, " << recorder.others()
              << " dead letters at B" << std::endl;
    EXPECT_EQ(order.connections, 1u);
    EXPECT_EQ(order.violation, "");
    EXPECT_GT(recorder.others(), 0u) << "no dead letter reached B";
    EXPECT_EQ(order.acks, taken) << "a message the engine took was not acknowledged\n"
                                 << engine->out();
    EXPECT_LE(order.acks, order.publishes);
}

// A new user's pipeline: examples/factory/pipeline.yaml (transform with a dataset, lkv, and
// heuristics with threshold, window and correlate rules), its brokers pointed at A and B, its
// source given what docs/configuration.md says a resumable session needs (clean_start: false
// and a session_expiry; its client_id is already fixed), and an HTTP port of its own. Killed
// once mid-stream and started again.
TEST_F(CrashRecovery, FactoryExampleSurvivesASigkill) {
    namespace fs = std::filesystem;
    const std::string example = EDGEFLOW_SOURCE_DIR "/examples/factory";
    fs::copy_file(example + "/devices.jsonl", dir_.file("devices.jsonl"));
    std::string yaml = read_file(example + "/pipeline.yaml");
    const std::string broker = "broker: tcp://127.0.0.1:1883";
    const auto first = yaml.find(broker);
    ASSERT_NE(first, std::string::npos);
    yaml.replace(first, broker.size(), "broker: " + a_->uri());
    for (auto at = yaml.find(broker); at != std::string::npos; at = yaml.find(broker)) {
        yaml.replace(at, broker.size(), "broker: " + b_->uri());
    }
    // As a new user runs it: only the broker addresses change; the example keeps its session.
    ASSERT_NE(yaml.find("    clean_start: false\n"), std::string::npos);
    const auto runtime_at = yaml.find("runtime:\n");
    ASSERT_NE(runtime_at, std::string::npos);
    yaml.insert(runtime_at + 9,
                "  http: {listen: \"127.0.0.1:" + std::to_string(http_port_) + "\"}\n");
    const std::string path = dir_.file("factory.yaml");
    std::ofstream(path) << yaml;

    Scenario scenario;
    scenario.pipeline = path;
    scenario.n = 8000;  // 4 s at 2000/s
    scenario.rate = 2000;
    scenario.render = render_factory;
    scenario.source = "plant";
    scenario.source_client = "edgeflow-factory-in";
    scenario.counted_prefix = "enriched/";
    scenario.kills = {0.3};
    scenario.stalled_kill = -1;
    expect_nothing_lost(stream_with_kills(scenario), scenario.n);
}

// The log reading the ordering test relies on finds a PUBACK that answers a later PUBLISH
// first, and starts over on each connection.
TEST(CrashRecoveryAckLog, FindsAPubackOutOfOrder) {
    const std::string log =
        "1: New client connected from 127.0.0.1:5 as crash-in (p5, c0, k30).\n"
        "1: Sending PUBLISH to crash-in (d0, q1, r0, m1, 'plant/a', ... (9 bytes))\n"
        "1: Sending PUBLISH to crash-in (d0, q1, r0, m2, 'plant/a', ... (9 bytes))\n"
        "1: Sending PUBLISH to crash-generator (d0, q1, r0, m7, 'plant/a', ... (9 bytes))\n"
        "1: Received PUBACK from crash-in (Mid: 1, RC:0)\n"
        "2: New client connected from 127.0.0.1:6 as crash-in (p5, c0, k30).\n"
        "2: Sending PUBLISH to crash-in (d1, q1, r0, m2, 'plant/a', ... (9 bytes))\n"
        "2: Sending PUBLISH to crash-in (d0, q1, r0, m3, 'plant/a', ... (9 bytes))\n"
        "2: Received PUBACK from crash-in (Mid: 2, RC:0)\n"
        "2: Received PUBACK from crash-in (Mid: 3, RC:0)\n";
    const auto in_order = read_ack_order(log, "crash-in");
    EXPECT_EQ(in_order.violation, "");
    EXPECT_EQ(in_order.connections, 2u);
    EXPECT_EQ(in_order.publishes, 4u);
    EXPECT_EQ(in_order.redelivered, 1u);
    EXPECT_EQ(in_order.acks, 3u);

    std::string swapped = log;
    swapped.replace(swapped.find("(Mid: 2"), 7, "(Mid: 3");
    swapped.replace(swapped.rfind("(Mid: 3"), 7, "(Mid: 2");
    EXPECT_NE(read_ack_order(swapped, "crash-in").violation, "");
}

}  // namespace
