// The limits an engine run is compared with, on the messages of the reference workload:
//
// - SimdjsonLoop: simdjson On-Demand visiting every field of each message and nothing else
//   (the floor under any JSON pipeline).
// - FusedPipeline: the reference pipeline written by hand as one single-thread loop, every
//   stage fused into one pass with state in flat arrays: parse; map (temperature to °F as
//   temperatureF, humidity scaled to 0..1, pressure renamed pressure_hpa); site, line and zone
//   from the devices dataset (a hash lookup); last-known values filling missing fields; a
//   temperature threshold with hysteresis and debounce; a 10 s tumbling-window average per
//   device; camera detection and gas reading correlated per zone; serialization of the
//   enriched telemetry and of every event. `stateless` does only the part the engine's factory
//   pipeline does today (parse, map, dataset lookup, serialize), so both ratios can be read.
//
// Both take payloads with simdjson padding. One thread per instance; after construction and
// the first messages (buffers warm), processing allocates nothing.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "perf/harness/workload.h"

namespace edgeflow::perf {

/// The reference rules' constants, shared by the hand-fused loop and the Node-RED flow.
struct ReferenceRules {
    double high_c = 35.0;               ///< raise above this
    double clear_c = 33.0;              ///< clear below this (hysteresis)
    int debounce = 3;                   ///< consecutive readings before a change
    std::uint64_t window_ms = 10000;    ///< tumbling window per device
    std::uint64_t correlate_ms = 2000;  ///< camera detection and gas reading this close
    double gas_ppm = 1000.0;            ///< a gas reading above this is high
};

class SimdjsonLoop {
public:
    /// Visits every field; returns a value derived from them (for DoNotOptimize).
    std::uint64_t visit(std::string_view padded_payload, std::size_t capacity) noexcept;

private:
    simdjson::ondemand::parser parser_;
};

class FusedPipeline {
public:
    FusedPipeline(const FactoryWorkload& workload, bool stateless, ReferenceRules rules = {});

    /// Processes one message; returns the bytes serialized (enriched message plus events).
    std::size_t process(std::string_view topic, std::string_view padded_payload,
                        std::size_t capacity) noexcept;

    std::uint64_t events() const noexcept { return events_; }
    std::uint64_t errors() const noexcept { return errors_; }

private:
    struct DeviceState {
        const Device* info = nullptr;
        bool has_temperature = false, has_humidity = false, has_pressure = false;
        double temperature = 0, humidity = 0, pressure = 0;
        std::string status;  ///< last known status (capacity kept)
        bool alarm = false;
        int streak = 0;  ///< consecutive readings past the level that would change `alarm`
        std::uint64_t window_start = 0;
        double window_sum = 0;
        std::uint64_t window_count = 0;
    };
    struct ZoneState {
        std::uint64_t person_at = 0;  ///< last camera detection of a person (ms), 0 = none
        std::uint64_t gas_at = 0;     ///< last high gas reading (ms), 0 = none
        std::uint64_t last_event = 0;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::size_t telemetry(simdjson::ondemand::document& doc) noexcept;
    std::size_t zone_message(simdjson::ondemand::document& doc, bool camera) noexcept;
    void event(std::string_view kind, std::string_view key, std::uint64_t at, double value);

    bool stateless_;
    ReferenceRules rules_;
    simdjson::ondemand::parser parser_;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> device_index_;
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> zone_index_;
    std::vector<DeviceState> devices_;
    std::vector<ZoneState> zones_;
    std::string out_;
    std::string events_out_;
    std::uint64_t events_ = 0;
    std::uint64_t errors_ = 0;
};

}  // namespace edgeflow::perf
