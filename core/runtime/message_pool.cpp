#include "core/runtime/message_pool.h"

#include <simdjson.h>

#include "core/assert.h"

namespace edgeflow {

MessagePool::MessagePool(std::size_t size, std::size_t destinations)
    : storage_(size), next_(std::make_unique<std::atomic<std::uint32_t>[]>(size)) {
    EDGEFLOW_ASSERT(size < index_mask);
    // Pushed in reverse, so the first message is on top.
    for (std::size_t i = size; i-- > 0;) {
        Message& message = storage_[i];
        message.destination_topics.resize(destinations);
        message.topic.reserve(128);
        message.payload.reserve(512 + simdjson::SIMDJSON_PADDING);
        message.output.reserve(512);
        next_[i].store(static_cast<std::uint32_t>(head_.load() & index_mask));
        head_.store(i + 1);
    }
}

Message* MessagePool::take() noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    while (true) {
        const auto top = static_cast<std::uint32_t>(head & index_mask);
        if (top == 0) {
            return nullptr;
        }
        // May be stale if another thread pops `top` meanwhile; then the counter has moved and
        // the exchange fails.
        const std::uint32_t below = next_[top - 1].load(std::memory_order_relaxed);
        const std::uint64_t next = ((head >> 32) + 1) << 32 | below;
        if (head_.compare_exchange_weak(head, next, std::memory_order_acquire,
                                        std::memory_order_acquire)) {
            return &storage_[top - 1];
        }
    }
}

void MessagePool::put(Message* message) noexcept {
    EDGEFLOW_ASSERT(message >= storage_.data() && message < storage_.data() + storage_.size());
    message->reset();
    const auto index = static_cast<std::uint32_t>(message - storage_.data());
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    std::uint64_t next;
    do {
        next_[index].store(static_cast<std::uint32_t>(head & index_mask),
                           std::memory_order_relaxed);
        next = ((head >> 32) + 1) << 32 | (index + 1);
    } while (!head_.compare_exchange_weak(head, next, std::memory_order_release,
                                          std::memory_order_relaxed));
}

}  // namespace edgeflow
