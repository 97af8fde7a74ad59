// The MQTT client codec on the hot path: one QoS 1 PUBLISH of the small telemetry document,
// decoded (what a source does per received message) and encoded (what a sink does per sent
// message), in three shapes.
//
// v311        MQTT 3.1.1: no properties at all.
// v5          MQTT 5 with an empty property block.
// v5_props    MQTT 5 with a content type and two user properties (the envelope's shape).
#include <benchmark/benchmark.h>

#include <array>

#include "bench/bench_support.h"
#include "io/mqtt/codec/codec.h"

namespace edgeflow::bench {
namespace {

enum class Shape { v311, v5, v5_props };

constexpr std::array<mqtt::UserPropertyView, 2> user_properties = {
    mqtt::UserPropertyView{"source", "plc-7"},
    mqtt::UserPropertyView{"correlationId", "4f1c2a9e-7b3d-4e8a-9c61-0d2f5b7a8e13"},
};

mqtt::Version version_of(Shape shape) {
    return shape == Shape::v311 ? mqtt::Version::v311 : mqtt::Version::v5;
}

mqtt::PublishOptions publish_of(Shape shape) {
    mqtt::PublishOptions p;
    p.topic = input_topic;
    p.payload = small_document();
    p.qos = 1;
    p.packet_id = 4242;
    if (shape == Shape::v5_props) {
        p.content_type = "application/json";
        p.user_properties = user_properties;
    }
    return p;
}

void BM_Mqtt_decode_publish(benchmark::State& state, Shape shape) {
    mqtt::WriteBuffer out;
    mqtt::encode_publish(out, version_of(shape), publish_of(shape));
    const std::string bytes(out.pending());
    mqtt::Decoder decoder(version_of(shape));
    mqtt::Packet packet;
    mqtt::DecodeError error;
    if (decoder.next(bytes, packet, error) != mqtt::DecodeStatus::packet ||
        packet.publish.payload != small_document()) {
        state.SkipWithError("the PUBLISH does not decode to its payload");
        return;
    }
    const AllocationProbe allocations;
    for (auto _ : state) {
        auto status = decoder.next(bytes, packet, error);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(packet.publish.payload.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, bytes.size());
    state.SetLabel(size_label(bytes.size()));
}
BENCHMARK_CAPTURE(BM_Mqtt_decode_publish, v311, Shape::v311);
BENCHMARK_CAPTURE(BM_Mqtt_decode_publish, v5, Shape::v5);
BENCHMARK_CAPTURE(BM_Mqtt_decode_publish, v5_props, Shape::v5_props);

void BM_Mqtt_encode_publish(benchmark::State& state, Shape shape) {
    const mqtt::PublishOptions publish = publish_of(shape);
    mqtt::WriteBuffer out;
    mqtt::encode_publish(out, version_of(shape), publish);  // warm: final capacity
    const AllocationProbe allocations;
    for (auto _ : state) {
        out.clear();
        mqtt::encode_publish(out, version_of(shape), publish);
        benchmark::DoNotOptimize(out.pending().data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, 1);
    set_rates(state, 1, out.size());
    state.SetLabel(size_label(out.size()));
}
BENCHMARK_CAPTURE(BM_Mqtt_encode_publish, v311, Shape::v311);
BENCHMARK_CAPTURE(BM_Mqtt_encode_publish, v5, Shape::v5);
BENCHMARK_CAPTURE(BM_Mqtt_encode_publish, v5_props, Shape::v5_props);

}  // namespace
}  // namespace edgeflow::bench
