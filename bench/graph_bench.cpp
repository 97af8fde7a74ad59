// The whole flow graph in-process: parse → route → serialize as build_stages() makes them from
// a pipeline with one null destination (`enriched/{topic.2}/{deviceId}`), run by a FlowGraph in
// a tbb::task_arena, over pre-filled batches of the small telemetry document. No queues, no
// sources or sinks: this is the graph's own cost per message.
//
// BM_graph/batch:B/workers:W
//     Each iteration refills 2048 messages (reset, topic, payload: what a source does; this copy
//     is inside the timed loop and costs what BM_graph_refill shows), puts every batch of B into
//     the graph, then waits for all of them at the exit node. W is the number of threads that
//     run graph tasks: the arena has W slots, one of them the benchmark thread, which refills
//     and puts the next batch while the other W - 1 work, and joins in when it waits. All
//     batches of an iteration are in flight at once (the engine bounds this by its batch pool).
// BM_stages_inline/B
//     The same stages called one after another on each batch, on this thread, without TBB: the
//     gap to BM_graph/batch:B/workers:1 is the graph's overhead (task hops, sequencer).
// BM_graph_refill
//     The refill alone, per message.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <memory>
#include <vector>

#include "bench/bench_support.h"
#include "core/graph/flow_graph.h"
#include "io/envelope.h"
#include "stages/registry.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t messages_per_iteration = 2048;

PipelineConfig bench_pipeline(std::size_t workers, std::size_t batch_size) {
    PipelineConfig config;
    config.name = "bench";
    EndpointConfig source;
    source.name = "telemetry";
    source.kind = "file";
    config.sources.push_back(source);
    EndpointConfig destination;
    destination.name = "enriched";
    destination.kind = "null";
    destination.topic = "enriched/{topic.2}/{deviceId}";
    config.destinations.push_back(destination);
    config.runtime.workers = workers;
    config.runtime.batch_size = batch_size;
    return config;
}

// Messages as the pool holds them, and the batches that carry them.
struct Workload {
    explicit Workload(std::size_t batch_size) : messages(messages_per_iteration) {
        for (auto& message : messages) {
            message.destination_topics.resize(1);
            message.topic.reserve(128);
            message.payload.reserve(512 + simdjson::SIMDJSON_PADDING);
            message.output.reserve(512);
        }
        for (std::size_t first = 0; first < messages.size(); first += batch_size) {
            batches.push_back(std::make_unique<Batch>(batch_size));
            for (std::size_t i = first; i < first + batch_size && i < messages.size(); ++i) {
                batches.back()->push(&messages[i]);
            }
        }
    }

    // What a source does to a pooled message; Message::reset keeps the buffers.
    static void refill(const Batch& batch) {
        for (Message* message : batch) {
            message->reset();
            message->topic.assign(input_topic);
            assign_padded(message->payload, small_document());
        }
    }

    std::vector<Message> messages;
    std::vector<std::unique_ptr<Batch>> batches;
};

using StageList = std::vector<std::unique_ptr<AnyStage>>;

// Stages for `workers` worker slots, or an empty list after SkipWithError.
StageList make_stages(benchmark::State& state, std::size_t workers, std::size_t batch_size) {
    ConfigErrors errors("bench");
    auto stages = build_stages(bench_pipeline(workers, batch_size),
                               std::make_shared<DeadLetterCounts>(), errors)
                      .stages;
    if (!errors.empty()) {
        state.SkipWithError(errors.to_string().c_str());
        return {};
    }
    return stages;
}

// Every message went through every stage and none was rejected.
void check_counters(benchmark::State& state, const StageList& stages, std::uint64_t messages) {
    for (const auto& stage : stages) {
        if (load(stage->counters.in) != messages || load(stage->counters.errors) != 0) {
            state.SkipWithError(
                ("stage " + std::string(stage->kind()) + " did not pass every message: in " +
                 std::to_string(load(stage->counters.in)) + " of " + std::to_string(messages) +
                 ", errors " + std::to_string(load(stage->counters.errors)))
                    .c_str());
            return;
        }
    }
}

void set_message_rates(benchmark::State& state) {
    set_rates(state, messages_per_iteration, 0);
    state.counters["per_msg"] = benchmark::Counter(
        static_cast<double>(messages_per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_graph(benchmark::State& state) {
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    const auto workers = static_cast<std::size_t>(state.range(1));
    const StageList stages = make_stages(state, workers, batch_size);
    if (stages.empty()) {
        return;
    }
    Workload work(batch_size);
    // W threads in all: W - 1 oneTBB workers plus this thread in the slot reserved for it. (The
    // engine has W workers and dispatches from a thread outside the arena; here the dispatching
    // thread also works, so that W never exceeds the cores.)
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, workers);
    tbb::task_arena arena(static_cast<int>(workers), 1);
    std::uint64_t done = 0;
    arena.execute([&] {
        FlowGraph graph(stages, workers, 1, [&done](Batch* batch) { done += batch->size(); });
        std::uint64_t sequence = 0;
        const auto run_once = [&] {
            for (const auto& batch : work.batches) {
                Workload::refill(*batch);
                batch->sequence = sequence++;
                graph.put(batch.get());
            }
            graph.wait();
        };
        run_once();  // warm: every buffer reaches its final capacity
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
    check_counters(state, stages, runs * messages_per_iteration);
    set_message_rates(state);
}
BENCHMARK(BM_graph)
    ->ArgNames({"batch", "workers"})
    ->ArgsProduct({{1, 16, 64, 256}, {1, 2}})
    ->UseRealTime()
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

void BM_stages_inline(benchmark::State& state) {
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    const StageList stages = make_stages(state, 1, batch_size);
    if (stages.empty()) {
        return;
    }
    Workload work(batch_size);
    const auto run_once = [&] {
        for (const auto& batch : work.batches) {
            Workload::refill(*batch);
            for (const auto& stage : stages) {
                StageContext ctx{0, stage->counters};
                stage->process(*batch, ctx);
            }
        }
        benchmark::ClobberMemory();
    };
    run_once();
    const AllocationProbe allocations;
    for (auto _ : state) {
        run_once();
    }
    allocations.report(state, messages_per_iteration);
    check_counters(state, stages,
                   (static_cast<std::uint64_t>(state.iterations()) + 1) * messages_per_iteration);
    set_message_rates(state);
}
BENCHMARK(BM_stages_inline)->Arg(1)->Arg(64);

void BM_graph_refill(benchmark::State& state) {
    Workload work(messages_per_iteration);
    const AllocationProbe allocations;
    for (auto _ : state) {
        for (const auto& batch : work.batches) {
            Workload::refill(*batch);
        }
        benchmark::ClobberMemory();
    }
    allocations.report(state, messages_per_iteration);
    set_message_rates(state);
}
BENCHMARK(BM_graph_refill);

}  // namespace
}  // namespace edgeflow::bench
