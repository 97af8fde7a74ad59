// What every benchmark file shares: the input documents, a Message filled the way a source
// fills one, rate reporting, and an allocation probe.
//
// Documents are deterministic and built once (function-local statics), so every benchmark in
// a run reads the same bytes. The allocation probe counts operator new calls made anywhere in
// the process (bench_support.cpp replaces the global operators); a warm hot path reports 0.
// Everything here is for the benchmark's own thread; the allocation counter alone is
// thread-safe.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/message.h"

namespace edgeflow::bench {

/// The MQTT topic every benchmark message arrives on.
inline constexpr std::string_view input_topic = "plant/line1/telemetry";

/// ~180 bytes of flat telemetry: deviceId, timestamp, temperature, humidity, pressure, status,
/// sequence.
const std::string& small_document();
/// ~1.5 KB: the same header plus nested site/status objects and an array of reading objects.
const std::string& medium_document();
/// ~60 KB: the medium shape with many more readings.
const std::string& large_document();
/// The medium shape with `readings` reading objects (~100 bytes and 7 values each).
std::string nested_document(std::size_t readings);

/// A message as the engine's MessagePool prepares it (one destination topic, warm buffers),
/// then filled as a source fills it: input_topic and `payload` with simdjson padding.
void fill_message(Message& message, std::string_view payload);

/// `message` filled with `document` and parsed into its Record by a ParseStage; false when the
/// document does not parse.
bool parse_message(Message& message, std::string_view document);

/// Sets items/s (and bytes/s when `bytes_per_iteration` > 0) from the iteration count.
void set_rates(benchmark::State& state, std::size_t items_per_iteration,
               std::size_t bytes_per_iteration);

/// Label with the input size, e.g. "180 B".
std::string size_label(std::size_t bytes);

/// operator new calls so far, from any thread.
std::uint64_t allocation_count() noexcept;

/// Place right before the timed loop; report() right after it adds "allocs/item".
class AllocationProbe {
public:
    AllocationProbe() noexcept : start_(allocation_count()) {}
    void report(benchmark::State& state, std::size_t items_per_iteration) const;

private:
    std::uint64_t start_;
};

}  // namespace edgeflow::bench
