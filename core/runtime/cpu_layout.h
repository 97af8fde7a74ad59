// CpuLayout: where edgeflow's threads run — which CPUs the flow-graph workers use (and, pinned,
// which CPU each worker has), and which CPUs the I/O threads (MQTT connections, the dispatch and
// egress threads, the HTTP endpoint) use.
//
// Planned once at start-up from the runtime block and the CPUs this process may run on
// (sched_getaffinity: a container's cpuset under a static CPU manager shows here). A CPU in
// `cpus` or `io_cpus` outside that set is an error, never silently dropped. `auto` reads the
// core topology from /sys/devices/system/cpu to keep hyperthread siblings of one core together
// or apart. Plain data after planning; everything here runs off the hot path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/status.h"

namespace edgeflow {

using CpuList = std::vector<int>;  ///< CPU numbers, sorted, each once

/// Parses CPU numbers and ranges separated by commas: "0-3,6". Empty optional on bad text.
std::optional<CpuList> parse_cpu_list(std::string_view text);
/// The shortest text for a list: "0-3,6"; "" for an empty list.
std::string format_cpu_list(const CpuList& cpus);

/// The CPUs this process may run on now: the calling thread's affinity mask (the main
/// thread's is the process's, as the container or taskset set it).
CpuList allowed_cpus();

/// Which physical core each CPU belongs to.
struct CpuTopology {
    /// core_of[cpu]: an id shared by hyperthread siblings; -1 when unknown.
    std::vector<long> core_of;
    /// Read from /sys/devices/system/cpu/cpuN/topology (each CPU its own core when unreadable).
    static CpuTopology read();
    long core(int cpu) const noexcept;
};

struct CpuLayout {
    CpuList allowed;
    CpuList worker_cpus;          ///< CPUs the workers may use
    std::vector<int> worker_cpu;  ///< pinned: worker i's CPU; empty when not pinned
    CpuList io_cpus;              ///< CPUs of the I/O threads
    std::size_t workers = 0;
    bool pinned = false;

    /// CPUs for worker `index`: its own one when pinned, else worker_cpus.
    CpuList cpus_of_worker(std::size_t index) const;
    /// One line: "allowed 0-1; 2 workers pinned: ef-worker-0 on 0, ef-worker-1 on 1; io on 0-1".
    std::string describe() const;
};

/// Plans the layout for `runtime` on the CPUs `allowed`. Fails, naming the key and the CPUs,
/// when `cpus` or `io_cpus` lists a CPU outside `allowed`.
Result<CpuLayout> plan_cpu_layout(const RuntimeConfig& runtime, const CpuList& allowed,
                                  const CpuTopology& topology);
/// The same for this process: its allowed CPUs and this machine's topology.
Result<CpuLayout> plan_cpu_layout(const RuntimeConfig& runtime);

}  // namespace edgeflow
