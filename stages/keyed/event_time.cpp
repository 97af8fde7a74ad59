#include "stages/keyed/event_time.h"

#include <cmath>

#include "core/config/map_reader.h"
#include "lang/text/datetime.h"

namespace edgeflow {

EventTimeConfig EventTimeConfig::parse(const ConfigNode* node, ConfigErrors& errors) {
    EventTimeConfig config;
    if (node == nullptr) {
        return config;
    }
    MapReader reader(*node, errors, "the event_time block");
    if (!reader.ok()) {
        return config;
    }
    if (const ConfigNode* field = reader.get("field")) {
        config.field = transform::parse_formula(*field, errors);
    }
    reader.optional_choice("format", config.format,
                           {{"auto", TimeFormat::auto_detect},
                            {"epoch_s", TimeFormat::epoch_s},
                            {"epoch_ms", TimeFormat::epoch_ms},
                            {"epoch_us", TimeFormat::epoch_us},
                            {"epoch_ns", TimeFormat::epoch_ns},
                            {"iso8601", TimeFormat::iso8601}});
    reader.optional_duration("allowed_lateness", config.allowed_lateness_ms, 0, 365LL * 86'400'000);
    reader.optional_choice("late", config.late,
                           {{"dead_letter", LatePolicy::dead_letter}, {"drop", LatePolicy::drop}});
    reader.optional_choice("clock", config.clock,
                           {{"wall", ClockMode::wall}, {"event", ClockMode::event}});
    reader.optional_uint("max_keys", config.max_keys, 1, 100'000'000);
    reader.finish();
    return config;
}

namespace {

bool scaled(double number, double per_ms, std::int64_t& out) noexcept {
    // Rounded to the microsecond before the floor: a decimal fraction such as 1700000000.123 s
    // is held a little below its value, and flooring that directly would lose a millisecond.
    const double ms = std::floor(std::nearbyint(number / per_ms * 1000.0) / 1000.0);
    if (!std::isfinite(ms) || ms < -1e15 || ms > 1e15) {
        return false;
    }
    out = static_cast<std::int64_t>(ms);
    return true;
}

}  // namespace

bool event_time_ms(const expr::Value& value, TimeFormat format, std::int64_t& out) noexcept {
    if (value.kind == expr::Kind::string) {
        return (format == TimeFormat::auto_detect || format == TimeFormat::iso8601) &&
               dt::parse_iso8601(value.text, out);
    }
    if (!value.is_number() || format == TimeFormat::iso8601) {
        return false;
    }
    if (value.kind == expr::Kind::integer) {
        // Integers stay exact: no detour through double for nanoseconds.
        const std::int64_t v = value.integer;
        // Unsigned, so that the magnitude of INT64_MIN does not overflow.
        const std::uint64_t magnitude =
            v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
        TimeFormat f = format;
        if (f == TimeFormat::auto_detect) {
            f = magnitude < 100'000'000'000ULL           ? TimeFormat::epoch_s
                : magnitude < 100'000'000'000'000ULL     ? TimeFormat::epoch_ms
                : magnitude < 100'000'000'000'000'000ULL ? TimeFormat::epoch_us
                                                         : TimeFormat::epoch_ns;
        }
        switch (f) {
            case TimeFormat::epoch_s:
                if (magnitude > 1'000'000'000'000ULL) {
                    return false;
                }
                out = v * 1000;
                return true;
            case TimeFormat::epoch_ms:
                out = v;
                return true;
            case TimeFormat::epoch_us:
                out = v / 1000 - (v % 1000 < 0 ? 1 : 0);
                return true;
            default:
                out = v / 1'000'000 - (v % 1'000'000 < 0 ? 1 : 0);
                return true;
        }
    }
    const double d = value.floating;
    const double magnitude = std::fabs(d);
    TimeFormat f = format;
    if (f == TimeFormat::auto_detect) {
        f = magnitude < 1e11   ? TimeFormat::epoch_s
            : magnitude < 1e14 ? TimeFormat::epoch_ms
            : magnitude < 1e17 ? TimeFormat::epoch_us
                               : TimeFormat::epoch_ns;
    }
    switch (f) {
        case TimeFormat::epoch_s:
            return scaled(d, 1e-3, out);
        case TimeFormat::epoch_ms:
            return scaled(d, 1.0, out);
        case TimeFormat::epoch_us:
            return scaled(d, 1e3, out);
        default:
            return scaled(d, 1e6, out);
    }
}

}  // namespace edgeflow
