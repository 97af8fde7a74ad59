// The JSON Lines envelope of file sources and sinks, with the small document as payload and two
// user properties.
//
// BM_envelope_decode/json  payload embedded as a JSON object (copied out as raw JSON text).
// BM_envelope_decode/text  payload as a JSON string (unescaped by simdjson, then copied).
// BM_append_envelope/json  payload_is_json: the body appended as is.
// BM_append_envelope/text  the body checked as UTF-8 and escaped as a JSON string.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/bench_support.h"
#include "io/envelope.h"

namespace edgeflow::bench {
namespace {

const std::vector<UserProperty>& properties() {
    static const std::vector<UserProperty> list = {
        {"contentType", "application/json"},
        {"correlationId", "4f1c2a9e-7b3d-4e8a-9c61-0d2f5b7a8e13"},
    };
    return list;
}

std::string envelope_line(bool payload_is_json) {
    std::string line;
    append_envelope(line, input_topic, small_document(), payload_is_json, properties());
    return line;
}

void BM_envelope_decode(benchmark::State& state, bool payload_is_json) {
    const std::string line = envelope_line(payload_is_json);
    EnvelopeDecoder decoder(1 << 20);
    Message message;
    std::string_view why;
    if (!decoder.decode(line, message, why) || message.payload != small_document()) {
        state.SkipWithError("the envelope does not decode to its payload");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        bool decoded = decoder.decode(line, message, why);
        benchmark::DoNotOptimize(decoded);
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, line.size());
    state.SetLabel(size_label(line.size()));
}
BENCHMARK_CAPTURE(BM_envelope_decode, json, true);
BENCHMARK_CAPTURE(BM_envelope_decode, text, false);

void BM_append_envelope(benchmark::State& state, bool payload_is_json) {
    std::string out = envelope_line(payload_is_json);  // warm: final capacity
    const AllocationProbe allocations;
    for (auto _ : state) {
        out.clear();
        append_envelope(out, input_topic, small_document(), payload_is_json, properties());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, out.size());
    state.SetLabel(size_label(out.size()));
}
BENCHMARK_CAPTURE(BM_append_envelope, json, true);
BENCHMARK_CAPTURE(BM_append_envelope, text, false);

}  // namespace
}  // namespace edgeflow::bench
