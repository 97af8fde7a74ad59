// OpenLoopSource: messages come out of a pre-rendered ring, each with its own event time.
#include "perf/harness/open_loop_source.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace edgeflow::perf {
namespace {

// Keeps every submitted message, in order.
class CollectingPort final : public IngestPort {
public:
    Message* acquire() noexcept override {
        std::lock_guard lock(mutex_);
        owned_.push_back(std::make_unique<Message>());
        return owned_.back().get();
    }
    void submit(Message* message) noexcept override {
        std::lock_guard lock(mutex_);
        submitted_.push_back(message);
    }
    void give_back(Message*) noexcept override {}

    std::vector<Message*> submitted() {
        std::lock_guard lock(mutex_);
        return submitted_;
    }

private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<Message>> owned_;
    std::vector<Message*> submitted_;
};

std::uint64_t timestamp_of(const std::string& payload) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(payload);
    auto doc = parser.iterate(padded);
    return doc["timestamp"].get_uint64().value();
}

TEST(OpenLoopSource, CyclesTheRingWithEachMessagesOwnTimestamp) {
    const FactoryWorkload workload;
    constexpr std::uint64_t count = 230;  // past several turns of the ring, side topics included
    constexpr std::size_t ring = 60;
    OpenLoopSource source("open_loop", workload, 0, count, 0, ring);
    CollectingPort port;
    ASSERT_TRUE(source.start(port));
    for (int i = 0; i < 2000 && !source.exhausted(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    source.stop();
    const auto messages = port.submitted();
    ASSERT_EQ(messages.size(), count);
    std::string topic, payload;
    for (std::uint64_t i = 0; i < count; ++i) {
        workload.render(i % ring, 0, topic, payload);
        EXPECT_EQ(messages[i]->topic, topic) << i;
        EXPECT_EQ(timestamp_of(messages[i]->payload), FactoryWorkload::epoch_ms + i) << i;
        // Apart from the timestamp, the ring's entry as it was rendered.
        EXPECT_EQ(messages[i]->payload.size(), payload.size()) << i;
        EXPECT_GE(messages[i]->payload.capacity() - messages[i]->payload.size(),
                  simdjson::SIMDJSON_PADDING)
            << "parsed in place, without a copy";
    }
    EXPECT_LT(messages.back()->ingest_ns - messages.front()->ingest_ns, 1'000'000'000u);
}

}  // namespace
}  // namespace edgeflow::perf
