// Event time: when a message's reading was taken, from a configured payload field, as epoch
// milliseconds — and the `event_time:` block that says where to find it and how late data is
// handled.
//
//   event_time:
//     field: timestamp          # a path or formula; omitted: the arrival time
//     format: auto              # auto | epoch_s | epoch_ms | epoch_us | epoch_ns | iso8601
//     allowed_lateness: 10s     # older than the key's newest event time minus this: late
//     late: dead_letter         # dead_letter | drop
//     clock: wall               # processing time for timers: wall | event (replay)
//     max_keys: 100000          # keys whose newest event time is remembered
#pragma once

#include <cstdint>
#include <optional>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "lang/expr/value.h"
#include "lang/transform/formula.h"

namespace edgeflow {

enum class TimeFormat { auto_detect, epoch_s, epoch_ms, epoch_us, epoch_ns, iso8601 };

/// Processing time: the wall clock, or (when replaying recorded data) the newest event time
/// seen so far, which makes timers and detection times repeatable.
enum class ClockMode { wall, event };

enum class LatePolicy { dead_letter, drop };

struct EventTimeConfig {
    std::optional<transform::FormulaSpec> field;  ///< none: arrival time
    TimeFormat format = TimeFormat::auto_detect;
    std::int64_t allowed_lateness_ms = 10'000;
    LatePolicy late = LatePolicy::dead_letter;
    ClockMode clock = ClockMode::wall;
    std::uint64_t max_keys = 100'000;

    /// Reads the top-level `event_time:` block (defaults when absent).
    static EventTimeConfig parse(const ConfigNode* node, ConfigErrors& errors);
};

/// Converts a timestamp value to epoch milliseconds. Numbers: seconds, milliseconds,
/// microseconds or nanoseconds since the epoch (auto picks by magnitude: below 1e11 seconds,
/// below 1e14 ms, below 1e17 µs, else ns); strings: ISO 8601 / RFC 3339. False when the value
/// is not a timestamp in `format`.
bool event_time_ms(const expr::Value& value, TimeFormat format, std::int64_t& out) noexcept;

}  // namespace edgeflow
