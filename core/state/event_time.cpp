#include "core/state/event_time.h"

#include <cmath>

#include "core/config/map_reader.h"
#include "core/text/datetime.h"

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
    const double ms = std::floor(number / per_ms);
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
        const std::int64_t magnitude = v < 0 ? -v : v;
        TimeFormat f = format;
        if (f == TimeFormat::auto_detect) {
            f = magnitude < 100'000'000'000LL           ? TimeFormat::epoch_s
                : magnitude < 100'000'000'000'000LL     ? TimeFormat::epoch_ms
                : magnitude < 100'000'000'000'000'000LL ? TimeFormat::epoch_us
                                                        : TimeFormat::epoch_ns;
        }
        switch (f) {
            case TimeFormat::epoch_s:
                if (magnitude > 1'000'000'000'000LL) {
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
