// Batch: what moves between graph nodes — up to batch_size messages plus a sequence number.
//
// Stateful stages may emit messages of their own (events, state snapshots) while they process
// a batch: each shard appends to its own outbox here (so shards running in parallel never share
// one), and merge_emitted() puts them into the batch after the stateful stages, ordered by the
// message that caused them. Emitted messages belong to the batch, are reused by it, and are
// bounded per shard; emit() returns null when a shard's outbox is full.
//
// Batches come from the engine's bounded batch pool; the pool's size is what bounds the
// messages in flight inside the flow graph and the egress queue. A batch holds pointers to
// pooled Messages and never owns them. One thread touches a batch at a time (the node currently
// processing it). Its array is allocated once, at construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/assert.h"
#include "core/message.h"

namespace edgeflow {

class Batch {
public:
    /// `capacity` messages from the sources; `shards` outboxes of at most `emit_per_shard`
    /// emitted messages, each with `destinations` topic buffers.
    explicit Batch(std::size_t capacity, std::size_t destinations = 0, std::size_t shards = 0,
                   std::size_t emit_per_shard = 0)
        : messages_(std::make_unique<Message*[]>(capacity + shards * emit_per_shard)),
          capacity_(capacity),
          destinations_(destinations),
          emit_per_shard_(emit_per_shard),
          outboxes_(shards) {}

    std::uint64_t sequence = 0;  ///< dispatch order; the sequencer restores it
    /// Processing time (epoch ms) the stateful stages run this batch at: set by the first of
    /// them (wall clock, or the newest event time when replaying on event time).
    std::int64_t clock_ms = 0;

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    void push(Message* message) noexcept {
        EDGEFLOW_ASSERT(size_ < capacity_);
        messages_[size_++] = message;
    }
    /// Empties the batch; emitted messages are reset for reuse.
    void clear() noexcept {
        size_ = 0;
        for (auto& outbox : outboxes_) {
            for (std::size_t i = 0; i < outbox.used; ++i) {
                outbox.messages[i]->reset();
            }
            outbox.used = 0;
        }
    }

    /// A clean message for `shard` to emit, caused by the message at `trigger`; null when the
    /// shard's outbox is full. Call only from the thread running that shard. Allocates only
    /// while the outbox grows to its bound.
    Message* emit(std::size_t shard, std::uint32_t trigger) {
        Outbox& outbox = outboxes_[shard];
        if (outbox.used == emit_per_shard_) {
            return nullptr;
        }
        if (outbox.used == outbox.messages.size()) {
            auto message = std::make_unique<Message>();
            message->emitted = true;
            message->destination_topics.resize(destinations_);
            outbox.messages.push_back(std::move(message));
        }
        Message* message = outbox.messages[outbox.used++].get();
        message->trigger = trigger;
        return message;
    }
    /// Appends every emitted message to the batch, ordered by trigger (on ties: shard, then
    /// the order they were emitted in).
    /// Call once, after the stateful stages, from one thread.
    void merge_emitted() noexcept;
    std::size_t emitted_count() const noexcept {
        std::size_t n = 0;
        for (const auto& outbox : outboxes_) {
            n += outbox.used;
        }
        return n;
    }
    std::size_t emit_capacity() const noexcept { return emit_per_shard_; }

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
    struct Outbox {
        std::vector<std::unique_ptr<Message>> messages;
        std::size_t used = 0;
    };
    std::unique_ptr<Message*[]> messages_;
    std::size_t capacity_;
    std::size_t size_ = 0;
    std::size_t destinations_ = 0;
    std::size_t emit_per_shard_ = 0;
    std::vector<Outbox> outboxes_;
};

inline void Batch::merge_emitted() noexcept {
    // Shard by shard, then a stable insertion sort by trigger: each outbox is nearly sorted
    // already (its groups of rules each emit in message order), and this allocates nothing.
    const std::size_t first = size_;
    for (auto& outbox : outboxes_) {
        for (std::size_t i = 0; i < outbox.used; ++i) {
            Message* m = outbox.messages[i].get();
            std::size_t at = size_++;
            while (at > first && messages_[at - 1]->trigger > m->trigger) {
                messages_[at] = messages_[at - 1];
                --at;
            }
            messages_[at] = m;
        }
    }
}

}  // namespace edgeflow
