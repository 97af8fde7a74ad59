#include "bench/bench_support.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "io/envelope.h"
#include "stages/parse_stage.h"

namespace edgeflow::bench {
namespace {

std::atomic<std::uint64_t> allocations{0};

void* counted_alloc(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned_alloc(std::size_t size, std::align_val_t alignment) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    const auto align = static_cast<std::size_t>(alignment);
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t rounded = size == 0 ? align : (size + align - 1) / align * align;
    return std::aligned_alloc(align, rounded);
}

void* checked(void* memory) {
    if (memory == nullptr) {
        throw std::bad_alloc();
    }
    return memory;
}

}  // namespace

// A header like the small document's, nested objects, then `readings` objects.
std::string nested_document(std::size_t readings) {
    std::string doc =
        R"({"deviceId":"site7-plant1-line1-press04-sensor-0042","timestamp":1714567890123,)"
        R"("site":{"plant":"plant1","line":"line1","cell":"cell-07",)"
        R"("geo":{"lat":47.6101,"lon":-122.3421,"alt":56.5}},)"
        R"("status":{"state":"running","code":0,"uptime_s":86400,)"
        R"("alarms":["overtemp-warning","filter-due"],"maintenance":false,"operator":null,)"
        R"("note":"line \"A\", north bay"},)"
        R"("tags":["line1","north","critical"],"readings":[)";
    static constexpr const char* units[] = {"C", "mm/s", "bar", "%"};
    char reading[192];
    for (std::size_t i = 0; i < readings; ++i) {
        const int n = std::snprintf(
            reading, sizeof reading,
            R"(%s{"name":"sensor-%03zu","value":%.3f,"unit":"%s","quality":"%s","ts":%llu,"ok":%s})",
            i == 0 ? "" : ",", i, 20.0 + static_cast<double>(i % 40) * 0.125, units[i % 4],
            i % 5 == 0 ? "uncertain" : "good", 1714567890123ULL + 10ULL * i,
            i % 7 == 0 ? "false" : "true");
        doc.append(reading, static_cast<std::size_t>(n));
    }
    doc.append(
        R"(],"temperature":21.754,"humidity":48.21,"pressure":1013.254,"sequence":1234567})");
    return doc;
}

const std::string& small_document() {
    static const std::string doc =
        R"({"deviceId":"site7-plant1-line1-press04-sensor-0042","timestamp":1714567890123,)"
        R"("temperature":21.754,"humidity":48.21,"pressure":1013.254,"status":"running",)"
        R"("sequence":1234567})";
    return doc;
}

const std::string& medium_document() {
    static const std::string doc = nested_document(11);
    return doc;
}

const std::string& large_document() {
    static const std::string doc = nested_document(590);
    return doc;
}

void fill_message(Message& message, std::string_view payload) {
    if (message.destination_topics.empty()) {
        message.destination_topics.resize(1);
    }
    message.topic.assign(input_topic);
    assign_padded(message.payload, payload);
}

bool parse_message(Message& message, std::string_view document) {
    static ParseStage stage(ParseConfig{});
    fill_message(message, document);
    return stage.parse(message, 0);
}

void set_rates(benchmark::State& state, std::size_t items_per_iteration,
               std::size_t bytes_per_iteration) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(items_per_iteration));
    // ns per item, printed as a time (e.g. "152ns"): the inverse of items_per_second.
    state.counters["per_item"] = benchmark::Counter(
        static_cast<double>(items_per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    if (bytes_per_iteration > 0) {
        state.SetBytesProcessed(state.iterations() *
                                static_cast<std::int64_t>(bytes_per_iteration));
    }
}

std::string size_label(std::size_t bytes) {
    return std::to_string(bytes) + " B";
}

std::uint64_t allocation_count() noexcept {
    return allocations.load(std::memory_order_relaxed);
}

void AllocationProbe::report(benchmark::State& state, std::size_t items_per_iteration) const {
    const auto counted = allocation_count() - start_;
    const double items =
        static_cast<double>(state.iterations()) * static_cast<double>(items_per_iteration);
    state.counters["allocs/item"] = items > 0 ? static_cast<double>(counted) / items : 0.0;
}

}  // namespace edgeflow::bench

// Replacing the global allocation functions makes every operator new in the process countable,
// including those inside edgeflow's libraries and the header-only queue and flow graph code.
// Memory comes from malloc/aligned_alloc and goes back with free, as the defaults do.
void* operator new(std::size_t size) {
    return edgeflow::bench::checked(edgeflow::bench::counted_alloc(size));
}
void* operator new[](std::size_t size) {
    return edgeflow::bench::checked(edgeflow::bench::counted_alloc(size));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return edgeflow::bench::counted_alloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return edgeflow::bench::counted_alloc(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
    return edgeflow::bench::checked(edgeflow::bench::counted_aligned_alloc(size, alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
    return edgeflow::bench::checked(edgeflow::bench::counted_aligned_alloc(size, alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    return edgeflow::bench::counted_aligned_alloc(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    return edgeflow::bench::counted_aligned_alloc(size, alignment);
}
void operator delete(void* memory) noexcept {
    std::free(memory);
}
void operator delete[](void* memory) noexcept {
    std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
    std::free(memory);
}
void operator delete[](void* memory, std::size_t) noexcept {
    std::free(memory);
}
void operator delete(void* memory, const std::nothrow_t&) noexcept {
    std::free(memory);
}
void operator delete[](void* memory, const std::nothrow_t&) noexcept {
    std::free(memory);
}
void operator delete(void* memory, std::align_val_t) noexcept {
    std::free(memory);
}
void operator delete[](void* memory, std::align_val_t) noexcept {
    std::free(memory);
}
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept {
    std::free(memory);
}
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept {
    std::free(memory);
}
void operator delete(void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(memory);
}
void operator delete[](void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(memory);
}
