// Worker placement, checked the way an operator would: every thread the engine names
// ef-worker-N shows the configured CPUs in /proc/self/task/*/status. And a CPU this process may
// not use fails start-up with a message naming it.
//
// Needs CPU 1 in this process's affinity (the machines it runs on have CPUs 0 and 1); skipped
// otherwise. Every wait has a deadline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "core/config/yaml_loader.h"
#include "core/runtime/cpu_layout.h"
#include "core/runtime/engine.h"
#include "io/registry.h"
#include "stages/registry.h"
#include "tests/support/scheduler_environment.h"

namespace edgeflow {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;

/// Name → Cpus_allowed_list of every thread of this process.
std::multimap<std::string, std::string> thread_cpus() {
    std::multimap<std::string, std::string> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        std::ifstream status(task.path() / "status");
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("Cpus_allowed_list:")) {
                const auto value = line.find_first_not_of(" \t", line.find(':') + 1);
                out.emplace(name, line.substr(value));
            }
        }
    }
    return out;
}

struct Pipeline {
    std::string dir;
    PipelineConfig config;
    std::unique_ptr<Engine> engine;
};

/// An engine over a file source of 100 messages (looping at 20000/s unless `once`) and a null
/// destination, with `runtime` as its block.
Status build(Pipeline& p, const std::string& runtime, bool once = false) {
    p.dir = (std::filesystem::temp_directory_path() /
             ("edgeflow-pinning-" + std::to_string(::getpid())))
                .string();
    std::filesystem::create_directories(p.dir);
    {
        std::ofstream in(p.dir + "/in.jsonl");
        for (int i = 0; i < 100; ++i) {
            in << R"({"topic":"t/)" << i << R"(","payload":{"v":)" << i << "}}\n";
        }
    }
    const std::string file = p.dir + "/pipeline.yaml";
    ConfigErrors errors(file);
    auto root =
        load_yaml_text("sources:\n  - kind: file\n    path: " + p.dir +
                           (once ? "/in.jsonl\n" : "/in.jsonl\n    loop: true\n    rate: 20000\n") +
                           "destinations:\n  - kind: null\n" + "runtime:\n" + runtime,
                       errors);
    if (!root) {
        return Status::error(errors.to_string());
    }
    p.config = parse_pipeline(*root, errors);
    auto dead = std::make_shared<DeadLetterCounts>();
    auto stages = build_stages(p.config, dead, errors).stages;
    auto sources = build_sources(p.config, errors);
    auto sinks = build_sinks(p.config, errors);
    if (!errors.empty()) {
        return Status::error(errors.to_string());
    }
    p.engine = std::make_unique<Engine>(p.config, std::move(stages), std::move(sources),
                                        std::move(sinks), dead);
    return p.engine->start();
}

bool cpu_allowed(int cpu) {
    const CpuList allowed = allowed_cpus();
    return std::find(allowed.begin(), allowed.end(), cpu) != allowed.end();
}

TEST(Pinning, EveryWorkerThreadRunsOnTheConfiguredCpu) {
    if (!cpu_allowed(1)) {
        GTEST_SKIP() << "CPU 1 is not among this process's CPUs";
    }
    Pipeline p;
    ASSERT_TRUE(build(p, "  workers: 2\n  cpus: [1]\n  pin: true\n")) << "start failed";
    // Wait until messages flow and the workers have entered the arena.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::multimap<std::string, std::string> threads;
    std::size_t workers = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        threads = thread_cpus();
        workers = 0;
        for (const auto& [name, cpus] : threads) {
            workers += name.starts_with("ef-worker-") ? 1 : 0;
        }
        if (workers == 2 && load(p.engine->stages().front()->counters.in) > 1000) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_GE(workers, 1u) << "no worker thread entered the arena";
    for (const auto& [name, cpus] : threads) {
        if (name.starts_with("ef-worker-")) {
            EXPECT_EQ(cpus, "1") << name;
        }
    }
    // The I/O threads get what the workers do not use.
    for (const char* io : {"ef-dispatch", "ef-egress", "ef-file-0"}) {
        const auto at = threads.find(io);
        ASSERT_NE(at, threads.end()) << io;
        EXPECT_EQ(at->second, "0") << io;
    }
    EXPECT_TRUE(p.engine->layout().pinned);
    ASSERT_TRUE(p.engine->stop());
    std::filesystem::remove_all(p.dir);
}

TEST(Pinning, UnpinnedWorkersFloatOverTheirCpus) {
    if (!cpu_allowed(0) || !cpu_allowed(1)) {
        GTEST_SKIP() << "CPUs 0 and 1 are not both among this process's CPUs";
    }
    Pipeline p;
    ASSERT_TRUE(build(p, "  workers: 2\n  cpus: 0-1\n  pin: false\n")) << "start failed";
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           load(p.engine->stages().front()->counters.in) < 1000) {
        std::this_thread::sleep_for(10ms);
    }
    // Each worker is bound to the workers' whole set (a thread that served a pinned arena
    // before is bound again as it enters).
    for (const auto& [name, cpus] : thread_cpus()) {
        if (name.starts_with("ef-worker-")) {
            EXPECT_EQ(cpus, "0-1") << name;
        }
    }
    ASSERT_TRUE(p.engine->stop());
    std::filesystem::remove_all(p.dir);
}

// Spinning and yielding threads still deliver every message and stop.
TEST(Idle, EveryStrategyDeliversEverything) {
    for (const char* idle : {"spin", "yield", "block"}) {
        Pipeline p;
        ASSERT_TRUE(build(p, std::string("  idle: ") + idle + "\n  spin_us: 200\n", true)) << idle;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!p.engine->sources_exhausted() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        ASSERT_TRUE(p.engine->sources_exhausted()) << idle;
        ASSERT_TRUE(p.engine->stop()) << idle;
        EXPECT_EQ(load(p.engine->sinks().front()->counters.written), 100u) << idle;
        EXPECT_EQ(p.engine->end_to_end_latency().count, 100u) << idle;
        std::filesystem::remove_all(p.dir);
    }
}

TEST(Pinning, CpuOutsideTheAllowedSetFailsStartUp) {
    const CpuList allowed = allowed_cpus();
    int outside = 0;
    while (std::find(allowed.begin(), allowed.end(), outside) != allowed.end()) {
        ++outside;
    }
    Pipeline p;
    const Status status = build(p, "  cpus: [" + std::to_string(outside) + "]\n");
    ASSERT_FALSE(status);
    EXPECT_EQ(status.message(), "runtime.cpus: CPU " + std::to_string(outside) +
                                    " is not among the CPUs this process may run on (" +
                                    format_cpu_list(allowed) + ")");
    std::filesystem::remove_all(p.dir);
}

}  // namespace
}  // namespace edgeflow
