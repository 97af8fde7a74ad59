// The runtime as an operator meets it, through the `edgeflow` binary:
//   - /healthz, /readyz and /metrics over real HTTP, with readiness false until the broker
//     is up and counters that move as messages flow;
//   - a CPU outside the process's allowed set fails start-up with a message naming it;
//   - `edgeflow tune` on a small input prints a ranked table and a runtime block that
//     `edgeflow check` accepts;
//   - `check` shows what the bounds cost in memory, and `check` and `run` refuse bounds that
//     do not fit runtime.memory_limit.
// Each test uses its own loopback ports; every wait has a deadline.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/mosquitto.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/process.h"
#include "tests/support/run_output.h"

using namespace std::chrono_literals;
using edgeflow::test::eventually;
using edgeflow::test::free_loopback_port;
using edgeflow::test::Mosquitto;
using edgeflow::test::Process;
using edgeflow::test::read_file;
using edgeflow::test::TempDir;
using edgeflow::test::TestPublisher;

namespace {

struct Reply {
    int status = 0;
    std::string body;
};

std::optional<Reply> get(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    auto result = client.Get(path.c_str());
    if (!result) {
        return std::nullopt;
    }
    return Reply{result->status, result->body};
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

TEST(RuntimeCommand, HttpEndpointReportsReadinessAndMovingCounters) {
    TempDir dir("edgeflow-http");
    const int broker_port = free_loopback_port();
    const int http_port = free_loopback_port();
    const std::string broker = "tcp://127.0.0.1:" + std::to_string(broker_port);
    const std::string pipeline = dir.file("pipeline.yaml");
    {
        std::ofstream out(pipeline);
        out << "sources:\n"
            << "  - name: in\n    kind: mqtt\n    broker: " << broker << "\n"
            << "    client_id: edgeflow-http-in\n    topics: [\"plant/+/telemetry\"]\n"
            << "    qos: 1\n    reconnect: {initial_delay_ms: 50, max_delay_ms: 200}\n"
            << "destinations:\n"
            << "  - name: out\n    kind: mqtt\n    broker: " << broker << "\n"
            << "    client_id: edgeflow-http-out\n    topic: out/{topic.2}\n"
            << "    reconnect: {initial_delay_ms: 50, max_delay_ms: 200}\n"
            << "runtime:\n  workers: 2\n  http: {listen: \"127.0.0.1:" << http_port << "\"}\n";
    }
    Process engine({EDGEFLOW_BINARY, "run", "-c", pipeline}, dir.file("engine"));
    ASSERT_TRUE(engine.wait_for_err("serving /metrics", 15s)) << engine.err();
    ASSERT_TRUE(engine.wait_for_err("CPU layout", 15s)) << engine.err();

    // No broker yet: alive, not ready.
    auto health = get(http_port, "/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(health->body, "ok\n");
    auto ready = get(http_port, "/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    EXPECT_NE(ready->body.find("\"engine/running\":true"), std::string::npos) << ready->body;
    EXPECT_NE(ready->body.find("\"source/in/connected\":false"), std::string::npos) << ready->body;
    EXPECT_NE(ready->body.find("\"source/in/subscribed\":false"), std::string::npos) << ready->body;
    EXPECT_NE(ready->body.find("\"destination/out/connected\":false"), std::string::npos)
        << ready->body;
    EXPECT_NE(ready->body.find("\"ready\":false"), std::string::npos) << ready->body;
    auto scrape = get(http_port, "/metrics");
    ASSERT_TRUE(scrape);
    EXPECT_EQ(scrape->status, 200);
    EXPECT_EQ(metric(scrape->body, "edgeflow_ready"), 0);
    EXPECT_EQ(metric(scrape->body, R"(edgeflow_mqtt_connected{endpoint="in",role="source"})"), 0);
    EXPECT_EQ(metric(scrape->body, R"(edgeflow_workers)"), 2);
    EXPECT_EQ(metric(scrape->body, R"(edgeflow_source_messages_total{source="in",kind="mqtt"})"),
              0);

    // The broker comes up on the port the pipeline names: the engine connects, subscribes and
    // becomes ready.
    Mosquitto mosquitto(dir.path());
    mosquitto.use_port(broker_port);
    std::string error;
    ASSERT_TRUE(mosquitto.start(error)) << error;
    ASSERT_TRUE(eventually(
        [&] {
            auto r = get(http_port, "/readyz");
            return r && r->status == 200;
        },
        20s))
        << get(http_port, "/readyz").value_or(Reply{}).body << engine.err();
    ready = get(http_port, "/readyz");
    ASSERT_TRUE(ready);
    EXPECT_NE(ready->body.find("\"source/in/subscribed\":true"), std::string::npos) << ready->body;
    EXPECT_NE(ready->body.find("\"ready\":true"), std::string::npos) << ready->body;

    TestPublisher publisher(mosquitto.uri(), "http-test-publisher");
    constexpr int count = 25;
    for (int i = 0; i < count; ++i) {
        ASSERT_TRUE(publisher.publish("plant/d" + std::to_string(i % 3) + "/telemetry",
                                      "{\"seq\":" + std::to_string(i) + "}"));
    }
    ASSERT_TRUE(publisher.publish("plant/bad/telemetry", "not json"));
    std::string text;
    ASSERT_TRUE(eventually(
        [&] {
            auto r = get(http_port, "/metrics");
            text = r ? r->body : std::string();
            // A scrape reads the counters one after another while messages move: wait for one
            // that saw all of them settled, from the source to the destination.
            return metric(text, R"(edgeflow_source_messages_total{source="in",kind="mqtt"})") ==
                       count + 1 &&
                   metric(text, R"(edgeflow_stage_in_total{stage="parse"})") == count + 1 &&
                   metric(
                       text,
                       R"(edgeflow_destination_messages_total{destination="out",kind="mqtt"})") ==
                       count;
        },
        20s))
        << text;
    EXPECT_EQ(metric(text, R"(edgeflow_source_messages_total{source="in",kind="mqtt"})"),
              count + 1);
    EXPECT_EQ(metric(text, R"(edgeflow_stage_in_total{stage="parse"})"), count + 1);
    EXPECT_EQ(metric(text, R"(edgeflow_stage_out_total{stage="parse"})"), count);
    EXPECT_EQ(metric(text, R"(edgeflow_stage_errors_total{stage="parse"})"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_dead_letters_total{reason="invalid_json"})"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_dead_letters_discarded_total)"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_end_to_end_latency_seconds_count)"), count + 1);
    EXPECT_EQ(metric(text, R"(edgeflow_end_to_end_latency_seconds_bucket{le="+Inf"})"), count + 1);
    EXPECT_GT(metric(text, R"(edgeflow_stage_batch_seconds_count{stage="parse"})"), 0);
    // Published one at a time, each waiting for its PUBACK: the engine is idle when each
    // arrives, so the source's thread runs them to completion without the ingest queue.
    EXPECT_GE(metric(text, R"(edgeflow_batches_run_to_completion_total)"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_mqtt_connected{endpoint="in",role="source"})"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_mqtt_connected{endpoint="out",role="destination"})"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_ready)"), 1);
    EXPECT_EQ(metric(text, R"(edgeflow_cpu_allowed{cpu="0"})"), 1);
    EXPECT_NE(text.find("edgeflow_thread_cpus{thread=\"ef-worker-1\""), std::string::npos);

    engine.signal(SIGTERM);
    EXPECT_EQ(engine.wait(20s), 0) << engine.err();
}

TEST(RuntimeCommand, CpuOutsideTheAllowedSetFailsStartUp) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    int outside = 0;
    while (CPU_ISSET(outside, &set)) {
        ++outside;
    }
    TempDir dir("edgeflow-cpus");
    {
        std::ofstream(dir.file("in.jsonl")) << R"({"topic":"a/b","payload":{"v":1}})"
                                            << "\n";
        std::ofstream out(dir.file("pipeline.yaml"));
        out << "sources:\n  - kind: file\n    path: in.jsonl\n"
            << "destinations:\n  - kind: null\n"
            << "runtime:\n  cpus: [" << outside << "]\n  pin: true\n  http: {listen: off}\n";
    }
    Process run({EDGEFLOW_BINARY, "run", "-c", dir.file("pipeline.yaml")}, dir.file("run"));
    EXPECT_EQ(run.wait(20s), 1) << run.err();
    EXPECT_NE(run.err().find("cannot start: runtime.cpus: CPU " + std::to_string(outside) +
                             " is not among the CPUs this process may run on"),
              std::string::npos)
        << run.err();
}

TEST(RuntimeCommand, TuneWritesARuntimeBlockThatCheckAccepts) {
    TempDir dir("edgeflow-tune");
    const std::string examples = std::string(EDGEFLOW_SOURCE_DIR) + "/examples/quickstart/";
    Process tune({EDGEFLOW_BINARY, "tune", "-c", examples + "pipeline.yaml", "--input",
                  examples + "telemetry.jsonl", "--seconds", "0.2", "--batch-sizes", "8,64",
                  "--idle", "spin,block", "--workers", "1", "--write", dir.file("runtime.yaml")},
                 dir.file("tune"));
    ASSERT_EQ(tune.wait(120s), 0) << tune.out() << tune.err();
    const std::string out = tune.out();
    EXPECT_NE(out.find("rank workers"), std::string::npos) << out;
    EXPECT_NE(out.find("messages/s"), std::string::npos) << out;
    EXPECT_NE(out.find("\nbest:\n"), std::string::npos) << out;
    // Progress: the setting, how many are left and the time remaining.
    EXPECT_NE(tune.err().find("[1/"), std::string::npos) << tune.err();
    EXPECT_NE(tune.err().find("remaining"), std::string::npos) << tune.err();
    // One row per setting: 1 worker x (shared, split when more than one CPU) x pin x 2 x 2.
    std::size_t rows = 0;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        rows += line.rfind("   ", 0) == 0 && line.find(" 1 ") != std::string::npos ? 1 : 0;
    }
    EXPECT_GE(rows, 8u) << out;

    const std::string block = read_file(dir.file("runtime.yaml"));
    ASSERT_NE(block.find("\nruntime:\n"), std::string::npos) << block;
    EXPECT_NE(block.find("  workers: 1\n"), std::string::npos) << block;
    // The quickstart with its runtime block replaced by the one tune wrote.
    const std::string original = read_file(examples + "pipeline.yaml");
    const auto runtime_at = original.find("\nruntime:");
    ASSERT_NE(runtime_at, std::string::npos);
    std::string tuned = original.substr(0, runtime_at + 1) + block;
    // `check` does not open the files the pipeline names, so the copy may live elsewhere.
    const std::string tuned_path = dir.file("tuned.yaml");
    std::ofstream(tuned_path) << tuned;
    Process check({EDGEFLOW_BINARY, "check", "-c", tuned_path}, dir.file("check"));
    EXPECT_EQ(check.wait(30s), 0) << check.out() << check.err() << tuned;
    EXPECT_NE(check.out().find("runtime     1 worker(s)"), std::string::npos) << check.out();
}

// A generous max_emitted_per_batch with 16 shards and batches of one fits no budget of 64 MiB:
// `check` and `run` both refuse it, naming the key and what takes the memory; without a budget
// `check` accepts it and shows the figures.
TEST(RuntimeCommand, BoundsBeyondTheMemoryLimitAreRefused) {
    TempDir dir("memory-limit");
    std::ofstream(dir.file("in.jsonl")) << R"({"topic":"t","payload":{"v":1}})"
                                        << "\n";
    const auto pipeline = [&](const std::string& limit) {
        const std::string path = dir.file("pipeline-" + limit + ".yaml");
        std::ofstream(path) << "runtime: {memory_limit: " << limit
                            << ", max_emitted_per_batch: 65536, shards: 16, batch_size: 1, "
                               "http: {listen: off}}\n"
                               "sources: [{kind: file, path: "
                            << dir.file("in.jsonl")
                            << "}]\n"
                               "stages:\n"
                               "  - kind: heuristics\n"
                               "    events: events\n"
                               "    rules: [{id: hot, kind: threshold, input: v, high: 8}]\n"
                               "destinations:\n"
                               "  - {kind: file, path: "
                            << dir.file("out.jsonl")
                            << "}\n"
                               "  - {name: events, kind: file, path: "
                            << dir.file("events.jsonl") << "}\n";
        return path;
    };
    const std::string tight = pipeline("64Mi");
    Process check({EDGEFLOW_BINARY, "check", "-c", tight}, dir.file("check"));
    EXPECT_EQ(check.wait(30s), 1) << check.out() << check.err();
    const std::string refused = check.out() + check.err();
    EXPECT_NE(refused.find("runtime.memory_limit (64.0 MiB)"), std::string::npos) << refused;
    EXPECT_NE(refused.find("emitted-event room"), std::string::npos) << refused;
    EXPECT_NE(refused.find(":1:"), std::string::npos) << "file:line of the runtime block\n"
                                                      << refused;

    Process run({EDGEFLOW_BINARY, "run", "-c", tight}, dir.file("run"));
    EXPECT_EQ(run.wait(30s), 1) << run.out() << run.err();
    EXPECT_NE((run.out() + run.err()).find("runtime.memory_limit"), std::string::npos);

    Process open({EDGEFLOW_BINARY, "check", "-c", pipeline("none")}, dir.file("open"));
    EXPECT_EQ(open.wait(30s), 0) << open.out() << open.err();
    EXPECT_NE(open.out().find("  memory      "), std::string::npos) << open.out();
    EXPECT_NE(open.out().find("no budget"), std::string::npos) << open.out();
    EXPECT_NE(open.out().find("emitted-event room: "), std::string::npos) << open.out();
}

}  // namespace
