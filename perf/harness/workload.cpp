#include "perf/harness/workload.h"

#include <charconv>
#include <cmath>

namespace edgeflow::perf {
namespace {

// splitmix64: a well-mixed 64-bit value from a counter, so message i needs no state.
std::uint64_t mix(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A uniform value in [0, 1) from bits of a hash.
double unit(std::uint64_t bits) noexcept {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

std::string numbered(std::string_view prefix, std::size_t n, int width) {
    std::string digits = std::to_string(n);
    std::string out(prefix);
    out.append(static_cast<std::size_t>(width) > digits.size()
                   ? static_cast<std::size_t>(width) - digits.size()
                   : 0,
               '0');
    out += digits;
    return out;
}

void append_key(std::string& out, std::string_view key) {
    out += '"';
    out += key;
    out += "\":";
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
    append_key(out, key);
    out += '"';
    out += value;
    out += "\",";
}

}  // namespace

void append_uint(std::string& out, std::uint64_t value) {
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
}

void append_fixed(std::string& out, double value, int decimals) {
    char buffer[48];
    const auto end =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals)
            .ptr;
    out.append(buffer, end);
}

FactoryWorkload::FactoryWorkload(WorkloadOptions options) : options_(options) {
    for (std::size_t z = 0; z < options_.zones; ++z) {
        zone_names_.push_back(numbered("zone-", z + 1, 2));
    }
    devices_.reserve(options_.devices);
    for (std::size_t d = 0; d < options_.devices; ++d) {
        Device device;
        device.id = numbered("dev-", d + 1, 4);
        // Zones are contiguous groups of devices; a zone belongs to one line, lines to sites.
        const std::size_t zone = d * options_.zones / options_.devices;
        const std::size_t line = zone * options_.lines / options_.zones;
        device.zone = zone_names_[zone];
        device.line = numbered("line-", line + 1, 1);
        device.site = line < (options_.lines + 1) / 2 ? "plant-a" : "plant-b";
        devices_.push_back(std::move(device));
    }
}

std::string FactoryWorkload::zone_name(std::size_t zone) const {
    return zone_names_[zone % zone_names_.size()];
}

MessageKind FactoryWorkload::kind_of(std::uint64_t i) const noexcept {
    switch (i % side_topic_period) {
        case 17:
            return MessageKind::camera;
        case 42:
            return MessageKind::gas;
        default:
            return MessageKind::telemetry;
    }
}

void FactoryWorkload::render(std::uint64_t i, std::uint64_t sent_ns, std::string& topic,
                             std::string& payload) const {
    const std::uint64_t h = mix(i);
    const std::uint64_t timestamp = epoch_ms + i;
    topic.clear();
    payload.clear();
    payload += '{';
    const MessageKind kind = kind_of(i);
    if (kind == MessageKind::telemetry) {
        const std::size_t d = static_cast<std::size_t>(i % devices_.size());
        const Device& device = devices_[d];
        const std::uint64_t sequence = i / devices_.size();
        topic += "factory/";
        topic += device.line;
        topic += '/';
        topic += device.id;
        topic += "/telemetry";
        append_string_field(payload, "deviceId", device.id);
        append_key(payload, "timestamp");
        append_uint(payload, timestamp);
        payload += ',';
        // A slow swing per device: devices with the highest base cross 35 °C at the top of it.
        const double swing =
            std::sin(static_cast<double>(sequence) * 0.0314159 + static_cast<double>(d));
        const double temperature =
            20.0 + static_cast<double>(d % 10) + 6.0 * swing + (unit(h) - 0.5);
        const std::uint64_t omit = (h >> 20) % 100;
        if (omit != 0 && omit != 1) {  // 2 % omit the temperature
            append_key(payload, "temperature");
            append_fixed(payload, temperature, 2);
            payload += ',';
        }
        if (omit < 10 || omit > 13) {  // 4 % omit the humidity
            append_key(payload, "humidity");
            append_fixed(payload, 30.0 + 30.0 * unit(mix(h)), 1);
            payload += ',';
        }
        if (omit < 20 || omit > 22) {  // 3 % omit the pressure
            append_key(payload, "pressure");
            append_fixed(payload, 1000.0 + 25.0 * unit(mix(h + 1)), 1);
            payload += ',';
        }
        if (omit != 30) {  // 1 % omit the status
            const std::uint64_t s = (h >> 40) % 200;
            append_string_field(payload, "status", s == 0 ? "alarm" : s < 5 ? "warn" : "ok");
        }
        append_key(payload, "sequence");
        append_uint(payload, sequence);
        payload += ',';
    } else {
        const std::size_t zone = static_cast<std::size_t>((i / side_topic_period) % zones());
        const std::string& name = zone_names_[zone];
        topic += "factory/zone/";
        topic += name;
        append_string_field(payload, "zone", name);
        if (kind == MessageKind::camera) {
            topic += "/camera";
            append_string_field(payload, "camera", numbered("cam-", zone + 1, 2));
            append_key(payload, "timestamp");
            append_uint(payload, timestamp);
            payload += ',';
            append_string_field(payload, "detection", unit(h) < 0.3 ? "person" : "none");
            append_key(payload, "confidence");
            append_fixed(payload, 0.5 + 0.5 * unit(mix(h)), 2);
            payload += ',';
        } else {
            topic += "/gas";
            append_string_field(payload, "sensor", numbered("gas-", zone + 1, 2));
            append_key(payload, "timestamp");
            append_uint(payload, timestamp);
            payload += ',';
            append_key(payload, "ppm");
            append_fixed(
                payload,
                unit(h) < 0.2 ? 1000.0 + 500.0 * unit(mix(h)) : 400.0 + 200.0 * unit(mix(h)), 1);
            payload += ',';
        }
    }
    append_key(payload, "seq");
    append_uint(payload, i);
    payload += ',';
    append_key(payload, "sent");
    append_uint(payload, sent_ns);
    payload += '}';
}

std::string FactoryWorkload::dataset_jsonl() const {
    std::string out;
    for (const Device& d : devices_) {
        out += "{\"id\":\"" + d.id + "\",\"site\":\"" + d.site + "\",\"line\":\"" + d.line +
               "\",\"zone\":\"" + d.zone + "\"}\n";
    }
    return out;
}

}  // namespace edgeflow::perf
