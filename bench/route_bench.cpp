// Destination topics: TopicTemplate::render on a parsed small message, and RouteStage over a
// batch.
//
// BM_topic_render/device     `enriched/{topic.2}/{deviceId}` (a topic level and the first field)
// BM_topic_render/topic      `{topic}` (a copy of the input topic: the floor)
// BM_topic_render/last_field `enriched/{topic.2}/{sequence}`: the last field, an integer, so the
//                            gap to /device is the member lookup (linear) plus integer text.
// BM_route_stage             RouteStage::process with the /device template over a batch.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/bench_support.h"
#include "stages/route_stage.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t batch_size = 64;

void BM_topic_render(benchmark::State& state, std::string_view pattern) {
    auto topic = TopicTemplate::parse(pattern);
    if (!topic) {
        state.SkipWithError(topic.error().c_str());
        return;
    }
    Message message;
    if (!parse_message(message, small_document())) {
        state.SkipWithError("the document does not parse");
        return;
    }
    std::string out;
    std::string_view why;
    if (!topic->render(message, out, why)) {
        state.SkipWithError(std::string(why).c_str());
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        bool rendered = topic->render(message, out, why);
        benchmark::DoNotOptimize(rendered);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, 0);
    state.SetLabel(out);
}
BENCHMARK_CAPTURE(BM_topic_render, device, "enriched/{topic.2}/{deviceId}");
BENCHMARK_CAPTURE(BM_topic_render, topic, "{topic}");
BENCHMARK_CAPTURE(BM_topic_render, last_field, "enriched/{topic.2}/{sequence}");

void BM_route_stage(benchmark::State& state) {
    auto topic = TopicTemplate::parse("enriched/{topic.2}/{deviceId}");
    if (!topic) {
        state.SkipWithError(topic.error().c_str());
        return;
    }
    std::vector<Message> messages(batch_size);
    Batch batch(batch_size);
    for (auto& message : messages) {
        if (!parse_message(message, small_document())) {
            state.SkipWithError("the document does not parse");
            return;
        }
        batch.push(&message);
    }
    std::vector<RouteTarget> targets;
    targets.push_back({0, std::move(topic).value()});
    RouteStage stage(std::move(targets), std::nullopt);
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    if (load(counters.errors) != 0) {
        state.SkipWithError("a message was rejected");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        stage.process(batch, ctx);
        benchmark::ClobberMemory();
    }
    allocations.report(state, batch_size);
    set_rates(state, batch_size, 0);
}
BENCHMARK(BM_route_stage);

}  // namespace
}  // namespace edgeflow::bench
