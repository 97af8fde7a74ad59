#include "core/runtime/cpu_layout.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace edgeflow {
namespace {

bool read_long(const std::string& path, long& out) {
    std::ifstream in(path);
    return static_cast<bool>(in >> out);
}

bool parse_int(std::string_view text, int& out) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out >= 0 && out < CPU_SETSIZE;
}

// Orders CPUs for `auto`: apart = one CPU of each core first, then the second siblings, so
// consecutive workers land on different cores; together = the siblings of one core next to
// each other, so consecutive workers share a core's caches.
CpuList order_cpus(const CpuList& cpus, SiblingPolicy siblings, const CpuTopology& topology) {
    std::map<long, CpuList> by_core;
    std::vector<long> core_order;
    for (const int cpu : cpus) {
        const long core = topology.core(cpu);
        if (by_core.find(core) == by_core.end()) {
            core_order.push_back(core);
        }
        by_core[core].push_back(cpu);
    }
    CpuList out;
    if (siblings == SiblingPolicy::together) {
        for (const long core : core_order) {
            out.insert(out.end(), by_core[core].begin(), by_core[core].end());
        }
        return out;
    }
    for (std::size_t round = 0; out.size() < cpus.size(); ++round) {
        for (const long core : core_order) {
            if (round < by_core[core].size()) {
                out.push_back(by_core[core][round]);
            }
        }
    }
    return out;
}

Status check_allowed(std::string_view key, const CpuList& cpus, const CpuList& allowed) {
    CpuList outside;
    for (const int cpu : cpus) {
        if (!std::binary_search(allowed.begin(), allowed.end(), cpu)) {
            outside.push_back(cpu);
        }
    }
    if (outside.empty()) {
        return Status::ok();
    }
    return Status::error(std::string(key) + ": CPU " + format_cpu_list(outside) +
                         (outside.size() > 1 ? " are" : " is") +
                         " not among the CPUs this process may run on (" +
                         format_cpu_list(allowed) + ")");
}

CpuList minus(const CpuList& a, const CpuList& b) {
    CpuList out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

}  // namespace

std::optional<CpuList> parse_cpu_list(std::string_view text) {
    std::set<int> cpus;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        const auto dash = item.find('-');
        int first = 0;
        int last = 0;
        if (dash == std::string_view::npos) {
            if (!parse_int(item, first)) {
                return std::nullopt;
            }
            last = first;
        } else if (!parse_int(item.substr(0, dash), first) ||
                   !parse_int(item.substr(dash + 1), last) || last < first) {
            return std::nullopt;
        }
        for (int cpu = first; cpu <= last; ++cpu) {
            cpus.insert(cpu);
        }
        if (comma != std::string_view::npos && text.empty()) {
            return std::nullopt;  // a trailing comma
        }
    }
    if (cpus.empty()) {
        return std::nullopt;
    }
    return CpuList(cpus.begin(), cpus.end());
}

std::string format_cpu_list(const CpuList& cpus) {
    std::string out;
    for (std::size_t i = 0; i < cpus.size();) {
        std::size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) {
            ++j;
        }
        out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
        if (j > i) {
            out += "-" + std::to_string(cpus[j]);
        }
        i = j + 1;
    }
    return out;
}

CpuList allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    CpuList out;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) {
                out.push_back(cpu);
            }
        }
    }
    if (out.empty()) {
        out.push_back(0);
    }
    return out;
}

CpuTopology CpuTopology::read() {
    CpuTopology topology;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
        if (!std::filesystem::exists(dir)) {
            break;
        }
        long core = 0;
        long package = 0;
        if (!read_long(dir + "/topology/core_id", core)) {
            topology.core_of.push_back(-1);
            continue;
        }
        static_cast<void>(read_long(dir + "/topology/physical_package_id", package));
        topology.core_of.push_back(package * 1'000'000 + core);
    }
    return topology;
}

long CpuTopology::core(int cpu) const noexcept {
    const auto i = static_cast<std::size_t>(cpu);
    if (i < core_of.size() && core_of[i] >= 0) {
        return core_of[i];
    }
    return -1'000'000'000L - cpu;  // unknown: its own core
}

CpuList CpuLayout::cpus_of_worker(std::size_t index) const {
    if (pinned && !worker_cpu.empty()) {
        return {worker_cpu[index % worker_cpu.size()]};
    }
    return worker_cpus;
}

std::string CpuLayout::describe() const {
    std::string out =
        "allowed CPUs " + format_cpu_list(allowed) + "; " + std::to_string(workers) + " worker(s)";
    if (pinned) {
        out += " pinned:";
        for (std::size_t i = 0; i < workers; ++i) {
            out += (i == 0 ? " " : ", ") + std::string("ef-worker-") + std::to_string(i) + " on " +
                   std::to_string(worker_cpu[i]);
        }
    } else {
        out += " on CPUs " + format_cpu_list(worker_cpus);
    }
    out += "; I/O threads on CPUs " + format_cpu_list(io_cpus);
    return out;
}

Result<CpuLayout> plan_cpu_layout(const RuntimeConfig& runtime, const CpuList& allowed,
                                  const CpuTopology& topology) {
    CpuLayout layout;
    layout.allowed = allowed;
    if (!runtime.cpus.automatic) {
        if (auto status = check_allowed("runtime.cpus", runtime.cpus.cpus, allowed); !status) {
            return status;
        }
    }
    if (!runtime.io_cpus.automatic) {
        if (auto status = check_allowed("runtime.io_cpus", runtime.io_cpus.cpus, allowed);
            !status) {
            return status;
        }
    }
    // I/O gets a core of its own only when enough CPUs remain for the workers; on small
    // machines it shares them.
    const CpuList ordered = order_cpus(allowed, SiblingPolicy::together, topology);
    CpuList reserved;
    if (allowed.size() >= 4) {
        const long first_core = topology.core(ordered.front());
        for (const int cpu : ordered) {
            if (topology.core(cpu) == first_core) {
                reserved.push_back(cpu);
            }
        }
        std::sort(reserved.begin(), reserved.end());
    }
    if (!runtime.io_cpus.automatic) {
        layout.io_cpus = runtime.io_cpus.cpus;
    } else if (!runtime.cpus.automatic) {
        // Workers have their CPUs: I/O takes the rest, or shares when there is no rest.
        layout.io_cpus = minus(allowed, runtime.cpus.cpus);
        if (layout.io_cpus.empty()) {
            layout.io_cpus = allowed;
        }
    } else {
        layout.io_cpus = reserved.empty() ? allowed : reserved;
    }
    if (!runtime.cpus.automatic) {
        layout.worker_cpus = runtime.cpus.cpus;
    } else {
        layout.worker_cpus = minus(allowed, layout.io_cpus);
        if (layout.worker_cpus.empty()) {
            layout.worker_cpus = allowed;
        }
    }
    layout.workers = runtime.workers != 0 ? runtime.workers : layout.worker_cpus.size();
    layout.pinned = runtime.pin;
    if (layout.pinned) {
        const CpuList order = order_cpus(layout.worker_cpus, runtime.siblings, topology);
        for (std::size_t i = 0; i < layout.workers; ++i) {
            layout.worker_cpu.push_back(order[i % order.size()]);
        }
    }
    return layout;
}

Result<CpuLayout> plan_cpu_layout(const RuntimeConfig& runtime) {
    return plan_cpu_layout(runtime, allowed_cpus(), CpuTopology::read());
}

}  // namespace edgeflow
