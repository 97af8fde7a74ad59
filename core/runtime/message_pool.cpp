#include "core/runtime/message_pool.h"

#include <simdjson.h>

#include "core/assert.h"

namespace edgeflow {

MessagePool::MessagePool(std::size_t size, std::size_t destinations)
    // Room for every message twice over, so the egress producer's blocks can never run out
    // while consumers hold partially drained ones: try_enqueue then always succeeds.
    : free_(2 * size + 4 * moodycamel::ConcurrentQueueDefaultTraits::BLOCK_SIZE, 1, 8),
      egress_token_(free_) {
    storage_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        auto message = std::make_unique<Message>();
        message->destination_topics.resize(destinations);
        message->topic.reserve(128);
        message->payload.reserve(512 + simdjson::SIMDJSON_PADDING);
        message->output.reserve(512);
        const bool queued = free_.try_enqueue(egress_token_, message.get());
        EDGEFLOW_ASSERT(queued);
        static_cast<void>(queued);
        storage_.push_back(std::move(message));
    }
}

Message* MessagePool::take() noexcept {
    Message* message = nullptr;
    return free_.try_dequeue(message) ? message : nullptr;
}

void MessagePool::put(Message* message) noexcept {
    message->reset();
    const bool queued = free_.try_enqueue(egress_token_, message);
    EDGEFLOW_ASSERT(queued);
    static_cast<void>(queued);
}

void MessagePool::put_from_any_thread(Message* message) noexcept {
    message->reset();
    // A thread's first implicit enqueue creates its producer, which try_enqueue may refuse;
    // enqueue then allocates it once. This path is rare (a source abandoning a message it
    // took), never per message in steady state.
    if (!free_.try_enqueue(message)) {
        free_.enqueue(message);
    }
}

}  // namespace edgeflow
