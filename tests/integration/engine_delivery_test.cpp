// Acknowledgement after delivery, in process: a source whose messages wait for their outputs
// to be safe (Message::ack_pending), and a destination that confirms its outputs only when the
// test says so, as an MQTT destination does when its broker's PUBACK arrives.
//
// Every wait has a deadline; ctest kills a hang.
#include "core/runtime/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config/yaml_loader.h"
#include "io/envelope.h"
#include "stages/registry.h"
#include "tests/support/scheduler_environment.h"

namespace edgeflow {
namespace {

using namespace std::chrono_literals;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// Submits the payloads it is given, message i with ack token i, from the caller's thread, and
// records what the engine acknowledges.
class AckingSource final : public Source {
public:
    AckingSource() : Source("acking") {}

    std::string_view kind() const noexcept override { return "acking"; }
    Status start(IngestPort& port) override {
        port_ = &port;
        return Status::ok();
    }
    void stop() noexcept override {}
    bool finite() const noexcept override { return true; }
    bool exhausted() const noexcept override { return false; }
    void acknowledge(std::span<const PendingAck> acks) noexcept override {
        std::lock_guard lock(mutex_);
        for (const PendingAck& ack : acks) {
            acknowledged_.push_back(ack.token);
        }
    }

    void send(const std::string& payload) {
        Message* message = port_->acquire();
        ASSERT_NE(message, nullptr);
        message->topic = "in/" + std::to_string(next_);
        assign_padded(message->payload, payload);
        message->qos = 1;
        message->ack_pending = true;
        message->ack_token = next_++;
        port_->submit(message);
        counters.received.fetch_add(1);
    }
    std::vector<std::uint64_t> acknowledged() const {
        std::lock_guard lock(mutex_);
        auto sorted = acknowledged_;
        std::sort(sorted.begin(), sorted.end());
        return sorted;
    }

private:
    IngestPort* port_ = nullptr;
    std::uint64_t next_ = 0;
    mutable std::mutex mutex_;
    std::vector<std::uint64_t> acknowledged_;
};

// Holds each batch it writes to (once per message meant for it) until the test confirms them.
class ConfirmingSink final : public Sink {
public:
    explicit ConfirmingSink(std::size_t index = 0) : Sink("confirming", index, false) {}

    std::string_view kind() const noexcept override { return "confirming"; }
    Status start(const EngineSignals&) override { return Status::ok(); }
    void write(const Batch& batch) noexcept override {
        std::lock_guard lock(mutex_);
        for (const Message* message : batch) {
            if (wants(*message)) {
                batch.hold();
                held_.push_back(&batch);
            }
        }
    }
    Status close() override {
        settle(false);  // what was never confirmed is given up, as an MQTT sink does at stop
        return Status::ok();
    }

    std::size_t held() const {
        std::lock_guard lock(mutex_);
        return held_.size();
    }
    /// Confirms (or gives up) every output held so far.
    void settle(bool delivered) {
        std::vector<const Batch*> batches;
        {
            std::lock_guard lock(mutex_);
            batches.swap(held_);
        }
        for (const Batch* batch : batches) {
            batch->release(delivered);
        }
    }

private:
    mutable std::mutex mutex_;
    std::vector<const Batch*> held_;
};

class EngineDelivery : public testing::Test {
protected:
    void SetUp() override {
        config_.file = "engine_delivery_test.yaml";
        EndpointConfig source;
        source.name = "acking";
        source.kind = "acking";
        config_.sources.push_back(source);
        EndpointConfig destination;
        destination.name = "confirming";
        destination.kind = "confirming";
        destination.topic = "{topic}";
        config_.destinations.push_back(destination);
        config_.runtime.workers = 1;
        config_.runtime.batch_size = 4;
        config_.runtime.ingest_queue.capacity = 16;
        auto counts = std::make_shared<DeadLetterCounts>();
        ConfigErrors errors(config_.file);
        auto stages = build_stages(config_, counts, errors).stages;
        ASSERT_TRUE(errors.empty()) << errors.to_string();
        auto source_ptr = std::make_unique<AckingSource>();
        source_ = source_ptr.get();
        auto sink_ptr = std::make_unique<ConfirmingSink>();
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
    void TearDown() override { engine_.reset(); }

    PipelineConfig config_;
    AckingSource* source_ = nullptr;
    ConfirmingSink* sink_ = nullptr;
    std::unique_ptr<Engine> engine_;
};

TEST_F(EngineDelivery, InputsAreAcknowledgedOnlyOnceTheirOutputsAreConfirmed) {
    for (int i = 0; i < 3; ++i) {
        source_->send("{\"seq\":" + std::to_string(i) + "}");
    }
    ASSERT_TRUE(wait_until([&] { return sink_->held() == 3; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(source_->acknowledged().empty()) << "acknowledged before the destination";
    sink_->settle(true);
    ASSERT_TRUE(wait_until([&] { return source_->acknowledged().size() == 3; }));
    EXPECT_EQ(source_->acknowledged(), (std::vector<std::uint64_t>{0, 1, 2}));
}

// A message that produces nothing for a destination (here unreadable JSON, with no dead-letter
// destination: counted and dropped) is safe as soon as it has been through the stages.
TEST_F(EngineDelivery, AMessageWithNothingToDeliverIsAcknowledgedAtOnce) {
    source_->send("not json");
    ASSERT_TRUE(wait_until([&] { return source_->acknowledged().size() == 1; }));
    EXPECT_EQ(sink_->held(), 0u);
}

// An output given up (a destination stopping before its broker confirmed it) leaves its inputs
// unacknowledged, for the broker to send again; the engine goes on with the next ones.
TEST_F(EngineDelivery, AnOutputGivenUpLeavesItsInputsUnacknowledged) {
    source_->send("{\"seq\":0}");
    ASSERT_TRUE(wait_until([&] { return sink_->held() == 1; }));
    sink_->settle(false);
    source_->send("{\"seq\":1}");
    ASSERT_TRUE(wait_until([&] { return sink_->held() == 1; }));
    sink_->settle(true);
    ASSERT_TRUE(wait_until([&] { return !source_->acknowledged().empty(); }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(source_->acknowledged(), (std::vector<std::uint64_t>{1}));
}

// Held batches are not reused: with every batch of the pool awaiting confirmation the engine
// stops taking batches (backpressure), and goes on once they are confirmed, losing nothing.
TEST_F(EngineDelivery, BatchesAwaitingConfirmationHoldTheSourceBack) {
    const std::size_t total = 2000;
    std::thread sender([&] {
        for (std::size_t i = 0; i < total; ++i) {
            source_->send("{\"seq\":" + std::to_string(i) + "}");
        }
    });
    struct Join {
        std::thread& thread;
        ConfirmingSink& sink;
        ~Join() {
            // On an early failure: confirm until the sender is through.
            while (thread.joinable()) {
                sink.settle(true);
                std::this_thread::sleep_for(1ms);
                if (sink.held() == 0) {
                    std::this_thread::sleep_for(10ms);
                    if (sink.held() == 0) {
                        break;
                    }
                }
            }
            if (thread.joinable()) {
                thread.join();
            }
        }
    } join{sender, *sink_};
    // Nothing is confirmed yet: the source must come to wait for room.
    ASSERT_TRUE(wait_until([&] { return load(engine_->ingest().waits) > 0; }))
        << "the source never waited while every batch was held";
    const std::size_t held_while_blocked = sink_->held();
    EXPECT_LT(held_while_blocked, total);
    while (source_->acknowledged().size() < total) {
        sink_->settle(true);
        ASSERT_TRUE(wait_until([&] {
            return sink_->held() > 0 || source_->acknowledged().size() == total;
        })) << source_->acknowledged().size()
            << " of " << total << " acknowledged";
    }
    const auto acked = source_->acknowledged();
    ASSERT_EQ(acked.size(), total);
    for (std::size_t i = 0; i < total; ++i) {
        ASSERT_EQ(acked[i], i);
    }
}

// With durable state (lkv persist), a message is safe only once the snapshot holding its change
// has been confirmed: its acknowledgement waits for the write-behind interval, and for the
// snapshot's destination, not only for its own output.
TEST(EngineDeliveryPersist, AcknowledgementWaitsForTheSnapshotHoldingTheChange) {
    const std::string text = R"(
sources: [{name: acking, kind: acking}]
partition_key: deviceId
stages:
  - kind: lkv
    persist: {destination: store, topic_prefix: lkv, interval: 300ms}
destinations:
  - {name: out, kind: confirming, topic: "{topic}"}
  - {name: store, kind: confirming}
runtime: {workers: 1, batch_size: 4}
)";
    ConfigErrors errors("persist.yaml");
    const auto root = load_yaml_text(text, errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    PipelineConfig config = parse_pipeline(*root, errors);
    ASSERT_TRUE(errors.empty()) << errors.to_string();
    config.file = "persist.yaml";
    auto counts = std::make_shared<DeadLetterCounts>();
    auto stages = build_stages(config, counts, errors).stages;
    ASSERT_TRUE(errors.empty()) << errors.to_string();
    auto source_ptr = std::make_unique<AckingSource>();
    AckingSource& source = *source_ptr;
    auto out_ptr = std::make_unique<ConfirmingSink>(0);
    ConfirmingSink& out = *out_ptr;
    auto store_ptr = std::make_unique<ConfirmingSink>(1);
    ConfirmingSink& store = *store_ptr;
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::move(source_ptr));
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(std::move(out_ptr));
    sinks.push_back(std::move(store_ptr));
    Engine engine(config, std::move(stages), std::move(sources), std::move(sinks), counts);
    ASSERT_TRUE(engine.start());

    // The first change of a key is written at once (nothing was flushed yet); the second
    // waits for the interval.
    source.send(R"({"deviceId":"a","t":1})");
    ASSERT_TRUE(wait_until([&] { return out.held() == 1 && store.held() == 1; }));
    out.settle(true);
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(source.acknowledged().empty()) << "acknowledged before its snapshot";
    store.settle(true);
    ASSERT_TRUE(wait_until([&] { return source.acknowledged().size() == 1; }));

    source.send(R"({"deviceId":"a","t":2})");
    ASSERT_TRUE(wait_until([&] { return out.held() == 1; }));
    out.settle(true);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(source.acknowledged().size(), 1u) << "acknowledged before the interval's snapshot";
    ASSERT_TRUE(wait_until([&] { return store.held() == 1; })) << "no snapshot after the interval";
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(source.acknowledged().size(), 1u) << "acknowledged before the snapshot was confirmed";
    store.settle(true);
    ASSERT_TRUE(wait_until([&] { return source.acknowledged().size() == 2; }));
    EXPECT_EQ(source.acknowledged(), (std::vector<std::uint64_t>{0, 1}));
    static_cast<void>(engine.stop());
}

}  // namespace
}  // namespace edgeflow
