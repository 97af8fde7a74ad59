#include "perf/harness/fused.h"

namespace edgeflow::perf {
namespace od = simdjson::ondemand;

std::uint64_t SimdjsonLoop::visit(std::string_view padded_payload, std::size_t capacity) noexcept {
    od::document doc;
    if (parser_.iterate(padded_payload.data(), padded_payload.size(), capacity).get(doc)) {
        return 0;
    }
    od::object object;
    if (doc.get_object().get(object)) {
        return 0;
    }
    std::uint64_t acc = 0;
    for (auto field : object) {
        std::string_view key;
        od::value value;
        if (field.unescaped_key().get(key) || field.value().get(value)) {
            return 0;
        }
        acc += key.size();
        od::json_type type;
        if (value.type().get(type)) {
            return 0;
        }
        if (type == od::json_type::string) {
            std::string_view s;
            if (!value.get_string().get(s)) {
                acc += s.size();
            }
        } else if (type == od::json_type::number) {
            double d = 0;
            if (!value.get_double().get(d)) {
                acc += static_cast<std::uint64_t>(d);
            }
        }
    }
    return acc;
}

FusedPipeline::FusedPipeline(const FactoryWorkload& workload, bool stateless, ReferenceRules rules)
    : stateless_(stateless), rules_(rules) {
    devices_.resize(workload.devices().size());
    for (std::size_t i = 0; i < workload.devices().size(); ++i) {
        device_index_.emplace(workload.devices()[i].id, i);
        devices_[i].info = &workload.devices()[i];
        devices_[i].status.reserve(16);
    }
    zones_.resize(workload.zones());
    for (std::size_t z = 0; z < workload.zones(); ++z) {
        zone_index_.emplace(workload.zone_name(z), z);
    }
    out_.reserve(512);
    events_out_.reserve(512);
}

void FusedPipeline::event(std::string_view kind, std::string_view key, std::uint64_t at,
                          double value) {
    ++events_;
    events_out_ += "{\"event\":\"";
    events_out_ += kind;
    events_out_ += "\",\"key\":\"";
    events_out_ += key;
    events_out_ += "\",\"timestamp\":";
    append_uint(events_out_, at);
    events_out_ += ",\"value\":";
    append_fixed(events_out_, value, 2);
    events_out_ += '}';
}

std::size_t FusedPipeline::process(std::string_view topic, std::string_view padded_payload,
                                   std::size_t capacity) noexcept {
    od::document doc;
    if (parser_.iterate(padded_payload.data(), padded_payload.size(), capacity).get(doc)) {
        ++errors_;
        return 0;
    }
    out_.clear();
    events_out_.clear();
    if (topic.ends_with("/telemetry")) {
        return telemetry(doc);
    }
    const bool camera = topic.ends_with("/camera");
    if (!camera && !topic.ends_with("/gas")) {
        ++errors_;
        return 0;
    }
    return zone_message(doc, camera);
}

std::size_t FusedPipeline::telemetry(od::document& doc) noexcept {
    std::string_view device_id, status;
    std::uint64_t timestamp = 0, sequence = 0, seq = 0, sent = 0;
    double temperature = 0, humidity = 0, pressure = 0;
    bool has_t = false, has_h = false, has_p = false, has_s = false;
    od::object object;
    if (doc.get_object().get(object)) {
        ++errors_;
        return 0;
    }
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            ++errors_;
            return 0;
        }
        od::value value = field.value();
        bool bad = false;
        if (key == "deviceId") {
            bad = value.get_string().get(device_id) != simdjson::SUCCESS;
        } else if (key == "timestamp") {
            bad = value.get_uint64().get(timestamp) != simdjson::SUCCESS;
        } else if (key == "temperature") {
            bad = value.get_double().get(temperature) != simdjson::SUCCESS;
            has_t = true;
        } else if (key == "humidity") {
            bad = value.get_double().get(humidity) != simdjson::SUCCESS;
            has_h = true;
        } else if (key == "pressure") {
            bad = value.get_double().get(pressure) != simdjson::SUCCESS;
            has_p = true;
        } else if (key == "status") {
            bad = value.get_string().get(status) != simdjson::SUCCESS;
            has_s = true;
        } else if (key == "sequence") {
            bad = value.get_uint64().get(sequence) != simdjson::SUCCESS;
        } else if (key == "seq") {
            bad = value.get_uint64().get(seq) != simdjson::SUCCESS;
        } else if (key == "sent") {
            bad = value.get_uint64().get(sent) != simdjson::SUCCESS;
        }
        if (bad) {
            ++errors_;
            return 0;
        }
    }
    const auto found = device_index_.find(device_id);
    DeviceState* state = found == device_index_.end() ? nullptr : &devices_[found->second];

    if (!stateless_ && state != nullptr) {
        // Last-known values: fill what is missing, remember what is present.
        if (has_t) {
            state->temperature = temperature;
            state->has_temperature = true;
        } else if (state->has_temperature) {
            temperature = state->temperature;
            has_t = true;
        }
        if (has_h) {
            state->humidity = humidity;
            state->has_humidity = true;
        } else if (state->has_humidity) {
            humidity = state->humidity;
            has_h = true;
        }
        if (has_p) {
            state->pressure = pressure;
            state->has_pressure = true;
        } else if (state->has_pressure) {
            pressure = state->pressure;
            has_p = true;
        }
        if (has_s) {
            state->status.assign(status);
        } else if (!state->status.empty()) {
            status = state->status;
            has_s = true;
        }
        if (has_t) {
            // Threshold with hysteresis (raise above high, clear below clear) and debounce
            // (the change needs `debounce` consecutive readings past the level).
            const bool past =
                state->alarm ? temperature < rules_.clear_c : temperature > rules_.high_c;
            state->streak = past ? state->streak + 1 : 0;
            if (state->streak >= rules_.debounce) {
                state->alarm = !state->alarm;
                state->streak = 0;
                event(state->alarm ? "overheat" : "overheat_cleared", device_id, timestamp,
                      temperature);
            }
            // Tumbling window average of °F per device: a reading past the window closes it.
            const double fahrenheit = temperature * 9.0 / 5.0 + 32.0;
            const std::uint64_t window = timestamp - timestamp % rules_.window_ms;
            if (window != state->window_start) {
                if (state->window_count > 0) {
                    event("window_avg", device_id, state->window_start + rules_.window_ms,
                          state->window_sum / static_cast<double>(state->window_count));
                }
                state->window_start = window;
                state->window_sum = 0;
                state->window_count = 0;
            }
            state->window_sum += fahrenheit;
            ++state->window_count;
        }
    }

    out_ += "{\"deviceId\":\"";
    out_ += device_id;
    out_ += "\",\"timestamp\":";
    append_uint(out_, timestamp);
    if (has_t) {
        out_ += ",\"temperatureF\":";
        append_fixed(out_, temperature * 9.0 / 5.0 + 32.0, 2);
    }
    if (has_h) {
        out_ += ",\"humidity\":";
        append_fixed(out_, humidity / 100.0, 3);
    }
    if (has_p) {
        out_ += ",\"pressure_hpa\":";
        append_fixed(out_, pressure, 1);
    }
    if (has_s) {
        out_ += ",\"status\":\"";
        out_ += status;
        out_ += '"';
    }
    out_ += ",\"sequence\":";
    append_uint(out_, sequence);
    out_ += ",\"seq\":";
    append_uint(out_, seq);
    out_ += ",\"sent\":";
    append_uint(out_, sent);
    if (state != nullptr) {
        out_ += ",\"site\":\"";
        out_ += state->info->site;
        out_ += "\",\"line\":\"";
        out_ += state->info->line;
        out_ += "\",\"zone\":\"";
        out_ += state->info->zone;
        out_ += '"';
    }
    out_ += '}';
    return out_.size() + events_out_.size();
}

std::size_t FusedPipeline::zone_message(od::document& doc, bool camera) noexcept {
    std::string_view zone, detection;
    std::uint64_t timestamp = 0;
    double ppm = 0;
    od::object object;
    if (doc.get_object().get(object)) {
        ++errors_;
        return 0;
    }
    // Camera and gas messages pass through unchanged apart from the correlation; they are
    // re-serialized field by field, as the engine's serializer does.
    out_ += '{';
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            ++errors_;
            return 0;
        }
        od::value value = field.value();
        if (out_.size() > 1) {
            out_ += ',';
        }
        out_ += '"';
        out_ += key;
        out_ += "\":";
        std::string_view raw;
        if (key == "zone") {
            if (value.get_string().get(zone)) {
                ++errors_;
                return 0;
            }
            out_ += '"';
            out_ += zone;
            out_ += '"';
            continue;
        }
        if (key == "detection") {
            if (value.get_string().get(detection)) {
                ++errors_;
                return 0;
            }
            out_ += '"';
            out_ += detection;
            out_ += '"';
            continue;
        }
        if (key == "timestamp") {
            if (value.get_uint64().get(timestamp)) {
                ++errors_;
                return 0;
            }
            append_uint(out_, timestamp);
            continue;
        }
        if (key == "ppm") {
            if (value.get_double().get(ppm)) {
                ++errors_;
                return 0;
            }
            append_fixed(out_, ppm, 1);
            continue;
        }
        raw = value.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) {
            raw.remove_suffix(1);
        }
        out_ += raw;
    }
    out_ += '}';
    if (!stateless_) {
        const auto found = zone_index_.find(zone);
        if (found != zone_index_.end()) {
            ZoneState& z = zones_[found->second];
            if (camera && detection == "person") {
                z.person_at = timestamp;
            } else if (!camera && ppm > rules_.gas_ppm) {
                z.gas_at = timestamp;
            }
            // A person seen near high gas within the correlation window, once per pair.
            const std::uint64_t later = std::max(z.person_at, z.gas_at);
            const std::uint64_t earlier = std::min(z.person_at, z.gas_at);
            if (earlier != 0 && later - earlier <= rules_.correlate_ms && later != z.last_event &&
                later == timestamp) {
                z.last_event = later;
                event("person_near_gas", zone, timestamp, camera ? 0.0 : ppm);
            }
        }
    }
    return out_.size() + events_out_.size();
}

}  // namespace edgeflow::perf
