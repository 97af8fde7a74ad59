// FactoryWorkload: the reference workload of examples/factory/, message by message.
//
// 500 devices (by default) publish telemetry on factory/<line>/<deviceId>/telemetry:
//   {"deviceId":"dev-0042","timestamp":1795500000123,"temperature":24.86,"humidity":36.0,
//    "pressure":1019.5,"status":"ok","sequence":17,"seq":8542,"sent":1234567890123456789}
// about 180 bytes; some messages omit temperature, humidity, pressure or status. Each zone
// has a camera (factory/zone/<zone>/camera: detection and confidence) and a gas sensor
// (factory/zone/<zone>/gas: ppm); one message in 50 is a camera detection and one in 50 a gas
// reading. `seq` numbers every message of the load and `sent` carries its scheduled send time
// (steady clock, ns): what an end-to-end subscriber measures latency and loss with.
//
// Message i is a pure function of i (a hash of i picks the noise and the omitted fields), so
// every tool renders the same load: the in-process source, the MQTT load generator, the limit
// loops. Timestamps advance 1 ms per message from a fixed epoch (simulated time). The devices
// dataset (id, site, line, zone) is what the pipeline contextualizes with.
//
// render() appends into reused strings and does not allocate once they are warm.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeflow::perf {

enum class MessageKind : std::uint8_t { telemetry, camera, gas };

struct Device {
    std::string id;    ///< dev-0042
    std::string site;  ///< plant-a
    std::string line;  ///< line-3
    std::string zone;  ///< zone-07
};

struct WorkloadOptions {
    std::size_t devices = 500;
    std::size_t zones = 10;
    std::size_t lines = 5;
};

class FactoryWorkload {
public:
    static constexpr std::uint64_t epoch_ms = 1795500000000;  ///< timestamp of message 0
    static constexpr std::uint64_t side_topic_period = 50;    ///< 1 camera + 1 gas per 50

    explicit FactoryWorkload(WorkloadOptions options = {});

    MessageKind kind_of(std::uint64_t i) const noexcept;
    /// Message i with `sent_ns` embedded: topic and payload replace the strings' contents.
    void render(std::uint64_t i, std::uint64_t sent_ns, std::string& topic,
                std::string& payload) const;

    const std::vector<Device>& devices() const noexcept { return devices_; }
    std::size_t zones() const noexcept { return options_.zones; }
    std::string zone_name(std::size_t zone) const;
    /// The devices dataset as JSON Lines: {"id":...,"site":...,"line":...,"zone":...}.
    std::string dataset_jsonl() const;

private:
    WorkloadOptions options_;
    std::vector<Device> devices_;
    std::vector<std::string> zone_names_;
};

/// Appends `value` with exactly `decimals` digits after the point (rounded), as JSON.
void append_fixed(std::string& out, double value, int decimals);
/// Appends an unsigned integer in decimal.
void append_uint(std::string& out, std::uint64_t value);

}  // namespace edgeflow::perf
