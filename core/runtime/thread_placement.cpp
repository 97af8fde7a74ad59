#include "core/runtime/thread_placement.h"

#include <pthread.h>
#include <sched.h>

namespace edgeflow {
namespace {

std::atomic<std::uint64_t> next_generation{1};
// What the calling worker thread was last set up as, so re-entering costs nothing.
thread_local std::uint64_t placed_generation = 0;
thread_local int placed_slot = -1;

}  // namespace

bool bind_current_thread(const CpuList& cpus) noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (const int cpu : cpus) {
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
            CPU_SET(cpu, &set);
        }
    }
    return sched_setaffinity(0, sizeof(set), &set) == 0;
}

void name_current_thread(const std::string& name) noexcept {
    char text[16] = {};
    name.copy(text, sizeof text - 1);
    pthread_setname_np(pthread_self(), text);
}

WorkerPlacement::WorkerPlacement(tbb::task_arena& arena, CpuLayout layout)
    : tbb::task_scheduler_observer(arena),
      layout_(std::move(layout)),
      generation_(next_generation.fetch_add(1)) {}

WorkerPlacement::~WorkerPlacement() {
    observe(false);
}

void WorkerPlacement::on_scheduler_entry(bool is_worker) {
    if (!is_worker) {
        return;
    }
    const int slot = tbb::this_task_arena::current_thread_index();
    if (slot < 1 || (placed_generation == generation_ && placed_slot == slot)) {
        return;
    }
    placed_generation = generation_;
    placed_slot = slot;
    const auto worker = static_cast<std::size_t>(slot - 1);
    name_current_thread("ef-worker-" + std::to_string(worker));
    // Unpinned workers are still bound to the workers' CPU set: a thread that served a pinned
    // arena before must not keep that CPU.
    if (!bind_current_thread(layout_.cpus_of_worker(worker))) {
        failures_.fetch_add(1, std::memory_order_relaxed);
    }
    placements_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace edgeflow
