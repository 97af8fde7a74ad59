// Thread placement: binding threads to CPUs and naming them.
//
// - bind_current_thread / name_current_thread: for threads edgeflow starts itself.
// - run_on_cpus: runs a start-up step on a short-lived thread already bound to a CPU set (and
//   named), so every thread that step creates — MQTT connection threads among them — inherits
//   that affinity (Linux threads inherit the creating thread's mask).
// - WorkerPlacement: a task_scheduler_observer on the engine's task_arena that binds each
//   worker thread to its CPU (or the workers' CPU set) and names it ef-worker-N when it enters
//   the arena. A thread that re-enters the same slot of the same arena costs no system call.
#pragma once

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/runtime/cpu_layout.h"

namespace edgeflow {

/// Binds the calling thread to `cpus`. False when the kernel refuses (a CPU not allowed).
bool bind_current_thread(const CpuList& cpus) noexcept;
/// Names the calling thread (at most 15 characters are kept).
void name_current_thread(const std::string& name) noexcept;

/// Runs `fn` on a new thread named `name` and bound to `cpus`, waits for it and returns what
/// it returned. An exception `fn` throws is rethrown here.
template <typename F>
auto run_on_cpus(const CpuList& cpus, const std::string& name, F&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::exception_ptr failure;
    if constexpr (std::is_void_v<R>) {
        std::thread thread([&] {
            name_current_thread(name);
            bind_current_thread(cpus);
            try {
                fn();
            } catch (...) {
                failure = std::current_exception();
            }
        });
        thread.join();
        if (failure) {
            std::rethrow_exception(failure);
        }
    } else {
        std::optional<R> result;
        std::thread thread([&] {
            name_current_thread(name);
            bind_current_thread(cpus);
            try {
                result.emplace(fn());
            } catch (...) {
                failure = std::current_exception();
            }
        });
        thread.join();
        if (failure) {
            std::rethrow_exception(failure);
        }
        return std::move(*result);
    }
}

class WorkerPlacement final : public tbb::task_scheduler_observer {
public:
    /// Observes `arena`, whose slot 0 is reserved for the controlling thread: worker N is the
    /// thread in slot N + 1. Call observe(true) before the arena runs work.
    WorkerPlacement(tbb::task_arena& arena, CpuLayout layout);
    ~WorkerPlacement() override;

    void on_scheduler_entry(bool is_worker) override;

    /// Worker threads placed so far (entries into a new slot).
    std::uint64_t placements() const noexcept { return placements_.load(); }
    /// Placements the kernel refused.
    std::uint64_t failures() const noexcept { return failures_.load(); }

private:
    CpuLayout layout_;
    std::uint64_t generation_;
    std::atomic<std::uint64_t> placements_{0};
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace edgeflow
