// edgeflow tune: the settings the sweep tries, and how they and their figures are shown.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/edgeflow/commands.h"
#include "apps/edgeflow/pipeline_loader.h"
#include "apps/edgeflow/tune.h"
#include "core/log.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/engine.h"
#include "core/runtime/scheduler_guard.h"
#include "io/file/file_sink.h"
#include "io/file/file_source.h"

namespace edgeflow::app::tune {

/// The sweep, in the order it runs.
std::vector<Setting> plan_sweep(const RuntimeConfig& base, const TuneOptions& options,
                                const CpuList& allowed, const CpuTopology& topology) {
    std::vector<std::uint64_t> worker_counts = options.workers;
    if (worker_counts.empty()) {
        for (std::uint64_t w = 1; w <= allowed.size(); ++w) {
            worker_counts.push_back(w);
        }
    }
    bool siblings = false;
    for (const int a : allowed) {
        for (const int b : allowed) {
            siblings = siblings || (a != b && topology.core(a) == topology.core(b));
        }
    }
    std::vector<Setting> out;
    for (const std::uint64_t workers : worker_counts) {
        // Layouts: everything shared, and — with CPUs to spare — workers on their own CPUs
        // (the last ones, a core's siblings together) and I/O on the rest.
        std::vector<std::pair<std::string, RuntimeConfig>> layouts;
        RuntimeConfig shared = base;
        shared.workers = workers;
        shared.cpus = CpuSpec{};
        shared.io_cpus = CpuSpec{};
        layouts.emplace_back("shared", shared);
        if (workers < allowed.size()) {
            RuntimeConfig split = shared;
            split.cpus.automatic = false;
            split.cpus.cpus.assign(allowed.end() - static_cast<std::ptrdiff_t>(workers),
                                   allowed.end());
            layouts.emplace_back("split", split);
        }
        for (const auto& [layout, config] : layouts) {
            for (const int pin : {0, 1}) {
                std::vector<SiblingPolicy> policies{SiblingPolicy::apart};
                if (pin == 1 && siblings) {
                    policies.push_back(SiblingPolicy::together);
                }
                for (const SiblingPolicy policy : policies) {
                    for (const std::uint64_t batch : options.batch_sizes) {
                        for (const IdleStrategy idle : options.idle) {
                            Setting s{config, layout};
                            s.runtime.pin = pin == 1;
                            s.runtime.siblings = policy;
                            s.runtime.batch_size = batch;
                            s.runtime.idle = idle;
                            out.push_back(std::move(s));
                        }
                    }
                }
            }
        }
    }
    return out;
}

std::string describe(const Setting& s) {
    const auto layout = plan_cpu_layout(s.runtime);
    std::string out = std::to_string(s.runtime.workers) + " worker(s)";
    if (layout) {
        out += " on " + format_cpu_list(layout->worker_cpus) + ", I/O on " +
               format_cpu_list(layout->io_cpus);
    }
    out += s.runtime.pin ? ", pinned" : ", floating";
    if (s.runtime.pin && s.runtime.siblings == SiblingPolicy::together) {
        out += " (siblings together)";
    }
    out += ", batch " + std::to_string(s.runtime.batch_size) + ", idle " +
           std::string(to_string(s.runtime.idle));
    return out;
}

std::string format_ns(double ns) {
    char text[32];
    if (ns < 1e3) {
        std::snprintf(text, sizeof text, "%.0fns", ns);
    } else if (ns < 1e6) {
        std::snprintf(text, sizeof text, "%.1fus", ns / 1e3);
    } else if (ns < 1e9) {
        std::snprintf(text, sizeof text, "%.2fms", ns / 1e6);
    } else {
        std::snprintf(text, sizeof text, "%.2fs", ns / 1e9);
    }
    return text;
}

std::string format_duration(double seconds) {
    const auto total = static_cast<long>(std::ceil(seconds));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    return text;
}

}  // namespace edgeflow::app::tune
