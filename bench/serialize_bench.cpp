// Record → JSON text, and dead-letter records.
//
// BM_append_record/<size>   json::append_record into one reused std::string (bytes = output).
// BM_serialize_stage/<size> SerializeStage::process over a batch of live parsed messages.
// BM_dead_letter            SerializeStage::process over a batch of rejected messages: the
//                           dead-letter record with properties, source line and the original
//                           payload escaped as a JSON string.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench/bench_support.h"
#include "core/json_writer.h"
#include "stages/serialize_stage.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t batch_size = 64;

void BM_append_record(benchmark::State& state, const std::string& document) {
    Message message;
    if (!parse_message(message, document)) {
        state.SkipWithError("the document does not parse");
        return;
    }
    std::string out;
    json::append_record(out, message.record);  // warm: out reaches its final capacity
    const AllocationProbe allocations;
    for (auto _ : state) {
        out.clear();
        json::append_record(out, message.record);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, out.size());
    state.SetLabel(size_label(out.size()) + " out");
}
BENCHMARK_CAPTURE(BM_append_record, small, small_document());
BENCHMARK_CAPTURE(BM_append_record, medium, medium_document());

// Fills `batch` (of capacity messages.size()) with `messages`, which must outlive it.
void fill_batch(Batch& batch, std::vector<Message>& messages) {
    for (auto& message : messages) {
        batch.push(&message);
    }
}

void BM_serialize_stage(benchmark::State& state, const std::string& document) {
    std::vector<Message> messages(batch_size);
    for (auto& message : messages) {
        if (!parse_message(message, document)) {
            state.SkipWithError("the document does not parse");
            return;
        }
    }
    Batch batch(messages.size());
    fill_batch(batch, messages);
    SerializeStage stage(std::nullopt, {"telemetry"}, std::make_shared<DeadLetterCounts>());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);  // warm: outputs reach their final capacity
    const AllocationProbe allocations;
    for (auto _ : state) {
        stage.process(batch, ctx);
        benchmark::ClobberMemory();
    }
    allocations.report(state, batch_size);
    set_rates(state, batch_size, batch_size * messages.front().output.size());
    state.SetLabel(size_label(messages.front().output.size()) + " out per message");
}
BENCHMARK_CAPTURE(BM_serialize_stage, small, small_document());
BENCHMARK_CAPTURE(BM_serialize_stage, medium, medium_document());

void BM_dead_letter(benchmark::State& state) {
    auto topic = TopicTemplate::parse("deadletter/{topic.1}");
    if (!topic) {
        state.SkipWithError(topic.error().c_str());
        return;
    }
    // A payload cut short: valid UTF-8, invalid JSON, full of quotes to escape.
    const std::string_view truncated = std::string_view(small_document()).substr(0, 120);
    std::vector<Message> messages(batch_size);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        Message& message = messages[i];
        fill_message(message, truncated);
        message.add_property("contentType", "application/json");
        message.add_property("correlationId", "4f1c2a9e-7b3d-4e8a-9c61-0d2f5b7a8e13");
        message.source_line = 1000 + i;
        message.reject(DeadLetterReason::invalid_json, "parse",
                       "The JSON document has an improper structure: missing or superfluous "
                       "commas, braces, missing keys, etc.");
    }
    Batch batch(messages.size());
    fill_batch(batch, messages);
    SerializeStage stage(DeadLetterTarget{0, std::move(topic).value()}, {"telemetry"},
                         std::make_shared<DeadLetterCounts>());
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    const AllocationProbe allocations;
    for (auto _ : state) {
        stage.process(batch, ctx);
        benchmark::ClobberMemory();
    }
    allocations.report(state, batch_size);
    set_rates(state, batch_size, batch_size * messages.front().output.size());
    state.SetLabel(size_label(messages.front().output.size()) + " out per message");
}
BENCHMARK(BM_dead_letter);

}  // namespace
}  // namespace edgeflow::bench
