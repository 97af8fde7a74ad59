// MessagePool: every Message the engine will ever use, allocated at start and recycled.
//
// Sources take messages (any thread); the egress thread returns them after the sinks are done,
// and a source may give back one it took. The pool is sized so that it cannot run dry while
// the ingest queue has room (see Engine), so take() failing means a bug, not load. Recycling
// keeps each message's buffers, which is what makes the warm data path allocation-free.
//
// Free messages form a stack: take() returns the one put back last. Its buffers are the most
// likely to still be in cache and already grown to size; a queue would hand out the message
// unused the longest, so every message of a pool of thousands would be cold and, on its first
// use, would still have to grow its buffers. At a trickle a stack reuses the same few messages.
//
// The stack is lock-free (a Treiber stack of message indices): the head packs the top index
// with a counter bumped by every push and pop, so a compare-exchange cannot succeed on a head
// that was popped and pushed back in between (ABA). Messages are never freed while the pool
// lives, so reading a popped message's link is always safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/message.h"

namespace edgeflow {

class MessagePool {
public:
    MessagePool(std::size_t size, std::size_t destinations);

    /// A clean message, or nullptr when none is free. Any thread.
    Message* take() noexcept;
    /// Resets `message` (one of this pool's) and makes it available again. Any thread.
    void put(Message* message) noexcept;

    std::size_t size() const noexcept { return storage_.size(); }

private:
    static constexpr std::uint64_t index_mask = 0xFFFF'FFFF;

    std::vector<Message> storage_;
    /// next_[i]: 1 + the index of the message below message i on the stack, 0 at the bottom.
    std::unique_ptr<std::atomic<std::uint32_t>[]> next_;
    /// (counter << 32) | (1 + index of the top message); index part 0 when empty.
    std::atomic<std::uint64_t> head_{0};
};

}  // namespace edgeflow
