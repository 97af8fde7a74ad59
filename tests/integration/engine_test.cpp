// Queue bounds and the full policies of the engine, with a scripted source and a sink that
// blocks until the test opens it.
//
// Every wait has a deadline (a watchdog: a hang fails the test instead of stalling it), and the
// ctest TIMEOUT backs that up.
#include "core/runtime/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "io/envelope.h"
#include "stages/registry.h"
#include "tests/support/scheduler_environment.h"

namespace edgeflow {

// Names the policy in test names and messages.
void PrintTo(FullPolicy policy, std::ostream* out) {
    *out << (policy == FullPolicy::block ? "block" : "drop_oldest");
}

namespace {

using namespace std::chrono_literals;

std::string policy_name(const testing::TestParamInfo<FullPolicy>& param) {
    return testing::PrintToString(param.param);
}

constexpr auto deadline = 10s;

// Polls `condition` until it holds or the deadline passes.
bool wait_until(const std::function<bool()>& condition) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// Sends messages {"seq":i} on topic test/i from its own thread, only as many as the test has
// allowed so far.
class ScriptedSource final : public Source {
public:
    ScriptedSource() : Source("scripted") {}
    ~ScriptedSource() override { stop(); }

    std::string_view kind() const noexcept override { return "scripted"; }
    Status start(IngestPort& port) override {
        port_ = &port;
        thread_ = std::thread([this] { run(); });
        return Status::ok();
    }
    void stop() noexcept override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    bool finite() const noexcept override { return true; }
    bool exhausted() const noexcept override { return false; }

    /// Lets the source send messages until it has sent `total` in all.
    void allow(std::size_t total) {
        {
            std::lock_guard lock(mutex_);
            allowed_ = total;
        }
        changed_.notify_all();
    }
    /// Messages the engine handed out (acquire returned).
    std::size_t acquired() const { return acquired_.load(); }
    /// Messages submitted to the engine.
    std::size_t submitted() const { return submitted_.load(); }
    /// From now on, hands messages over `n` at a time with submit_burst (as an MQTT source
    /// hands over one read from its socket), or fewer when the allowance ends first.
    void use_bursts(std::size_t n) { burst_size_ = n; }
    std::thread::id thread_id() const { return thread_.get_id(); }

private:
    void run() {
        for (std::size_t i = 0;; ++i) {
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return stopping_ || i < allowed_; });
                if (stopping_) {
                    return;
                }
            }
            Message* message = port_->acquire();
            if (message == nullptr) {
                return;
            }
            acquired_.fetch_add(1);
            message->topic = "test/" + std::to_string(i);
            assign_padded(message->payload, "{\"seq\":" + std::to_string(i) + "}");
            if (burst_size_ == 0) {
                port_->submit(message);
                counters.received.fetch_add(1);
                submitted_.fetch_add(1);
                continue;
            }
            burst_.push_back(message);
            bool last = false;
            {
                std::lock_guard lock(mutex_);
                last = i + 1 >= allowed_;
            }
            if (burst_.size() == burst_size_ || last) {
                port_->submit_burst(burst_);
                counters.received.fetch_add(burst_.size());
                submitted_.fetch_add(burst_.size());
                burst_.clear();
            }
        }
    }

    IngestPort* port_ = nullptr;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t allowed_ = 0;
    bool stopping_ = false;
    std::atomic<std::size_t> acquired_{0};
    std::atomic<std::size_t> submitted_{0};
    std::atomic<std::size_t> burst_size_{0};
    std::vector<Message*> burst_;
};

// Records what it would write for each live message (the serialized record); every write waits
// until the test opens the gate.
class GateSink final : public Sink {
public:
    explicit GateSink(std::size_t index) : Sink("gate", index, false) {}

    std::string_view kind() const noexcept override { return "gate"; }
    Status start(const EngineSignals& signals) override {
        signals_ = &signals;
        return Status::ok();
    }
    void write(const Batch& batch) noexcept override {
        std::unique_lock lock(mutex_);
        ++writes_entered_;
        changed_.wait(lock, [&] { return open_; });
        std::uint64_t written = 0;
        for (const Message* message : batch) {
            if (wants(*message)) {
                received_.push_back(message->output);
                writers_.push_back(std::this_thread::get_id());
                ++written;
            }
        }
        counters.written.fetch_add(written);
    }
    Status close() override { return Status::ok(); }

    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        changed_.notify_all();
    }
    std::size_t writes_entered() const {
        std::lock_guard lock(mutex_);
        return writes_entered_;
    }
    std::vector<std::string> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    /// The thread that wrote each received message.
    std::vector<std::thread::id> writers() const {
        std::lock_guard lock(mutex_);
        return writers_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
    std::size_t writes_entered_ = 0;
    std::vector<std::string> received_;
    std::vector<std::thread::id> writers_;
    const EngineSignals* signals_ = nullptr;
};

// Opens the gate when a test ends early, so that stopping the engine can drain.
struct OpenOnExit {
    GateSink& sink;
    ~OpenOnExit() { sink.open(); }
};

std::string payload(std::size_t seq) {
    return "{\"seq\":" + std::to_string(seq) + "}";
}

std::size_t seq_of(const std::string& record) {
    return std::stoul(record.substr(std::string_view("{\"seq\":").size()));
}

constexpr std::uint64_t ingest_capacity = 4;
constexpr std::uint64_t batch_size = 2;
constexpr std::uint64_t in_flight_batches = 1;
constexpr std::uint64_t egress_capacity = 2;  // one batch
// Batches in the pool: those in the graph plus those the egress queue holds.
constexpr std::uint64_t pool_batches = in_flight_batches + egress_capacity / batch_size;
constexpr std::size_t total_messages = 20;

class EngineQueueTest : public testing::TestWithParam<FullPolicy> {
protected:
    virtual std::uint64_t inline_batch() const { return RuntimeConfig{}.inline_batch; }

    void SetUp() override {
        config_.file = "engine_test.yaml";
        EndpointConfig source;
        source.name = "scripted";
        source.kind = "scripted";
        config_.sources.push_back(source);
        EndpointConfig destination;
        destination.name = "gate";
        destination.kind = "gate";
        destination.topic = "{topic}";
        config_.destinations.push_back(destination);
        config_.runtime.workers = 1;
        config_.runtime.batch_size = batch_size;
        config_.runtime.max_in_flight_batches = in_flight_batches;
        config_.runtime.ingest_queue.capacity = ingest_capacity;
        config_.runtime.ingest_queue.when_full = GetParam();
        config_.runtime.egress_queue.capacity = egress_capacity;
        config_.runtime.inline_batch = inline_batch();

        auto counts = std::make_shared<DeadLetterCounts>();
        ConfigErrors errors(config_.file);
        auto stages = build_stages(config_, counts, errors).stages;
        ASSERT_TRUE(errors.empty()) << errors.to_string();
        auto source_ptr = std::make_unique<ScriptedSource>();
        source_ = source_ptr.get();
        auto sink_ptr = std::make_unique<GateSink>(0);
        sink_ = sink_ptr.get();
        std::vector<std::unique_ptr<Source>> sources;
        sources.push_back(std::move(source_ptr));
        std::vector<std::unique_ptr<Sink>> sinks;
        sinks.push_back(std::move(sink_ptr));
        engine_ = std::make_unique<Engine>(config_, std::move(stages), std::move(sources),
                                           std::move(sinks), counts);
        const Status started = engine_->start();
        ASSERT_TRUE(started) << started.message();
    }

    void TearDown() override {
        if (sink_ != nullptr) {
            sink_->open();
        }
        engine_.reset();
    }

    // Fills both batches of the pool with one message each and holds them downstream: the
    // first in the blocked sink, the second behind it. From then on nothing leaves the ingest
    // queue until the sink is opened.
    void hold_the_batch_pool() {
        source_->allow(1);
        ASSERT_TRUE(wait_until([&] { return sink_->writes_entered() == 1; }))
            << "the first batch never reached the sink";
        source_->allow(2);
        const AnyStage& first_stage = *engine_->stages().front();
        ASSERT_TRUE(wait_until([&] { return load(first_stage.counters.in) == 2; }))
            << "the second batch never entered the graph";
        EXPECT_EQ(load(engine_->ingest().waits), 0u);
    }

    PipelineConfig config_;
    ScriptedSource* source_ = nullptr;
    GateSink* sink_ = nullptr;
    std::unique_ptr<Engine> engine_;
};

TEST_P(EngineQueueTest, StopDeliversWhatWasNotDroppedInOrder) {
    sink_->open();
    source_->allow(total_messages);
    ASSERT_TRUE(wait_until([&] { return source_->submitted() == total_messages; }));
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();

    // The serialized records of compact payloads are the payloads themselves.
    const auto received = sink_->received();
    const auto dropped = load(engine_->ingest().dropped);
    EXPECT_EQ(received.size() + dropped, total_messages);
    EXPECT_EQ(load(engine_->stages().back()->counters.out), received.size());
    // In order, and the newest message is never the one dropped.
    std::vector<std::size_t> seqs;
    for (const auto& r : received) {
        seqs.push_back(seq_of(r));
    }
    EXPECT_TRUE(std::adjacent_find(seqs.begin(), seqs.end(), std::greater_equal<>()) == seqs.end())
        << "messages were delivered out of order or twice";
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(seqs.back(), total_messages - 1);
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < total_messages; ++i) {
        expected.push_back(payload(i));
    }
    if (GetParam() == FullPolicy::block) {
        EXPECT_EQ(dropped, 0u);
        EXPECT_EQ(received, expected);
    }
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineQueueTest,
                         testing::Values(FullPolicy::block, FullPolicy::drop_oldest), policy_name);

class EngineBlockPolicy : public EngineQueueTest {};

TEST_P(EngineBlockPolicy, SourceWaitsOnceTheQueueAndBatchPoolAreFull) {
    ASSERT_NO_FATAL_FAILURE(hold_the_batch_pool());
    source_->allow(total_messages);
    ASSERT_TRUE(wait_until([&] { return engine_->ingest().waiting.load() == 1; }))
        << "the source never waited; it got " << source_->acquired() << " messages";

    // Blocked in acquire: accepted at most the ingest queue plus the batch pool.
    const std::size_t accepted = source_->acquired();
    EXPECT_LE(accepted, ingest_capacity + pool_batches * batch_size);
    EXPECT_GT(accepted, ingest_capacity);
    EXPECT_EQ(source_->submitted(), accepted);
    EXPECT_EQ(engine_->ingest().depth.depth.load(), static_cast<std::int64_t>(ingest_capacity));
    EXPECT_GE(load(engine_->ingest().waits), 1u);
    EXPECT_EQ(load(engine_->ingest().dropped), 0u);

    sink_->open();
    ASSERT_TRUE(wait_until([&] { return source_->submitted() == total_messages; }))
        << "the source did not resume; it sent " << source_->submitted();
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < total_messages; ++i) {
        expected.push_back(payload(i));
    }
    EXPECT_EQ(sink_->received(), expected);
    EXPECT_EQ(load(engine_->ingest().dropped), 0u);
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineBlockPolicy, testing::Values(FullPolicy::block),
                         policy_name);

class EngineDropOldestPolicy : public EngineQueueTest {};

TEST_P(EngineDropOldestPolicy, SourceNeverWaitsAndTheOldestAreDropped) {
    ASSERT_NO_FATAL_FAILURE(hold_the_batch_pool());
    source_->allow(total_messages);
    ASSERT_TRUE(wait_until([&] { return source_->submitted() == total_messages; }))
        << "the source was held up; it sent " << source_->submitted();

    EXPECT_EQ(load(engine_->ingest().waits), 0u);
    EXPECT_EQ(engine_->ingest().waiting.load(), 0);
    // Two messages are in the held batches and the queue keeps the newest four.
    const std::size_t held = 2;
    EXPECT_EQ(load(engine_->ingest().dropped), total_messages - held - ingest_capacity);
    EXPECT_EQ(engine_->ingest().depth.depth.load(), static_cast<std::int64_t>(ingest_capacity));

    sink_->open();
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
    const auto received = sink_->received();
    std::vector<std::string> expected = {payload(0), payload(1)};
    for (std::size_t i = total_messages - ingest_capacity; i < total_messages; ++i) {
        expected.push_back(payload(i));
    }
    EXPECT_EQ(received, expected);
    EXPECT_EQ(received.size() + load(engine_->ingest().dropped), total_messages);
    // Dropped messages never reached a stage.
    EXPECT_EQ(load(engine_->stages().front()->counters.in), received.size());
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineDropOldestPolicy, testing::Values(FullPolicy::drop_oldest),
                         policy_name);

// One message at a time, each delivered before the next is sent: every batch finds the graph
// idle and the dispatch thread runs it (runtime.inline_batch, default 8).
std::vector<std::string> send_one_at_a_time(ScriptedSource& source, GateSink& sink) {
    sink.open();
    for (std::size_t i = 0; i < total_messages; ++i) {
        source.allow(i + 1);
        if (!wait_until([&] { return sink.received().size() == i + 1; })) {
            ADD_FAILURE() << "message " << i << " never arrived";
            break;
        }
    }
    return sink.received();
}

std::vector<std::string> all_payloads() {
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < total_messages; ++i) {
        expected.push_back(payload(i));
    }
    return expected;
}

class EngineTrickle : public EngineQueueTest {};

TEST_P(EngineTrickle, RunsOnTheDispatchThreadWhileTheGraphIsIdle) {
    EXPECT_EQ(send_one_at_a_time(*source_, *sink_), all_payloads());
    // The graph counts a batch out just after on_done; a message sent in that instant would
    // go to the workers, which the 1 ms polling above makes all but impossible.
    EXPECT_GE(engine_->inline_batches(), total_messages - 2);
    EXPECT_LE(engine_->inline_batches(), total_messages + 50) << "beyond the idle ticks";
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
    EXPECT_EQ(load(engine_->stages().back()->counters.out), total_messages);
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineTrickle, testing::Values(FullPolicy::block), policy_name);

class EngineWithoutInline : public EngineQueueTest {
protected:
    std::uint64_t inline_batch() const override { return 0; }
};

TEST_P(EngineWithoutInline, EveryBatchGoesToTheWorkers) {
    EXPECT_EQ(send_one_at_a_time(*source_, *sink_), all_payloads());
    EXPECT_EQ(engine_->inline_batches(), 0u);
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineWithoutInline, testing::Values(FullPolicy::block),
                         policy_name);

// The summary (and the `stage` label of the metrics) calls a stage by its name; two of one name
// or kind are told apart by a count.
TEST(EngineLabels, StagesAreCalledByTheirNames) {
    PipelineConfig config;
    config.file = "engine_test.yaml";
    EndpointConfig destination;
    destination.name = "out";
    destination.kind = "null";
    destination.topic = "{topic}";
    config.destinations.push_back(destination);
    auto counts = std::make_shared<DeadLetterCounts>();
    ConfigErrors errors(config.file);
    auto stages = build_stages(config, counts, errors).stages;
    ASSERT_TRUE(errors.empty()) << errors.to_string();
    ASSERT_EQ(stages.size(), 3u);  // parse, route, serialize
    stages[0]->name = "decode";
    stages[1]->name = "decode";
    Engine engine(config, std::move(stages), {}, {}, counts);
    const std::string summary = engine.summary();
    EXPECT_NE(summary.find("stage      decode "), std::string::npos) << summary;
    EXPECT_NE(summary.find("stage      decode-2 "), std::string::npos) << summary;
    EXPECT_NE(summary.find("stage      serialize "), std::string::npos) << summary;
}

class EngineRunToCompletion : public EngineQueueTest {};

// Each burst is handed over while nothing else is in the engine: the source's own thread runs
// it through the stages and writes it to the sink.
TEST_P(EngineRunToCompletion, IdleBurstsRunOnTheSourcesThread) {
    source_->use_bursts(2);
    sink_->open();
    for (std::size_t i = 0; i < total_messages; i += 2) {
        source_->allow(i + 2);
        ASSERT_TRUE(wait_until([&] { return sink_->received().size() == i + 2; }))
            << "burst " << i / 2 << " never arrived";
    }
    EXPECT_EQ(sink_->received(), all_payloads());
    const auto writers = sink_->writers();
    const auto on_source = std::count(writers.begin(), writers.end(), source_->thread_id());
    // A tick batch of the stateful stages can be in flight at the moment a burst arrives;
    // there are none here, so every burst finds the engine idle.
    EXPECT_EQ(on_source, static_cast<long>(total_messages));
    EXPECT_EQ(engine_->run_to_completion_batches(), total_messages / 2);
    EXPECT_EQ(engine_->ingest().depth.high_water.load(), 0);
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
}

// A burst longer than the limit (min of inline_batch, batch_size and half the ingest queue: 2
// here) goes through the ingest queue and the dispatch thread. Order holds across the two paths.
TEST_P(EngineRunToCompletion, LongBurstsQueueAndKeepTheirOrder) {
    source_->use_bursts(3);
    sink_->open();
    source_->allow(total_messages);  // bursts of 3, then a last one of 2
    ASSERT_TRUE(wait_until([&] { return sink_->received().size() == total_messages; }))
        << sink_->received().size() << " of " << total_messages;
    EXPECT_EQ(sink_->received(), all_payloads());
    EXPECT_LE(engine_->run_to_completion_batches(), 1u) << "only the last burst is short";
    EXPECT_GT(engine_->ingest().depth.high_water.load(), 0);
    const auto writers = sink_->writers();
    EXPECT_NE(writers.front(), source_->thread_id());
    const Status stopped = engine_->stop();
    ASSERT_TRUE(stopped) << stopped.message();
}

INSTANTIATE_TEST_SUITE_P(Policies, EngineRunToCompletion, testing::Values(FullPolicy::block),
                         policy_name);

}  // namespace
}  // namespace edgeflow
