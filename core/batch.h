// Batch: what moves between graph nodes — up to batch_size messages plus a sequence number.
//
// Stateful stages may emit messages of their own (events, state snapshots) while they process
// a batch: each shard appends to its own outbox here (so shards running in parallel never share
// one), and merge_emitted() puts them into the batch after the stateful stages, ordered by the
// message that caused them and then by an order that does not depend on which shard emitted
// them (the emitter's rank, then the key), so the output is the same whatever the shard count.
// Emitted messages belong to the batch, are reused by it, and are bounded per shard; emit()
// returns null when a shard's outbox is full. Their room is allocated as it is first used, not
// up front: a generous bound costs memory only when events actually fill it.
//
// Delivery: a destination that confirms an output only later (a QoS 1 publish awaiting its
// PUBACK, a QoS 0 one until it is written) holds the batch, and releases it when the output is
// safe. The engine holds it too while the sinks write. The last release hands the batch to its
// DeliveryListener (the engine), which acknowledges the inputs to their sources and returns the
// batch to the pool: a batch awaiting acknowledgements is not reused. Holds and releases are
// atomic, from any thread.
//
// Batches come from the engine's bounded batch pool; the pool's size is what bounds the
// messages in flight inside the flow graph and the egress queue. A batch holds pointers to
// pooled Messages and never owns them. One thread touches a batch at a time (the node currently
// processing it). Its array of message pointers is allocated at construction for the sources'
// messages and grows (then keeps its size) as emitted messages are merged in.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/assert.h"
#include "core/message.h"

namespace edgeflow {

class Batch;
struct DeliveryGroup;

/// Told when every output of a batch is safe (see Batch::release).
class DeliveryListener {
public:
    virtual void delivered(Batch& batch) noexcept = 0;

protected:
    ~DeliveryListener() = default;
};

/// A source's acknowledgement of one input, kept by its batch until the batch is delivered.
struct PendingAck {
    std::uint32_t source = 0;
    std::uint64_t token = 0;
};

class Batch {
public:
    /// `capacity` messages from the sources; `shards` outboxes of at most `emit_per_shard`
    /// emitted messages, each with `destinations` topic buffers.
    explicit Batch(std::size_t capacity, std::size_t destinations = 0, std::size_t shards = 0,
                   std::size_t emit_per_shard = 0)
        : capacity_(capacity),
          destinations_(destinations),
          emit_per_shard_(emit_per_shard),
          outboxes_(shards) {
        messages_.resize(capacity);
        acks_.reserve(capacity);
    }

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
        acks_.clear();
        abandoned_.store(false, std::memory_order_relaxed);
        state_unsaved_.store(false, std::memory_order_relaxed);
        group = nullptr;
        for (auto& outbox : outboxes_) {
            for (std::size_t i = 0; i < outbox.used; ++i) {
                outbox.messages[i]->reset();
            }
            outbox.used = 0;
        }
    }

    /// A clean message for `shard` to emit, caused by the message at `trigger`, with `rank`
    /// (Message::emit_rank) ordering it among what the same trigger caused; null when the
    /// shard's outbox is full. Call only from the thread running that shard. Allocates only
    /// while the outbox grows to its bound.
    Message* emit(std::size_t shard, std::uint32_t trigger, std::uint32_t rank) {
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
        Message* message = outbox.messages[outbox.used].get();
        message->trigger = trigger;
        message->emit_rank = rank;
        message->emit_sequence = (static_cast<std::uint64_t>(shard) << 32) | outbox.used;
        ++outbox.used;
        return message;
    }
    /// Appends every emitted message to the batch, ordered by trigger, then rank, then key
    /// (none of which depends on the shard); messages equal in all three have one key, hence
    /// one shard, and keep the order they were emitted in.
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
    Message** data() noexcept { return messages_.data(); }
    void set_size(std::size_t size) noexcept {
        EDGEFLOW_ASSERT(size <= capacity_);
        size_ = size;
    }

    std::span<Message* const> messages() const noexcept { return {messages_.data(), size_}; }
    Message* const* begin() const noexcept { return messages_.data(); }
    Message* const* end() const noexcept { return messages_.data() + size_; }
    Message& operator[](std::size_t i) const noexcept { return *messages_[i]; }

    // Delivery (see the header comment).
    /// Set once, by the engine, before the batch is first used.
    void set_listener(DeliveryListener* listener) noexcept { listener_ = listener; }
    /// Starts the delivery with the engine's own hold, released when the sinks have written.
    void begin_delivery() noexcept { holds_.store(1, std::memory_order_relaxed); }
    /// One more output a destination will confirm later. Sinks call it on the batch they
    /// write (hence const: only the delivery count changes).
    void hold() const noexcept { holds_.fetch_add(1, std::memory_order_relaxed); }
    /// That output is safe (`delivered`), or was given up when stopping (then the batch's
    /// inputs are not acknowledged: a kept session has the broker send them again).
    void release(bool delivered) const noexcept {
        if (!delivered) {
            abandoned_.store(true, std::memory_order_relaxed);
        }
        if (holds_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            listener_->delivered(*const_cast<Batch*>(this));
        }
    }
    /// Whether an output was given up.
    bool abandoned() const noexcept { return abandoned_.load(std::memory_order_relaxed); }
    /// Keeps an input's acknowledgement until the batch is delivered (the message itself goes
    /// back to its pool at once). At most capacity() of them; does not allocate.
    void keep_ack(std::uint32_t source, std::uint64_t token) noexcept {
        EDGEFLOW_ASSERT(acks_.size() < capacity_);
        acks_.push_back({source, token});
    }
    std::span<const PendingAck> acks() const noexcept { return acks_; }
    /// Set by a stage whose state is durable (lkv with persist) when, after this batch, it
    /// holds changes not yet in a snapshot: the inputs of this batch, and of those before it,
    /// are safe only once a later batch has written them. Any shard's thread.
    void mark_state_unsaved() noexcept { state_unsaved_.store(true, std::memory_order_relaxed); }
    bool state_unsaved() const noexcept { return state_unsaved_.load(std::memory_order_relaxed); }
    /// The batches whose acknowledgements wait for the same snapshot (engine's; null: none).
    DeliveryGroup* group = nullptr;

private:
    struct Outbox {
        std::vector<std::unique_ptr<Message>> messages;
        std::size_t used = 0;
    };
    std::vector<Message*> messages_;  // [0, capacity_) sources', then room for emitted ones
    std::size_t capacity_;
    std::size_t size_ = 0;
    std::size_t destinations_ = 0;
    std::size_t emit_per_shard_ = 0;
    std::vector<Outbox> outboxes_;
    std::vector<PendingAck> acks_;
    DeliveryListener* listener_ = nullptr;
    mutable std::atomic<std::uint32_t> holds_{0};
    mutable std::atomic<bool> abandoned_{false};
    std::atomic<bool> state_unsaved_{false};
};

inline void Batch::merge_emitted() noexcept {
    std::size_t total = size_;
    for (const auto& outbox : outboxes_) {
        total += outbox.used;
    }
    if (total == size_) {
        return;
    }
    if (messages_.size() < total) {
        // Grows to the most ever emitted into this batch, then stays: warm batches do not
        // allocate. An allocation failure here is as fatal as anywhere else (noexcept).
        messages_.resize(total);
    }
    const std::size_t first = size_;
    for (auto& outbox : outboxes_) {
        for (std::size_t i = 0; i < outbox.used; ++i) {
            messages_[size_++] = outbox.messages[i].get();
        }
    }
    // (trigger, rank, key, emit_sequence) is unique, so the order is total and std::sort,
    // which allocates nothing, gives the same result as a stable sort would.
    std::sort(messages_.begin() + static_cast<std::ptrdiff_t>(first),
              messages_.begin() + static_cast<std::ptrdiff_t>(size_),
              [](const Message* a, const Message* b) noexcept {
                  if (a->trigger != b->trigger) {
                      return a->trigger < b->trigger;
                  }
                  if (a->emit_rank != b->emit_rank) {
                      return a->emit_rank < b->emit_rank;
                  }
                  if (const int c = a->key.compare(b->key); c != 0) {
                      return c < 0;
                  }
                  return a->emit_sequence < b->emit_sequence;
              });
}

}  // namespace edgeflow
