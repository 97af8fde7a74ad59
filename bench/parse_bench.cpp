// ParseStage::parse (payload → Record) against simdjson On-Demand alone, on the same bytes.
//
// BM_parse/<size>          the stage: every value visited by type and appended to the Record.
// BM_simdjson_walk/<size>  the same generic visit (by type, keys unescaped, numbers classified,
//                          end-of-document checked) building nothing: the gap to BM_parse is
//                          the cost of the Record.
// BM_simdjson_fields/small the seven fields of the small document read by name, in order, as a
//                          consumer that knows its schema would: the limit for telemetry.
// BM_parse_pooled/<size>   what a pooled message goes through from source to Record:
//                          Message::reset, topic and payload refilled, parse. reset releases
//                          buffers above Message::retained_capacity, so allocs/item shows which
//                          documents pay for regrowing them on every message.
//
// Except for BM_parse_pooled, one message and one parser are reused: the path is warm and
// should not allocate.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <bit>

#include "bench/bench_support.h"
#include "io/envelope.h"
#include "stages/parse_stage.h"

namespace edgeflow::bench {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

void BM_parse(benchmark::State& state, const std::string& document) {
    ParseStage stage(ParseConfig{});
    Message message;
    fill_message(message, document);
    if (!stage.parse(message, 0)) {
        state.SkipWithError("the document does not parse");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        bool parsed = stage.parse(message, 0);
        benchmark::DoNotOptimize(parsed);
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, document.size());
    state.SetLabel(size_label(document.size()) + ", " +
                   std::to_string(message.record.node_count()) + " nodes");
}
BENCHMARK_CAPTURE(BM_parse, small, small_document())->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_parse, medium, medium_document());
BENCHMARK_CAPTURE(BM_parse, large, large_document());

void BM_parse_pooled(benchmark::State& state, const std::string& document) {
    ParseStage stage(ParseConfig{});
    Message message;
    // As MessagePool prepares its messages.
    message.destination_topics.resize(1);
    message.topic.reserve(128);
    message.payload.reserve(512 + simdjson::SIMDJSON_PADDING);
    message.output.reserve(512);
    const auto cycle = [&] {
        message.reset();
        fill_message(message, document);
        return stage.parse(message, 0);
    };
    if (!cycle()) {
        state.SkipWithError("the document does not parse");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        bool parsed = cycle();
        benchmark::DoNotOptimize(parsed);
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, document.size());
    state.SetLabel(size_label(document.size()) + ", " +
                   std::to_string(message.record.node_count()) + " nodes");
}
BENCHMARK_CAPTURE(BM_parse_pooled, small, small_document());
BENCHMARK_CAPTURE(BM_parse_pooled, medium, medium_document());
// Under retained_capacity as payload, but with more than 512 values (16 KB of Record nodes).
BENCHMARK_CAPTURE(BM_parse_pooled, 7k, nested_document(70));
BENCHMARK_CAPTURE(BM_parse_pooled, large, large_document());

// What the walk folds every value into, so none of the reads can be dropped.
struct Checksum {
    std::uint64_t bits = 0;
    void add(std::uint64_t value) noexcept { bits = bits * 31 + value; }
};

template <typename V>  // od::value or od::document, as in ParseStage
error_code walk(V& value, Checksum& sum);

error_code walk_object(od::object object, Checksum& sum) {
    for (auto field : object) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) {
            return error;
        }
        sum.add(key.size());
        od::value child;
        if (auto error = field.value().get(child)) {
            return error;
        }
        if (auto error = walk(child, sum)) {
            return error;
        }
    }
    return simdjson::SUCCESS;
}

error_code walk_array(od::array array, Checksum& sum) {
    for (auto element : array) {
        od::value child;
        if (auto error = element.get(child)) {
            return error;
        }
        if (auto error = walk(child, sum)) {
            return error;
        }
    }
    return simdjson::SUCCESS;
}

template <typename V>
error_code walk(V& value, Checksum& sum) {
    od::json_type type;
    if (auto error = value.type().get(type)) {
        return error;
    }
    switch (type) {
        case od::json_type::object: {
            od::object object;
            if (auto error = value.get_object().get(object)) {
                return error;
            }
            return walk_object(object, sum);
        }
        case od::json_type::array: {
            od::array array;
            if (auto error = value.get_array().get(array)) {
                return error;
            }
            return walk_array(array, sum);
        }
        case od::json_type::number: {
            od::number number;
            if (auto error = value.get_number().get(number)) {
                return error;
            }
            switch (number.get_number_type()) {
                case od::number_type::signed_integer:
                    sum.add(static_cast<std::uint64_t>(number.get_int64()));
                    break;
                case od::number_type::unsigned_integer:
                    sum.add(number.get_uint64());
                    break;
                case od::number_type::floating_point_number:
                    sum.add(std::bit_cast<std::uint64_t>(number.get_double()));
                    break;
            }
            return simdjson::SUCCESS;
        }
        case od::json_type::string: {
            std::string_view text;
            if (auto error = value.get_string().get(text)) {
                return error;
            }
            sum.add(text.size());
            return simdjson::SUCCESS;
        }
        case od::json_type::boolean: {
            bool flag = false;
            if (auto error = value.get_bool().get(flag)) {
                return error;
            }
            sum.add(flag ? 1 : 0);
            return simdjson::SUCCESS;
        }
        case od::json_type::null: {
            bool is_null = false;
            if (auto error = value.is_null().get(is_null)) {
                return error;
            }
            sum.add(is_null ? 2 : 3);
            return simdjson::SUCCESS;
        }
    }
    return simdjson::INCORRECT_TYPE;
}

void BM_simdjson_walk(benchmark::State& state, const std::string& document) {
    std::string buffer;
    assign_padded(buffer, document);
    od::parser parser;
    const auto walk_once = [&](Checksum& sum) {
        od::document doc;
        auto error = parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc);
        if (!error) {
            error = walk(doc, sum);
        }
        if (!error && !document_at_end(doc)) {
            error = simdjson::TRAILING_CONTENT;
        }
        return error;
    };
    Checksum warm;
    if (walk_once(warm) != simdjson::SUCCESS) {  // also sizes the parser for the document
        state.SkipWithError("the document does not parse");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        Checksum sum;
        auto error = walk_once(sum);
        benchmark::DoNotOptimize(error);
        benchmark::DoNotOptimize(sum.bits);
    }
    allocations.report(state, 1);
    set_rates(state, 1, document.size());
    state.SetLabel(size_label(document.size()));
}
BENCHMARK_CAPTURE(BM_simdjson_walk, small, small_document());
BENCHMARK_CAPTURE(BM_simdjson_walk, medium, medium_document());
BENCHMARK_CAPTURE(BM_simdjson_walk, large, large_document());

void BM_simdjson_fields(benchmark::State& state, const std::string& document) {
    std::string buffer;
    assign_padded(buffer, document);
    od::parser parser;
    struct Telemetry {
        std::string_view device_id;
        std::uint64_t timestamp = 0;
        double temperature = 0;
        double humidity = 0;
        double pressure = 0;
        std::string_view status;
        std::uint64_t sequence = 0;
    };
    const auto read_fields = [&](Telemetry& t) {
        od::document doc;
        auto error = parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc);
        // find_field: in document order, no search back — the fastest On-Demand access.
        if (!error) {
            error = doc.find_field("deviceId").get_string().get(t.device_id);
        }
        if (!error) {
            error = doc.find_field("timestamp").get_uint64().get(t.timestamp);
        }
        if (!error) {
            error = doc.find_field("temperature").get_double().get(t.temperature);
        }
        if (!error) {
            error = doc.find_field("humidity").get_double().get(t.humidity);
        }
        if (!error) {
            error = doc.find_field("pressure").get_double().get(t.pressure);
        }
        if (!error) {
            error = doc.find_field("status").get_string().get(t.status);
        }
        if (!error) {
            error = doc.find_field("sequence").get_uint64().get(t.sequence);
        }
        return error;
    };
    Telemetry warm;
    if (read_fields(warm) != simdjson::SUCCESS) {
        state.SkipWithError("the document lacks a telemetry field");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        Telemetry t;
        auto error = read_fields(t);
        benchmark::DoNotOptimize(error);
        benchmark::DoNotOptimize(t);
    }
    allocations.report(state, 1);
    set_rates(state, 1, document.size());
    state.SetLabel(size_label(document.size()));
}
BENCHMARK_CAPTURE(BM_simdjson_fields, small, small_document())
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace edgeflow::bench
