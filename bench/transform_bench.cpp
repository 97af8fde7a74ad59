// Transforms: one compiled rule set applied to a parsed small telemetry message.
//
// BM_transform/copy        one rule copying a field (`temperature` → `t`)
// BM_transform/cToF        one rule with an expression (`cToF($1)`)
// BM_transform/passthrough  `inputs: ['*'], output: '*'` alone: the floor under map10
// BM_transform/map10       pass-through plus nine rules: conversions, a rename, a scale, a
//                          concatenation, a metadata write, a deletion
// BM_transform/filter      one filter rule (`drop_when: $1 > 1000`, the message kept)
// BM_transform/dataset10k  a dataset of 10,000 records matched on deviceId (an index lookup),
//                          plus one rule reading the matched record
// BM_transform/last        a `? $last` fallback per key (the field missing, 1,000 keys)
//
// Each iteration applies the transform and swaps the input Record back, so every iteration
// sees the same input; ns/item is the per-message cost of the rules.
#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "core/config/yaml_loader.h"
#include "lang/transform/transform.h"

namespace edgeflow::bench {
namespace {

using transform::Transform;

std::optional<Transform> compile(const std::string& yaml, transform::DatasetRegistry datasets,
                                 const std::string& partition_key = {}) {
    ConfigErrors errors("bench");
    auto node = load_yaml_text(yaml, errors);
    if (!node) {
        return std::nullopt;
    }
    const auto spec = transform::parse_transform_spec(*node, errors);
    std::optional<ConfigNode> key_node;
    if (!partition_key.empty()) {
        key_node = load_yaml_text("partition_key: " + partition_key, errors);
    }
    const auto key = transform::parse_partition_key(
        key_node ? key_node->find("partition_key") : nullptr, errors);
    auto t = Transform::compile(spec, key, datasets, errors);
    if (!errors.empty()) {
        std::fprintf(stderr, "%s\n", errors.to_string().c_str());
        return std::nullopt;
    }
    return t;
}

void run(benchmark::State& state, Transform& t, Message& message) {
    transform::TransformScratch scratch;
    if (t.apply(message, scratch) != transform::Outcome::kept) {
        state.SkipWithError("the message was not kept");
        return;
    }
    message.record.swap(scratch.record);
    const AllocationProbe allocations;
    for (auto _ : state) {
        const auto outcome = t.apply(message, scratch);
        benchmark::DoNotOptimize(outcome);
        message.record.swap(scratch.record);
        message.properties.resize(message.property_count);
    }
    allocations.report(state, 1);
    set_rates(state, 1, 0);
}

void BM_transform(benchmark::State& state, const char* yaml) {
    auto t = compile(yaml, {});
    Message message;
    if (!t || !parse_message(message, small_document())) {
        state.SkipWithError("setup failed");
        return;
    }
    run(state, *t, message);
}
BENCHMARK_CAPTURE(BM_transform, copy, "map: [{inputs: [temperature], output: t}]");
BENCHMARK_CAPTURE(BM_transform, cToF,
                  "map: [{inputs: [temperature], output: t, expression: 'cToF($1)'}]");
BENCHMARK_CAPTURE(BM_transform, passthrough, "map: [{inputs: ['*'], output: '*'}]");
BENCHMARK_CAPTURE(BM_transform, map10,
                  "map:\n"
                  "  - {inputs: ['*'], output: '*'}\n"
                  "  - {inputs: [temperature], output: temperature, expression: 'cToF($1)'}\n"
                  "  - {inputs: [humidity], output: humidity, expression: "
                  "'scale($1, 0, 100, 0, 1)'}\n"
                  "  - {inputs: [pressure], output: pressure_bar, expression: '$1 / 1000'}\n"
                  "  - {inputs: [deviceId], output: device.id}\n"
                  "  - {inputs: [status], output: device.status, expression: "
                  "'str::to_uppercase($1)'}\n"
                  "  - {inputs: [deviceId, sequence], output: key, expression: '$1 + \"-\" + $2'}\n"
                  "  - {inputs: [temperature], output: hot, expression: '$1 > 30'}\n"
                  "  - {inputs: [deviceId], output: $metadata.user_property.device}\n"
                  "  - {inputs: [sequence], output: ''}\n");
BENCHMARK_CAPTURE(BM_transform, filter,
                  "filter: [{inputs: [temperature], drop_when: '$1 > 1000'}]");

void BM_transform_dataset(benchmark::State& state) {
    auto assets = std::make_shared<transform::Dataset>("assets", 100000);
    transform::DatasetRegistry datasets{{"assets", assets}};
    auto t = compile(
        "datasets: [{key: assets as a, inputs: [$source.deviceId, $context.id], "
        "expression: '$1 == $2'}]\n"
        "map: [{inputs: ['$context(a).site'], output: site}]",
        datasets);
    std::string records;
    for (int i = 0; i < 10000; ++i) {
        records += "{\"id\":\"device-" + std::to_string(i) + "\",\"site\":\"site-" +
                   std::to_string(i % 17) + "\",\"line\":" + std::to_string(i % 5) + "}\n";
    }
    Message message;
    std::string document = small_document();
    // Point the message at a record in the middle of the dataset.
    const auto at = document.find("\"deviceId\":\"") + 12;
    document.replace(at, document.find('"', at) - at, "device-5000");
    if (!t || !assets->load(records) || !parse_message(message, document)) {
        state.SkipWithError("setup failed");
        return;
    }
    run(state, *t, message);
}
BENCHMARK(BM_transform_dataset)->Name("BM_transform/dataset10k");

void BM_transform_last(benchmark::State& state) {
    auto t = compile(
        "map: [{inputs: ['missing_field ? $last ?? 0', temperature], output: t, expression: "
        "'$1 + $2'}]",
        {}, "deviceId");
    Message message;
    if (!t || !parse_message(message, small_document())) {
        state.SkipWithError("setup failed");
        return;
    }
    run(state, *t, message);
}
BENCHMARK(BM_transform_last)->Name("BM_transform/last");

}  // namespace
}  // namespace edgeflow::bench
