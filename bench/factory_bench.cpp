// The reference pipeline of examples/factory/ on the reference workload, against its limits,
// in one run. The engine's stages come from the pipeline file (parse_pipeline, build_stages:
// whatever stages the file lists), so the rows follow the file as it grows.
//
// BM_factory_graph/batch:B/workers:W
//                                the pipeline's stages in a FlowGraph inside a task_arena of W
//                                threads, over batches of B pre-rendered factory messages
//                                (refilled in the timed loop, as a source would); workers:1 is
//                                the engine's per-core cost. Events the stateful stages emit
//                                travel in the batches, as in the engine.
// BM_factory_fused/{stateless,full}
//                                the hand-fused single-thread loop (perf/harness/fused.h):
//                                `stateless` does what the pipeline does today, `full` the
//                                whole reference work (LKV, threshold, window, correlation).
// BM_factory_simdjson            simdjson On-Demand visiting every field: the floor.
//
// Ratios to read: BM_factory_graph/batch:64/workers:1 ÷ BM_factory_fused/full (per message) is
// the engine's distance from hand-written code doing the same work on one core.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <memory>
#include <vector>

#include "bench/bench_support.h"
#include "core/config/yaml_loader.h"
#include "core/graph/flow_graph.h"
#include "io/envelope.h"
#include "perf/harness/fused.h"
#include "perf/harness/workload.h"
#include "stages/registry.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t messages_per_iteration = 4096;
constexpr const char* pipeline_path = EDGEFLOW_SOURCE_DIR "/examples/factory/pipeline.yaml";

using StageList = std::vector<std::unique_ptr<AnyStage>>;

struct Factory {
    PipelineConfig config;
    StageList stages;
};

// The factory pipeline's stages for `workers` worker slots; empty after SkipWithError.
Factory load_factory(benchmark::State& state, std::size_t workers, std::size_t batch_size) {
    Factory f;
    ConfigErrors errors(pipeline_path);
    auto documents = load_yaml_documents_file(pipeline_path, errors);
    if (documents) {
        f.config = parse_pipeline(documents->front(), errors);
        f.config.runtime.workers = workers;
        f.config.runtime.batch_size = batch_size;
        f.stages = build_stages(f.config, std::make_shared<DeadLetterCounts>(), errors).stages;
    }
    if (!errors.empty()) {
        state.SkipWithError(errors.to_string().c_str());
        f.stages.clear();
    }
    return f;
}

// Rendered factory messages, and pooled messages refilled from them in the timed loop.
struct Messages {
    Messages(const PipelineConfig& config, std::size_t batch_size) : pool(messages_per_iteration) {
        const std::size_t destinations = config.destinations.size();
        const perf::FactoryWorkload workload;
        std::string topic, payload;
        for (std::size_t i = 0; i < messages_per_iteration; ++i) {
            workload.render(i, 1'700'000'000'000'000'000ULL + i, topic, payload);
            topics.push_back(topic);
            payloads.push_back(payload);
        }
        for (auto& message : pool) {
            message.destination_topics.resize(destinations);
            message.payload.reserve(512 + simdjson::SIMDJSON_PADDING);
            message.output.reserve(512);
        }
        for (std::size_t first = 0; first < pool.size(); first += batch_size) {
            // As the engine makes them: room for what the stateful stages emit per shard.
            batches.push_back(std::make_unique<Batch>(batch_size, destinations,
                                                      config.effective_shards(),
                                                      config.runtime.max_emitted_per_batch));
            firsts.push_back(first);
        }
    }
    // Empties the batch (emitted messages go back to its outboxes) and refills it.
    void refill(Batch& batch, std::size_t first) {
        batch.clear();
        const std::size_t end = std::min(first + batch.capacity(), pool.size());
        for (std::size_t i = first; i < end; ++i) {
            Message* message = &pool[i];
            message->reset();
            message->topic.assign(topics[i]);
            assign_padded(message->payload, payloads[i]);
            batch.push(message);
        }
    }
    std::vector<std::size_t> firsts;
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
    std::vector<Message> pool;
    std::vector<std::unique_ptr<Batch>> batches;
};

void set_message_rates(benchmark::State& state, std::size_t per_iteration) {
    set_rates(state, per_iteration, 0);
    state.counters["per_msg"] = benchmark::Counter(
        static_cast<double>(per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Every message entered the first stage and no stage rejected one. (Later stages see the
// emitted events too, so their `in` is larger.)
bool check_counters(benchmark::State& state, const StageList& stages, std::uint64_t messages) {
    for (const auto& stage : stages) {
        const bool first = &stage == &stages.front();
        if ((first && load(stage->counters.in) != messages) || load(stage->counters.errors) != 0) {
            state.SkipWithError(("stage " + std::string(stage->kind()) + ": in " +
                                 std::to_string(load(stage->counters.in)) + " of " +
                                 std::to_string(messages) + ", errors " +
                                 std::to_string(load(stage->counters.errors)))
                                    .c_str());
            return false;
        }
    }
    return true;
}

void BM_factory_graph(benchmark::State& state) {
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    const auto workers = static_cast<std::size_t>(state.range(1));
    const Factory f = load_factory(state, workers, batch_size);
    if (f.stages.empty()) {
        return;
    }
    Messages work(f.config, batch_size);
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, workers);
    tbb::task_arena arena(static_cast<int>(workers), 1);
    std::uint64_t done = 0;
    arena.execute([&] {
        FlowGraph graph(f.stages, workers, f.config.effective_shards(),
                        [&done](Batch* batch) { done += batch->size() - batch->emitted_count(); });
        std::uint64_t sequence = 0;
        const auto run_once = [&] {
            for (std::size_t b = 0; b < work.batches.size(); ++b) {
                Batch* batch = work.batches[b].get();
                work.refill(*batch, work.firsts[b]);
                batch->sequence = sequence++;
                graph.put(batch);
            }
            graph.wait();
        };
        run_once();
        const AllocationProbe allocations;
        for (auto _ : state) {
            run_once();
        }
        allocations.report(state, messages_per_iteration);
    });
    const auto runs = static_cast<std::uint64_t>(state.iterations()) + 1;
    if (done != runs * messages_per_iteration) {
        state.SkipWithError("not every batch reached the exit node");
        return;
    }
    if (check_counters(state, f.stages, runs * messages_per_iteration)) {
        set_message_rates(state, messages_per_iteration);
    }
}
BENCHMARK(BM_factory_graph)
    ->ArgNames({"batch", "workers"})
    ->ArgsProduct({{1, 16, 64, 256}, {1, 2}})
    ->UseRealTime();

// Pre-rendered, padded payloads for the limit loops.
struct Padded {
    Padded() {
        const perf::FactoryWorkload workload;
        std::string topic, payload;
        for (std::size_t i = 0; i < messages_per_iteration; ++i) {
            workload.render(i, 1'700'000'000'000'000'000ULL + i, topic, payload);
            topics.push_back(topic);
            payloads.emplace_back();
            assign_padded(payloads.back(), payload);
        }
    }
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
};

void BM_factory_fused(benchmark::State& state, bool stateless) {
    const perf::FactoryWorkload workload;
    const Padded messages;
    perf::FusedPipeline fused(workload, stateless);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < messages.payloads.size(); ++i) {
        bytes += fused.process(messages.topics[i], messages.payloads[i],
                               messages.payloads[i].capacity());
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        for (std::size_t i = 0; i < messages.payloads.size(); ++i) {
            bytes += fused.process(messages.topics[i], messages.payloads[i],
                                   messages.payloads[i].capacity());
        }
        benchmark::DoNotOptimize(bytes);
    }
    allocations.report(state, messages_per_iteration);
    if (fused.errors() != 0) {
        state.SkipWithError("the fused loop rejected a message");
        return;
    }
    set_message_rates(state, messages_per_iteration);
}
BENCHMARK_CAPTURE(BM_factory_fused, stateless, true);
BENCHMARK_CAPTURE(BM_factory_fused, full, false);

void BM_factory_simdjson(benchmark::State& state) {
    const Padded messages;
    perf::SimdjsonLoop loop;
    std::uint64_t acc = 0;
    for (auto _ : state) {
        for (const auto& p : messages.payloads) {
            acc += loop.visit(p, p.capacity());
        }
        benchmark::DoNotOptimize(acc);
    }
    set_message_rates(state, messages_per_iteration);
}
BENCHMARK(BM_factory_simdjson);

}  // namespace
}  // namespace edgeflow::bench
