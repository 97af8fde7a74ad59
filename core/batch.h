// Batch: what moves between graph nodes — up to batch_size messages plus a sequence number.
//
// Batches come from the engine's bounded batch pool; the pool's size is what bounds the
// messages in flight inside the flow graph and the egress queue. A batch holds pointers to
// pooled Messages and never owns them. One thread touches a batch at a time (the node currently
// processing it). Its array is allocated once, at construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/assert.h"
#include "core/message.h"

namespace edgeflow {

class Batch {
public:
    explicit Batch(std::size_t capacity)
        : messages_(std::make_unique<Message*[]>(capacity)), capacity_(capacity) {}

    std::uint64_t sequence = 0;  ///< dispatch order; the sequencer restores it

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    void push(Message* message) noexcept {
        EDGEFLOW_ASSERT(size_ < capacity_);
        messages_[size_++] = message;
    }
    void clear() noexcept { size_ = 0; }

    /// For bulk fills from a queue: write up to capacity() pointers here, then set_size().
    Message** data() noexcept { return messages_.get(); }
    void set_size(std::size_t size) noexcept {
        EDGEFLOW_ASSERT(size <= capacity_);
        size_ = size;
    }

    std::span<Message* const> messages() const noexcept { return {messages_.get(), size_}; }
    Message* const* begin() const noexcept { return messages_.get(); }
    Message* const* end() const noexcept { return messages_.get() + size_; }
    Message& operator[](std::size_t i) const noexcept { return *messages_[i]; }

private:
    std::unique_ptr<Message*[]> messages_;
    std::size_t capacity_;
    std::size_t size_ = 0;
};

}  // namespace edgeflow
