// Stateful stages: the LKV store and each heuristic rule kind, per message, on batches of 64
// parsed small telemetry messages whose keys cycle over a set of devices.
//
// BM_lkv_update/<keys>   lkv with 3 tracked fields: key lookup, 3 path lookups, 3 stores
// BM_lkv_fill/<keys>     the same with one field missing from every message: filled in place
//                        (the message is rebuilt)
// BM_lkv_read/<keys>     LkvStore::read of one field of a random key (what `$lkv(k).f` costs)
// BM_rule/<kind>         a heuristics stage with one rule of that kind, 1,000 keys
// BM_stateful_workload   the harness alone (setting each message's key, hash and times):
//                        subtract it from the figures below
// BM_stateful_path       partition → order → lkv → heuristics (threshold and window), the
//                        whole stateful section as the graph runs it, one shard
//
// ns/item is per message. Event times advance by one second per message and key, so windows
// close and rates are computed as in a steady stream; no rule is in alarm.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>

#include "bench/bench_support.h"
#include "core/config/yaml_loader.h"
#include "core/graph/flow_graph.h"
#include "stages/heuristics/heuristics_stage.h"
#include "stages/keyed/order_stage.h"
#include "stages/keyed/partition_stage.h"
#include "stages/lkv/lkv_stage.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t batch_size = 64;

ConfigNode yaml(const std::string& text) {
    ConfigErrors errors("bench");
    auto node = load_yaml_text(text, errors);
    if (!node || !errors.empty()) {
        std::fprintf(stderr, "%s\n", errors.to_string().c_str());
        std::abort();
    }
    return *node;
}

// A batch of parsed messages keyed over `keys` devices; `drop` removes one field first.
struct Workload {
    std::vector<std::unique_ptr<Message>> messages;
    Batch batch{batch_size, 2, 1, 4 * batch_size};
    std::size_t keys;
    std::uint64_t round = 0;

    Workload(std::size_t key_count, const std::string& drop = {}) : keys(key_count) {
        std::string doc = small_document();
        if (!drop.empty()) {
            const auto at = doc.find("\"" + drop + "\"");
            const auto end = doc.find(',', at);
            doc.erase(at, end - at + 1);
        }
        for (std::size_t i = 0; i < batch_size; ++i) {
            auto m = std::make_unique<Message>();
            parse_message(*m, doc);
            messages.push_back(std::move(m));
        }
    }
    // The next batch: the next 64 keys of the cycle, one second later for each key.
    Batch& next() {
        batch.clear();
        for (std::size_t i = 0; i < batch_size; ++i) {
            Message& m = *messages[i];
            const std::uint64_t n = round * batch_size + i;
            // Keyed by topic, as the partition stage does without a partition_key.
            m.topic.assign("plant/device-");
            m.topic.append(std::to_string(n % keys));
            m.key.assign(m.topic);
            m.key_hash = key_hash(m.key);
            m.event_time_ms = 1'700'000'000'000 + static_cast<std::int64_t>(n / keys) * 1000;
            m.clock_ms = m.event_time_ms;
            m.dropped = false;
            batch.push(&m);
        }
        batch.clock_ms = messages.back()->clock_ms;
        ++round;
        return batch;
    }
};

void run_section(benchmark::State& state, const std::vector<AnyStage*>& section, Workload& work) {
    for (std::size_t warm = 0; warm < 2 * work.keys / batch_size + 2; ++warm) {
        run_sharded_section(section, work.next(), 0, 1);
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        Batch& batch = work.next();
        run_sharded_section(section, batch, 0, 1);
        benchmark::DoNotOptimize(batch.size());
    }
    set_rates(state, batch_size, 0);
    allocations.report(state, batch_size);
}

// The harness alone: preparing a batch (keys, hashes, times). Subtract it from the others.
void BM_stateful_workload(benchmark::State& state) {
    Workload work(1000);
    for (auto _ : state) {
        Batch& batch = work.next();
        benchmark::DoNotOptimize(batch.size());
    }
    set_rates(state, batch_size, 0);
}
BENCHMARK(BM_stateful_workload);

std::shared_ptr<LkvStore> make_store(std::size_t keys) {
    ConfigErrors errors("bench");
    auto config = LkvConfig::parse(
        yaml("{kind: lkv, fields: [temperature, humidity, pressure], fill_missing: true, "
             "max_keys: " +
             std::to_string(keys) + "}"),
        errors);
    return std::make_shared<LkvStore>(std::move(config), 1);
}

void BM_lkv_update(benchmark::State& state) {
    const auto keys = static_cast<std::size_t>(state.range(0));
    auto stage = make_stage(LkvStage(make_store(keys)));
    Workload work(keys);
    run_section(state, {stage.get()}, work);
}
BENCHMARK(BM_lkv_update)->Arg(1000)->Arg(100000);

void BM_lkv_fill(benchmark::State& state) {
    const auto keys = static_cast<std::size_t>(state.range(0));
    auto stage = make_stage(LkvStage(make_store(keys)));
    // Warm every key with the full document, then measure messages that lack humidity.
    Workload full(keys);
    for (std::size_t i = 0; i < keys / batch_size + 1; ++i) {
        run_sharded_section({stage.get()}, full.next(), 0, 1);
    }
    Workload work(keys, "humidity");
    work.round = full.round;
    run_section(state, {stage.get()}, work);
}
BENCHMARK(BM_lkv_fill)->Arg(1000)->Arg(100000);

void BM_lkv_read(benchmark::State& state) {
    const auto keys = static_cast<std::size_t>(state.range(0));
    auto store = make_store(keys);
    auto stage = make_stage(LkvStage(store));
    Workload work(keys);
    for (std::size_t i = 0; i < keys / batch_size + 1; ++i) {
        run_sharded_section({stage.get()}, work.next(), 0, 1);
    }
    std::vector<std::string> names;
    std::mt19937 random(7);
    for (std::size_t i = 0; i < 4096; ++i) {
        names.push_back("plant/device-" + std::to_string(random() % keys));
    }
    const auto field = store->field("temperature").value();
    std::size_t i = 0;
    const AllocationProbe allocations;
    for (auto _ : state) {
        const auto v = store->read(names[i++ & 4095], field, 1'700'000'000'000);
        benchmark::DoNotOptimize(v);
    }
    set_rates(state, 1, 0);
    allocations.report(state, 1);
}
BENCHMARK(BM_lkv_read)->Arg(1000)->Arg(100000);

std::unique_ptr<AnyStage> heuristics(const std::string& rule) {
    ConfigErrors errors("bench");
    PipelineConfig pipeline;  // destinations: output (0), events (1)
    for (const char* name : {"output", "events"}) {
        EndpointConfig d;
        d.name = name;
        pipeline.destinations.push_back(d);
    }
    BuildContext ctx{pipeline, errors};
    ctx.emitted_only.assign(pipeline.destinations.size(), false);
    auto built = HeuristicsStage::build(
        yaml("{kind: heuristics, events: events, rules: [" + rule + "]}"), ctx);
    if (!built) {
        std::fprintf(stderr, "%s\n", errors.to_string().c_str());
        std::abort();
    }
    return make_stage(std::move(*built));
}

void BM_rule(benchmark::State& state, const std::string& rule) {
    auto stage = heuristics(rule);
    Workload work(1000);
    run_section(state, {stage.get()}, work);
}
BENCHMARK_CAPTURE(BM_rule, threshold,
                  "{id: r, kind: threshold, input: temperature, high: 80, low: 70, for_count: 3}");
BENCHMARK_CAPTURE(BM_rule, rate_of_change,
                  "{id: r, kind: rate_of_change, input: temperature, limit: 5}");
BENCHMARK_CAPTURE(BM_rule, deadband,
                  "{id: r, kind: deadband, input: temperature, band: 0.5, mode: flag}");
BENCHMARK_CAPTURE(BM_rule, stale, "{id: r, kind: stale, after: 1h}");
BENCHMARK_CAPTURE(BM_rule, window,
                  "{id: r, kind: window, input: temperature, window: {type: tumbling, size: "
                  "1h}, aggregates: [avg, max]}");
BENCHMARK_CAPTURE(BM_rule, correlate,
                  "{id: r, kind: correlate, within: 10s, sources: [{name: a, topic: 'plant/+', "
                  "key: deviceId, condition: {inputs: [temperature], expression: '$1 > 100'}}, "
                  "{name: b, topic: 'other/#', key: deviceId}]}");
BENCHMARK_CAPTURE(BM_rule, anomaly,
                  "{id: r, kind: anomaly, input: temperature, k: 4, min_samples: 10}");

void BM_stateful_path(benchmark::State& state) {
    ConfigErrors errors("bench");
    EventTimeConfig time;
    time.clock = ClockMode::wall;
    auto partition = make_stage(PartitionStage(nullptr, nullptr, time.format));
    auto order = make_stage(OrderStage(time, 1));
    auto lkv = make_stage(LkvStage(make_store(1000)));
    auto rules = heuristics(
        "{id: hot, kind: threshold, input: temperature, high: 80, low: 70, for_count: 3}, "
        "{id: avg, kind: window, input: temperature, window: {type: tumbling, size: 10s}}");
    Workload work(1000);
    StageContext ctx{0, partition->counters};
    const std::vector<AnyStage*> section{order.get(), lkv.get(), rules.get()};
    for (int warm = 0; warm < 40; ++warm) {
        Batch& batch = work.next();
        partition->process(batch, ctx);
        run_sharded_section(section, batch, 0, 1);
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        Batch& batch = work.next();
        partition->process(batch, ctx);
        run_sharded_section(section, batch, 0, 1);
        benchmark::DoNotOptimize(batch.size());
    }
    set_rates(state, batch_size, 0);
    allocations.report(state, batch_size);
}
BENCHMARK(BM_stateful_path);

}  // namespace
}  // namespace edgeflow::bench
