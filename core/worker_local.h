// WorkerLocal<T>: one T per worker slot, for a stateless stage's per-worker scratch (a reused
// parser, an evaluation stack) reached through StageContext::worker.
//
// The graph decides how many slots there are, not the stage: AnyStage::prepare(slots) is called
// by FlowGraph and the Engine before any batch runs, and grows every WorkerLocal of the stage to
// that many. A new WorkerLocal has one slot, so a stage used directly (a test calling
// process() with worker 0) works without a graph. Each T sits on its own cache lines so two
// workers never share one. Allocates only in its constructor and in grow(); never shrinks, so a
// slot's state (counters the summary reads) survives a second prepare().
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace edgeflow {

template <typename T>
class WorkerLocal {
public:
    /// Each slot's T is default-constructed in place, then given to `init` (when set): scratch
    /// such as a parser need not be movable. `init` is kept for the slots grow() adds.
    explicit WorkerLocal(std::function<void(T&)> init = {}) : init_(std::move(init)) { grow(1); }

    /// Makes at least `slots` slots. Not while a worker may be using one.
    void grow(std::size_t slots) {
        while (slots_.size() < slots) {
            auto slot = std::make_unique<Slot>();
            if (init_) {
                init_(slot->value);
            }
            slots_.push_back(std::move(slot));
        }
    }

    T& operator[](std::size_t worker) noexcept { return slots_[worker]->value; }
    const T& operator[](std::size_t worker) const noexcept { return slots_[worker]->value; }
    std::size_t size() const noexcept { return slots_.size(); }

    /// Every slot's T, for summaries read after the graph stopped.
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& slot : slots_) {
            fn(slot->value);
        }
    }

private:
    struct alignas(64) Slot {
        T value;
    };
    std::function<void(T&)> init_;
    std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace edgeflow
