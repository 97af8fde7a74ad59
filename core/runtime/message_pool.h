// MessagePool: every Message the engine will ever use, allocated at start and recycled.
//
// Sources take messages (any thread); the egress thread returns them after the sinks are done.
// The pool is sized so that it cannot run dry while the ingest queue has room (see Engine), so
// take() failing means a bug, not load. Recycling keeps each message's buffers, which is what
// makes the warm data path allocation-free.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <memory>
#include <vector>

#include "core/message.h"

namespace edgeflow {

class MessagePool {
public:
    MessagePool(std::size_t size, std::size_t destinations);

    /// A clean message, or nullptr when none is free.
    Message* take() noexcept;
    /// Resets `message` and makes it available again. Call from the egress thread only.
    void put(Message* message) noexcept;
    /// Same as put, from any thread (slower path, used when a source gives a message back).
    void put_from_any_thread(Message* message) noexcept;

    std::size_t size() const noexcept { return storage_.size(); }

private:
    std::vector<std::unique_ptr<Message>> storage_;
    moodycamel::ConcurrentQueue<Message*> free_;
    moodycamel::ProducerToken egress_token_;
};

}  // namespace edgeflow
