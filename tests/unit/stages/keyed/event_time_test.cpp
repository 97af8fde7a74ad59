#include "stages/keyed/event_time.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/config/map_reader.h"
#include "core/config/yaml_loader.h"

namespace edgeflow {
namespace {

using expr::Value;

constexpr std::int64_t unset = 123;

// The milliseconds `value` converts to in `format`, or nullopt when it is refused.
std::optional<std::int64_t> ms(const Value& value, TimeFormat format = TimeFormat::auto_detect) {
    std::int64_t out = unset;
    if (!event_time_ms(value, format, out)) {
        return std::nullopt;
    }
    return out;
}

// 2024-01-01T00:00:00Z is 1704067200 s since the epoch.
constexpr std::int64_t jan1_2024_s = 1'704'067'200;

TEST(EventTimeMs, AutoDetectsTheUnitOfIntegers) {
    EXPECT_EQ(ms(Value::of_int(jan1_2024_s)), jan1_2024_s * 1000);
    EXPECT_EQ(ms(Value::of_int(1'704'067'200'123)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_int(1'704'067'200'123'456)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_int(1'704'067'200'123'456'789)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_int(0)), 0);
}

TEST(EventTimeMs, AutoDetectionBoundaries) {
    // Below 1e11: seconds; below 1e14: ms; below 1e17: µs; then ns.
    EXPECT_EQ(ms(Value::of_int(99'999'999'999)), 99'999'999'999'000);
    EXPECT_EQ(ms(Value::of_int(100'000'000'000)), 100'000'000'000);
    EXPECT_EQ(ms(Value::of_int(99'999'999'999'999)), 99'999'999'999'999);
    EXPECT_EQ(ms(Value::of_int(100'000'000'000'000)), 100'000'000'000);
    EXPECT_EQ(ms(Value::of_int(99'999'999'999'999'999)), 99'999'999'999'999);
    EXPECT_EQ(ms(Value::of_int(100'000'000'000'000'000)), 100'000'000'000);
}

TEST(EventTimeMs, ExplicitUnits) {
    const Value v = Value::of_int(1'704'067'200);
    EXPECT_EQ(ms(v, TimeFormat::epoch_s), 1'704'067'200'000);
    EXPECT_EQ(ms(v, TimeFormat::epoch_ms), 1'704'067'200);
    EXPECT_EQ(ms(v, TimeFormat::epoch_us), 1'704'067);
    EXPECT_EQ(ms(v, TimeFormat::epoch_ns), 1'704);
    // An explicit unit wins over the magnitude.
    EXPECT_EQ(ms(Value::of_int(5), TimeFormat::epoch_ms), 5);
    EXPECT_EQ(ms(Value::of_int(1'704'067'200'123), TimeFormat::epoch_us), 1'704'067'200);
}

TEST(EventTimeMs, NegativeIntegersFloorTowardTheEarlierMillisecond) {
    EXPECT_EQ(ms(Value::of_int(-5)), -5000);
    EXPECT_EQ(ms(Value::of_int(-1'704'067'200'123)), -1'704'067'200'123);
    // -1 µs and -1 ns are in the millisecond before the epoch.
    EXPECT_EQ(ms(Value::of_int(-1), TimeFormat::epoch_us), -1);
    EXPECT_EQ(ms(Value::of_int(-1), TimeFormat::epoch_ns), -1);
    EXPECT_EQ(ms(Value::of_int(-1000), TimeFormat::epoch_us), -1);
    EXPECT_EQ(ms(Value::of_int(-1001), TimeFormat::epoch_us), -2);
    EXPECT_EQ(ms(Value::of_int(-1'704'067'200'123'456)), -1'704'067'200'124);
}

TEST(EventTimeMs, ExtremeIntegers) {
    constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
    constexpr auto highest = std::numeric_limits<std::int64_t>::max();
    // By magnitude these are nanoseconds: floor(-9223372036854775808 / 1e6).
    EXPECT_EQ(ms(Value::of_int(lowest)), -9'223'372'036'855);
    EXPECT_EQ(ms(Value::of_int(highest)), 9'223'372'036'854);
    // As seconds they are far outside any date: refused, never overflowed.
    EXPECT_EQ(ms(Value::of_int(lowest), TimeFormat::epoch_s), std::nullopt);
    EXPECT_EQ(ms(Value::of_int(highest), TimeFormat::epoch_s), std::nullopt);
    EXPECT_EQ(ms(Value::of_int(-2'000'000'000'000), TimeFormat::epoch_s), std::nullopt);
    EXPECT_EQ(ms(Value::of_int(1'000'000'000'000), TimeFormat::epoch_s), 1'000'000'000'000'000);
}

TEST(EventTimeMs, Floats) {
    EXPECT_EQ(ms(Value::of_float(1'704'067'200.5)), 1'704'067'200'500);
    EXPECT_EQ(ms(Value::of_float(1'704'067'200.0)), 1'704'067'200'000);
    EXPECT_EQ(ms(Value::of_float(1'704'067'200'123.9)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_float(1.7040672001234e15)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_float(-1.5)), -1500);
    EXPECT_EQ(ms(Value::of_float(-0.0015)), -2);  // -1.5 ms floors to -2
    EXPECT_EQ(ms(Value::of_float(2.5), TimeFormat::epoch_ms), 2);
}

TEST(EventTimeMs, FloatSecondsKeepTheirMilliseconds) {
    // 1704067200.123 has no exact double (it is held a little below): still 123 ms, not 122.
    EXPECT_EQ(ms(Value::of_float(1'704'067'200.123)), 1'704'067'200'123);
    EXPECT_EQ(ms(Value::of_float(1'700'000'000.123)), 1'700'000'000'123);
    EXPECT_EQ(ms(Value::of_float(1'700'000'000.001)), 1'700'000'000'001);
    EXPECT_EQ(ms(Value::of_float(0.007)), 7);
    EXPECT_EQ(ms(Value::of_float(-0.007)), -7);
    EXPECT_EQ(ms(Value::of_float(1'700'000'000'123.456), TimeFormat::epoch_ms), 1'700'000'000'123);
}

TEST(EventTimeMs, Iso8601Strings) {
    EXPECT_EQ(ms(Value::of_string("2024-01-01T00:00:00Z")), jan1_2024_s * 1000);
    // 2024-02-29 is day 31 + 28 of 2024: 1704067200 + 59 * 86400 + 12:30:45.
    EXPECT_EQ(ms(Value::of_string("2024-02-29T12:30:45.678Z")), 1'709'209'845'678);
    EXPECT_EQ(ms(Value::of_string("2024-01-01T01:00:00+01:00")), jan1_2024_s * 1000);
    EXPECT_EQ(ms(Value::of_string("2024-01-01")), jan1_2024_s * 1000);
    EXPECT_EQ(ms(Value::of_string("2024-01-01T00:00:00Z"), TimeFormat::iso8601),
              jan1_2024_s * 1000);
    EXPECT_EQ(ms(Value::of_string("1969-12-31T23:59:59.999Z")), -1);
}

TEST(EventTimeMs, RejectedValues) {
    EXPECT_EQ(ms(Value::missing()), std::nullopt);
    EXPECT_EQ(ms(Value::null()), std::nullopt);
    EXPECT_EQ(ms(Value::of_bool(true)), std::nullopt);
    EXPECT_EQ(ms(Value::of_string("yesterday")), std::nullopt);
    EXPECT_EQ(ms(Value::of_string("1704067200")), std::nullopt);  // digits in text: not ISO
    EXPECT_EQ(ms(Value::of_string("2024-13-01T00:00:00Z")), std::nullopt);
    EXPECT_EQ(ms(Value::of_string(" 2024-01-01T00:00:00Z")), std::nullopt);
    EXPECT_EQ(ms(Value::of_float(std::nan(""))), std::nullopt);
    EXPECT_EQ(ms(Value::of_float(std::numeric_limits<double>::infinity())), std::nullopt);
    EXPECT_EQ(ms(Value::of_float(1e300)), std::nullopt);
    EXPECT_EQ(ms(Value::of_float(1e300), TimeFormat::epoch_s), std::nullopt);
    EXPECT_EQ(ms(Value::error("bad")), std::nullopt);
    // The format says which kind of value is accepted.
    EXPECT_EQ(ms(Value::of_int(jan1_2024_s), TimeFormat::iso8601), std::nullopt);
    EXPECT_EQ(ms(Value::of_float(1.5), TimeFormat::iso8601), std::nullopt);
    EXPECT_EQ(ms(Value::of_string("2024-01-01T00:00:00Z"), TimeFormat::epoch_ms), std::nullopt);
}

TEST(EventTimeMs, ARefusedValueLeavesTheOutputAlone) {
    std::int64_t out = 77;
    EXPECT_FALSE(event_time_ms(Value::of_string("nope"), TimeFormat::auto_detect, out));
    EXPECT_FALSE(event_time_ms(Value::of_float(std::nan("")), TimeFormat::auto_detect, out));
    EXPECT_EQ(out, 77);
}

// ---- Durations, as every `event_time`, lkv and heuristics key reads them ----------------------

struct Read {
    std::int64_t ms = -1;
    std::string errors;
};

Read duration(std::string_view value, std::int64_t min_ms = 0,
              std::int64_t max_ms = 365LL * 86'400'000) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text("d: " + std::string(value) + "\n", errors);
    EXPECT_TRUE(node.has_value()) << errors.to_string();
    Read out;
    if (node) {
        MapReader reader(*node, errors, "a test block");
        reader.optional_duration("d", out.ms, min_ms, max_ms);
        reader.finish();
    }
    out.errors = errors.to_string();
    return out;
}

TEST(Duration, Units) {
    EXPECT_EQ(duration("250ms").ms, 250);
    EXPECT_EQ(duration("10s").ms, 10'000);
    EXPECT_EQ(duration("5m").ms, 300'000);
    EXPECT_EQ(duration("2h").ms, 7'200'000);
    EXPECT_EQ(duration("1d").ms, 86'400'000);
    EXPECT_EQ(duration("0s").ms, 0);
    EXPECT_EQ(duration("250ms").errors, "");
}

TEST(Duration, BadValuesAreErrorsAndLeaveTheDefault) {
    for (const char* bad : {"10", "10 s", "10sec", "1.5s", "-5s", "10S", "s", "ms", "'10s '",
                            "10ms5", "[10s]", "{a: 1}", "1e3ms", "0x10s"}) {
        const Read r = duration(bad);
        EXPECT_EQ(r.ms, -1) << bad;
        EXPECT_NE(r.errors.find("test.yaml:1:4: d: expected a duration from 0ms to "
                                "31536000000ms, with a unit (250ms, 10s, 5m, 2h, 1d)"),
                  std::string::npos)
            << bad << " → " << r.errors;
    }
}

TEST(Duration, OutsideTheRangeIsAnError) {
    EXPECT_EQ(duration("2d", 0, 86'400'000).ms, -1);
    EXPECT_EQ(duration("1d", 0, 86'400'000).ms, 86'400'000);
    EXPECT_EQ(duration("0ms", 1, 1000).ms, -1);
    EXPECT_EQ(duration("1ms", 1, 1000).ms, 1);
}

TEST(Duration, HugeCountsAreRefusedNotWrapped) {
    // 213503982335 days is just over 2^64 ms: wrapped, it would read as about 9.6 hours.
    EXPECT_EQ(duration("213503982335d").ms, -1);
    EXPECT_EQ(duration("999999999999d").ms, -1);
    EXPECT_EQ(duration("999999999999h").ms, -1);
    EXPECT_EQ(duration("9999999999999ms").ms, -1);  // more digits than any duration needs
}

TEST(Duration, RequiredDurationReportsItsAbsence) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text("other: 1\n", errors);
    ASSERT_TRUE(node.has_value());
    MapReader reader(*node, errors, "a test block");
    std::int64_t ms = 5;
    EXPECT_FALSE(reader.required_duration("after", ms, 1, 1000));
    reader.get("other");
    reader.finish();
    EXPECT_EQ(ms, 5);
    EXPECT_NE(errors.to_string().find("after"), std::string::npos) << errors.to_string();
    EXPECT_EQ(errors.size(), 1u);

    ConfigErrors errors2("test.yaml");
    auto present = load_yaml_text("after: 2s\n", errors2);
    ASSERT_TRUE(present.has_value());
    MapReader reader2(*present, errors2, "a test block");
    EXPECT_TRUE(reader2.required_duration("after", ms, 1, 10'000));
    EXPECT_EQ(ms, 2000);
    EXPECT_FALSE(reader2.required_duration("after", ms, 1, 1000));  // 2s is above 1000ms
}

// ---- The event_time block ----------------------------------------------------------------------

TEST(EventTimeConfig, DefaultsWhenAbsent) {
    ConfigErrors errors("test.yaml");
    const EventTimeConfig c = EventTimeConfig::parse(nullptr, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_FALSE(c.field.has_value());
    EXPECT_EQ(c.format, TimeFormat::auto_detect);
    EXPECT_EQ(c.allowed_lateness_ms, 10'000);
    EXPECT_EQ(c.late, LatePolicy::dead_letter);
    EXPECT_EQ(c.clock, ClockMode::wall);
    EXPECT_EQ(c.max_keys, 100'000u);
}

TEST(EventTimeConfig, ReadsEveryKey) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text(
        "field: ts\nformat: epoch_ms\nallowed_lateness: 5s\nlate: drop\nclock: event\n"
        "max_keys: 10\n",
        errors);
    ASSERT_TRUE(node.has_value());
    const EventTimeConfig c = EventTimeConfig::parse(&*node, errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    ASSERT_TRUE(c.field.has_value());
    EXPECT_EQ(c.field->inputs, std::vector<std::string>{"ts"});
    EXPECT_EQ(c.format, TimeFormat::epoch_ms);
    EXPECT_EQ(c.allowed_lateness_ms, 5000);
    EXPECT_EQ(c.late, LatePolicy::drop);
    EXPECT_EQ(c.clock, ClockMode::event);
    EXPECT_EQ(c.max_keys, 10u);
}

TEST(EventTimeConfig, UnknownKeysAndBadChoicesAreErrors) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text("format: epoch_minutes\nlate: ignore\nlatenes: 5s\n", errors);
    ASSERT_TRUE(node.has_value());
    const EventTimeConfig c = EventTimeConfig::parse(&*node, errors);
    EXPECT_EQ(errors.size(), 3u) << errors.to_string();
    EXPECT_EQ(c.format, TimeFormat::auto_detect);
    EXPECT_EQ(c.late, LatePolicy::dead_letter);
}

}  // namespace
}  // namespace edgeflow
