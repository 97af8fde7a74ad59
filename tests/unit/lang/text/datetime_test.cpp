#include "lang/text/datetime.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "tests/support/malloc_counter.h"

namespace edgeflow::dt {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t day_ms = 86'400'000;

// Reference instants, computed outside this code (Python's datetime).
constexpr std::int64_t at_2026_11_24_101530_123 = 1'795'515'330'123;  // a Tuesday, day 328
constexpr std::int64_t at_2026_11_24 = 1'795'478'400'000;
constexpr std::int64_t at_2026_11_24_08 = 1'795'507'200'000;
constexpr std::int64_t at_0000_01_01 = -62'167'219'200'000;
constexpr std::int64_t at_9999_12_31_end = 253'402'300'799'999;
constexpr std::int64_t at_2000_02_29 = 951'782'400'000;
constexpr std::int64_t at_2016_12_31_end = 1'483'228'799'999;
constexpr std::int64_t at_1900_03_01_12 = -2'203'848'000'000;
constexpr std::int64_t at_1969_07_20_201740 = -14'182'940'000;

std::optional<std::int64_t> iso(std::string_view text) {
    std::int64_t ms = 0;
    if (!parse_iso8601(text, ms)) {
        return std::nullopt;
    }
    return ms;
}

std::optional<std::int64_t> with_format(std::string_view text, std::string_view format) {
    std::int64_t ms = 0;
    if (!parse_with_format(text, format, ms)) {
        return std::nullopt;
    }
    return ms;
}

std::string formatted(std::int64_t epoch_ms, std::string_view fmt) {
    std::array<char, 256> buffer{};
    const std::size_t n = format(epoch_ms, fmt, buffer.data(), buffer.size());
    return std::string(buffer.data(), n);
}

TEST(DateTimeParseIso8601, DateAloneIsMidnightUtc) {
    EXPECT_EQ(iso("1970-01-01"), 0);
    EXPECT_EQ(iso("2026-11-24"), at_2026_11_24);
    EXPECT_EQ(iso("20261124"), at_2026_11_24);
}

TEST(DateTimeParseIso8601, ExtendedTimeForms) {
    EXPECT_EQ(iso("2026-11-24T10:15"), at_2026_11_24_101530_123 - 30'123);
    EXPECT_EQ(iso("2026-11-24T10:15:30"), at_2026_11_24_101530_123 - 123);
    EXPECT_EQ(iso("2026-11-24T10:15:30.123"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("2026-11-24T10:15:30.123Z"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("2026-11-24t10:15:30.123z"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("2026-11-24 10:15:30.123Z"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("2026-11-24T10:15:30,123Z"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("2026-11-24T10:15Z"), at_2026_11_24_101530_123 - 30'123);
}

TEST(DateTimeParseIso8601, BasicFormat) {
    EXPECT_EQ(iso("20261124T101530Z"), at_2026_11_24_101530_123 - 123);
    EXPECT_EQ(iso("20261124t101530.123z"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("20261124T1015"), at_2026_11_24_101530_123 - 30'123);
    EXPECT_EQ(iso("20261124T121530.123+0200"), at_2026_11_24_101530_123);
    EXPECT_EQ(iso("20261124T121530.123+02:00"), at_2026_11_24_101530_123);
}

TEST(DateTimeParseIso8601, OffsetsShiftToUtc) {
    EXPECT_EQ(iso("2026-11-24T10:00:00+02:00"), at_2026_11_24_08);
    EXPECT_EQ(iso("2026-11-24T10:00:00+0200"), at_2026_11_24_08);
    EXPECT_EQ(iso("2026-11-24T10:00:00+02"), at_2026_11_24_08);
    EXPECT_EQ(iso("2026-11-24T02:30:00-05:30"), at_2026_11_24_08);
    EXPECT_EQ(iso("2026-11-24T08:00:00-00:00"), at_2026_11_24_08);
    EXPECT_EQ(iso("2026-11-24T08:00:00+00:00"), at_2026_11_24_08);
    // An offset can move the instant across a day and a year boundary.
    EXPECT_EQ(iso("2027-01-01T01:00:00+23:59"), iso("2026-12-31T01:01:00Z"));
    EXPECT_EQ(iso("1970-01-01T00:00:00+01:00"), -3'600'000);
}

TEST(DateTimeParseIso8601, FractionKeepsMillisecondsAndFloors) {
    EXPECT_EQ(iso("1970-01-01T00:00:00.1Z"), 100);
    EXPECT_EQ(iso("1970-01-01T00:00:00.12Z"), 120);
    EXPECT_EQ(iso("1970-01-01T00:00:00.123Z"), 123);
    EXPECT_EQ(iso("1970-01-01T00:00:00.1239Z"), 123);
    EXPECT_EQ(iso("1970-01-01T00:00:00.123999999999999999999Z"), 123);
    EXPECT_EQ(iso("1970-01-01T00:00:00.000999Z"), 0);
    EXPECT_EQ(iso("1970-01-01T00:00:00.0001Z"), 0);
    // Before the epoch, flooring goes away from zero: the instant -0.1 ms is in millisecond -1.
    EXPECT_EQ(iso("1969-12-31T23:59:59.999Z"), -1);
    EXPECT_EQ(iso("1969-12-31T23:59:59.9999Z"), -1);
    EXPECT_EQ(iso("1969-12-31T23:59:59Z"), -1000);
    EXPECT_EQ(iso("1969-12-31T23:59:59.001Z"), -999);
}

TEST(DateTimeParseIso8601, NegativeEpochs) {
    EXPECT_EQ(iso("1969-12-31"), -day_ms);
    EXPECT_EQ(iso("1969-07-20T20:17:40Z"), at_1969_07_20_201740);
    EXPECT_EQ(iso("1900-03-01T12:00:00Z"), at_1900_03_01_12);
    EXPECT_EQ(iso("0000-01-01T00:00:00Z"), at_0000_01_01);
    EXPECT_EQ(iso("9999-12-31T23:59:59.999Z"), at_9999_12_31_end);
}

TEST(DateTimeParseIso8601, LeapYears) {
    EXPECT_EQ(iso("2000-02-29"), at_2000_02_29);  // divisible by 400
    EXPECT_TRUE(iso("2024-02-29"));
    EXPECT_TRUE(iso("0000-02-29"));
    EXPECT_TRUE(iso("1600-02-29"));
    EXPECT_FALSE(iso("1900-02-29"));  // divisible by 100, not 400
    EXPECT_FALSE(iso("2100-02-29"));
    EXPECT_FALSE(iso("2023-02-29"));
    EXPECT_FALSE(iso("2024-02-30"));
    EXPECT_EQ(iso("2000-03-01"), at_2000_02_29 + day_ms);
}

TEST(DateTimeParseIso8601, DaysPerMonth) {
    constexpr std::array<int, 12> days_per_month = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int month = 1; month <= 12; ++month) {
        const int last = days_per_month[static_cast<std::size_t>(month - 1)];
        std::array<char, 32> text{};
        std::snprintf(text.data(), text.size(), "2026-%02d-%02d", month, last);
        EXPECT_TRUE(iso(text.data())) << text.data();
        std::snprintf(text.data(), text.size(), "2026-%02d-%02d", month, last + 1);
        EXPECT_FALSE(iso(text.data())) << text.data();
    }
}

TEST(DateTimeParseIso8601, LeapSecondIsLastMillisecondOfTheMinute) {
    EXPECT_EQ(iso("2016-12-31T23:59:60Z"), at_2016_12_31_end);
    EXPECT_EQ(iso("2016-12-31T23:59:60.5Z"), at_2016_12_31_end);
    EXPECT_EQ(iso("2017-01-01T00:59:60+01:00"), at_2016_12_31_end);
    EXPECT_LT(*iso("2016-12-31T23:59:59.998Z"), *iso("2016-12-31T23:59:60Z"));
    EXPECT_LT(*iso("2016-12-31T23:59:60Z"), *iso("2017-01-01T00:00:00Z"));
    EXPECT_FALSE(iso("2016-12-31T23:59:61Z"));
}

TEST(DateTimeParseIso8601, RejectsOutOfRangeFields) {
    for (const char* text :
         {"2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31", "2026-11-24T25:00",
          "2026-11-24T24:00", "2026-11-24T24:00:00", "2026-11-24T10:60", "2026-11-24T10:15:99",
          "2026-11-24T10:00+24:00", "2026-11-24T10:00+02:60", "2026-11-24T10:00+9999"}) {
        EXPECT_FALSE(iso(text)) << text;
    }
}

TEST(DateTimeParseIso8601, RejectsMalformedText) {
    for (const char* text : {"",
                             " ",
                             "2026",
                             "2026-11",
                             "202611",
                             "2026-11-24T",
                             "2026-11-24T10",
                             "2026-11-24T10:1",
                             "2026-11-24T10:15:3",
                             "2026-11-24T10:15:30.",
                             "2026-11-24T10:15.5",
                             "2026-11-24Z",
                             "2026-11-24+02:00",
                             " 2026-11-24",
                             "2026-11-24 ",
                             "2026-11-24T10:15Z ",
                             "2026-11-24T10:15:30Zjunk",
                             "2026-11-24T10:15:30.123.4",
                             "2026-11-24T10:15:30+2",
                             "2026-11-24T10:15:30+02:0",
                             "2026-11-24T10:15:30+021",
                             "2026-11-24T10:15:30 Z",
                             "2026-1-24",
                             "26-11-24",
                             "2026/11/24",
                             "-2026-11-24",
                             "+2026-11-24",
                             "12026-11-24",
                             "2026-11-24T10:15:30.Z",
                             "20261124T10:15:30",
                             "2026-11-24T101530",
                             "2026-1124",
                             "202611-24",
                             "20261124 101530",
                             "2026-11-24_10:15",
                             "2026-11-24T10:15:30Z\n",
                             "２０２６-11-24"}) {
        EXPECT_FALSE(iso(text)) << '"' << text << '"';
    }
    // An embedded NUL is text like any other, not an end.
    EXPECT_FALSE(iso(std::string_view("2026-11-24\0", 11)));
    EXPECT_FALSE(iso(std::string_view("2026-11-24T10:15:30\0Z", 21)));
}

TEST(DateTimeParseIso8601, FailureLeavesOutputUnchanged) {
    std::int64_t ms = 42;
    EXPECT_FALSE(parse_iso8601("2026-13-01", ms));
    EXPECT_FALSE(parse_iso8601("garbage", ms));
    EXPECT_EQ(ms, 42);
}

// Walks every day of years 0000-9999 with a plain day-by-day calendar and checks parts(), the
// ISO text and the parse back against it.
TEST(DateTimeCalendar, EveryDayOfTenThousandYearsAgreesWithACountedCalendar) {
    const auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
    int year = 0;
    int month = 1;
    int day = 1;
    int day_of_year = 1;
    int weekday = 6;  // 0000-01-01 was a Saturday (proleptic Gregorian)
    std::int64_t ms = at_0000_01_01;
    std::array<char, 64> text{};
    int failures = 0;
    while (year <= 9999 && failures < 5) {
        const std::int64_t at =
            ms + (std::int64_t{day} * 7919 % day_ms);  // some time of day, varying
        const Parts p = parts(at);
        if (p.year != year || p.month != month || p.day != day || p.day_of_year != day_of_year ||
            p.weekday != weekday) {
            ADD_FAILURE() << "parts(" << at << ") = " << p.year << '-' << p.month << '-' << p.day
                          << " doy " << p.day_of_year << " wd " << p.weekday << ", expected "
                          << year << '-' << month << '-' << day;
            ++failures;
        }
        const std::size_t n = format(at, "iso", text.data(), text.size());
        std::int64_t back = 0;
        if (n != 24 || !parse_iso8601(std::string_view(text.data(), n), back) || back != at) {
            ADD_FAILURE() << "round trip of " << at << " via " << std::string(text.data(), n);
            ++failures;
        }
        ms += day_ms;
        weekday = weekday % 7 + 1;
        ++day_of_year;
        const int month_days = month == 2 ? (leap(year) ? 29 : 28)
                               : (month == 4 || month == 6 || month == 9 || month == 11) ? 30
                                                                                         : 31;
        if (++day > month_days) {
            day = 1;
            if (++month > 12) {
                month = 1;
                ++year;
                day_of_year = 1;
            }
        }
    }
    EXPECT_EQ(ms, at_9999_12_31_end + 1);
}

// Random instants across years 0000-9999, checked against glibc's gmtime_r (UTC, independent of
// TZ) and round-tripped through format and both parsers.
TEST(DateTimeCalendar, RandomInstantsAgreeWithGmtimeAndRoundTrip) {
    std::mt19937_64 random(20261124);
    std::uniform_int_distribution<std::int64_t> instant(at_0000_01_01, at_9999_12_31_end);
    constexpr std::array<std::int64_t, 4> edges = {at_0000_01_01, at_9999_12_31_end, -1, 0};
    std::array<char, 64> text{};
    for (std::size_t i = 0; i < 200'000; ++i) {
        const std::int64_t ms = i < edges.size() ? edges[i] : instant(random);
        const std::time_t seconds =
            static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        std::tm tm{};
        ASSERT_NE(gmtime_r(&seconds, &tm), nullptr);
        const Parts p = parts(ms);
        ASSERT_EQ(p.year, tm.tm_year + 1900) << ms;
        ASSERT_EQ(p.month, tm.tm_mon + 1) << ms;
        ASSERT_EQ(p.day, tm.tm_mday) << ms;
        ASSERT_EQ(p.hour, tm.tm_hour) << ms;
        ASSERT_EQ(p.minute, tm.tm_min) << ms;
        ASSERT_EQ(p.second, tm.tm_sec) << ms;
        ASSERT_EQ(p.millisecond, ((ms % 1000) + 1000) % 1000) << ms;
        ASSERT_EQ(p.day_of_year, tm.tm_yday + 1) << ms;
        ASSERT_EQ(p.weekday % 7, tm.tm_wday) << ms;

        std::int64_t back = 0;
        std::size_t n = format(ms, "iso", text.data(), text.size());
        ASSERT_TRUE(parse_iso8601(std::string_view(text.data(), n), back)) << text.data();
        ASSERT_EQ(back, ms);
        n = format(ms, "%Y%m%dT%H%M%S.%f%z", text.data(), text.size());
        ASSERT_TRUE(parse_iso8601(std::string_view(text.data(), n), back)) << text.data();
        ASSERT_EQ(back, ms);
        n = format(ms, "%d %b %Y %H:%M:%S.%f", text.data(), text.size());
        ASSERT_TRUE(
            parse_with_format(std::string_view(text.data(), n), "%d %b %Y %H:%M:%S.%f", back))
            << text.data();
        ASSERT_EQ(back, ms);
    }
}

TEST(DateTimeParts, KnownInstants) {
    const Parts p = parts(at_2026_11_24_101530_123);
    EXPECT_EQ(p.year, 2026);
    EXPECT_EQ(p.month, 11);
    EXPECT_EQ(p.day, 24);
    EXPECT_EQ(p.hour, 10);
    EXPECT_EQ(p.minute, 15);
    EXPECT_EQ(p.second, 30);
    EXPECT_EQ(p.millisecond, 123);
    EXPECT_EQ(p.weekday, 2);
    EXPECT_EQ(p.day_of_year, 328);

    const Parts before = parts(-1);
    EXPECT_EQ(before.year, 1969);
    EXPECT_EQ(before.month, 12);
    EXPECT_EQ(before.day, 31);
    EXPECT_EQ(before.hour, 23);
    EXPECT_EQ(before.minute, 59);
    EXPECT_EQ(before.second, 59);
    EXPECT_EQ(before.millisecond, 999);
    EXPECT_EQ(before.weekday, 3);  // Wednesday
    EXPECT_EQ(before.day_of_year, 365);

    EXPECT_EQ(parts(*iso("2024-12-31")).day_of_year, 366);
    EXPECT_EQ(parts(*iso("2026-11-29")).weekday, 7);
}

TEST(DateTimeParts, DefinedForTheWholeInt64Range) {
    // The limits of Java's Instant.ofEpochMilli, a second implementation to agree with.
    const Parts max = parts(int64_max);  // +292278994-08-17T07:12:55.807Z
    EXPECT_EQ(max.year, 292'278'994);
    EXPECT_EQ(max.month, 8);
    EXPECT_EQ(max.day, 17);
    EXPECT_EQ(max.hour, 7);
    EXPECT_EQ(max.minute, 12);
    EXPECT_EQ(max.second, 55);
    EXPECT_EQ(max.millisecond, 807);
    const Parts min = parts(int64_min);  // -292275055-05-16T16:47:04.192Z
    EXPECT_EQ(min.year, -292'275'055);
    EXPECT_EQ(min.month, 5);
    EXPECT_EQ(min.day, 16);
    EXPECT_EQ(min.hour, 16);
    EXPECT_EQ(min.minute, 47);
    EXPECT_EQ(min.second, 4);
    EXPECT_EQ(min.millisecond, 192);
    EXPECT_EQ(formatted(int64_max, "%Y-%m-%d %s"), "292278994-08-17 9223372036854775");
    EXPECT_EQ(formatted(int64_min, "%Y-%m-%d %s"), "-292275055-05-16 -9223372036854776");
}

TEST(DateTimeFormat, IsoIsRfc3339WithMilliseconds) {
    EXPECT_EQ(formatted(at_2026_11_24_101530_123, "iso"), "2026-11-24T10:15:30.123Z");
    EXPECT_EQ(formatted(at_2026_11_24_101530_123, ""), "2026-11-24T10:15:30.123Z");
    EXPECT_EQ(formatted(0, "iso"), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(formatted(-1, "iso"), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(formatted(at_0000_01_01, "iso"), "0000-01-01T00:00:00.000Z");
    EXPECT_EQ(formatted(at_9999_12_31_end, "iso"), "9999-12-31T23:59:59.999Z");
}

TEST(DateTimeFormat, IsoRefusesYearsItCannotWrite) {
    EXPECT_EQ(formatted(at_9999_12_31_end + 1, "iso"), "");
    EXPECT_EQ(formatted(at_0000_01_01 - 1, "iso"), "");
    EXPECT_EQ(formatted(at_9999_12_31_end + 1, "%Y-%m-%d"), "10000-01-01");
    EXPECT_EQ(formatted(at_0000_01_01 - 1, "%Y-%m-%d"), "-0001-12-31");
}

TEST(DateTimeFormat, EverySpecifier) {
    const std::int64_t t = at_2026_11_24_101530_123;  // Tuesday 2026-11-24T10:15:30.123Z
    EXPECT_EQ(formatted(t, "%Y"), "2026");
    EXPECT_EQ(formatted(t, "%y"), "26");
    EXPECT_EQ(formatted(t, "%m"), "11");
    EXPECT_EQ(formatted(t, "%d"), "24");
    EXPECT_EQ(formatted(t, "%e"), "24");
    EXPECT_EQ(formatted(t, "%H"), "10");
    EXPECT_EQ(formatted(t, "%M"), "15");
    EXPECT_EQ(formatted(t, "%S"), "30");
    EXPECT_EQ(formatted(t, "%f"), "123");
    EXPECT_EQ(formatted(t, "%j"), "328");
    EXPECT_EQ(formatted(t, "%u"), "2");
    EXPECT_EQ(formatted(t, "%w"), "2");
    EXPECT_EQ(formatted(t, "%a"), "Tue");
    EXPECT_EQ(formatted(t, "%A"), "Tuesday");
    EXPECT_EQ(formatted(t, "%b"), "Nov");
    EXPECT_EQ(formatted(t, "%B"), "November");
    EXPECT_EQ(formatted(t, "%z"), "+0000");
    EXPECT_EQ(formatted(t, "%s"), "1795515330");
    EXPECT_EQ(formatted(t, "%%"), "%");
    EXPECT_EQ(formatted(t, "at %H:%M on %A, %e %B %Y (100%%)"),
              "at 10:15 on Tuesday, 24 November 2026 (100%)");

    // Padding, Sunday, and small values.
    const std::int64_t sunday = *iso("2005-01-02T03:04:05.006Z");
    EXPECT_EQ(formatted(sunday, "%y|%m|%d|%e|%H|%M|%S|%f|%j"), "05|01|02| 2|03|04|05|006|002");
    EXPECT_EQ(formatted(sunday, "%u %w %a %A %b %B"), "7 0 Sun Sunday Jan January");
    EXPECT_EQ(formatted(*iso("0009-03-01"), "%Y %y"), "0009 09");
    EXPECT_EQ(formatted(at_0000_01_01 - 1, "%y"), "99");  // year -1

    // Epoch seconds floor, like every other field.
    EXPECT_EQ(formatted(-1, "%s"), "-1");
    EXPECT_EQ(formatted(-1000, "%s"), "-1");
    EXPECT_EQ(formatted(-1001, "%s"), "-2");
    EXPECT_EQ(formatted(999, "%s"), "0");
}

TEST(DateTimeFormat, RejectsUnknownConversions) {
    EXPECT_EQ(formatted(0, "%Q"), "");
    EXPECT_EQ(formatted(0, "%Y-%"), "");
    EXPECT_EQ(formatted(0, "%"), "");
    EXPECT_EQ(formatted(0, "%Y %E"), "");
    EXPECT_EQ(formatted(0, "no conversions"), "no conversions");
    EXPECT_EQ(formatted(0, "ISO"), "ISO");  // only lower-case "iso" is the RFC 3339 shorthand
}

TEST(DateTimeFormat, TooSmallBufferGivesZeroAndStaysInBounds) {
    std::array<char, 32> buffer{};
    for (std::size_t capacity = 0; capacity < 24; ++capacity) {
        buffer.fill('#');
        EXPECT_EQ(format(at_2026_11_24_101530_123, "iso", buffer.data(), capacity), 0u) << capacity;
        for (std::size_t i = capacity; i < buffer.size(); ++i) {
            ASSERT_EQ(buffer[i], '#') << "wrote past capacity " << capacity;
        }
    }
    EXPECT_EQ(format(at_2026_11_24_101530_123, "iso", buffer.data(), 24), 24u);
    EXPECT_EQ(std::string_view(buffer.data(), 24), "2026-11-24T10:15:30.123Z");
    EXPECT_EQ(buffer[24], '#');
    EXPECT_EQ(format(0, "%A", buffer.data(), 7), 0u);
    EXPECT_EQ(format(0, "%A", buffer.data(), 8), 8u);  // Thursday
    EXPECT_EQ(format(0, "%Y", nullptr, 0), 0u);
}

TEST(DateTimeParseWithFormat, NumericFields) {
    EXPECT_EQ(with_format("24/11/2026 10:15", "%d/%m/%Y %H:%M"), at_2026_11_24_101530_123 - 30'123);
    EXPECT_EQ(with_format("20261124101530", "%Y%m%d%H%M%S"), at_2026_11_24_101530_123 - 123);
    EXPECT_EQ(with_format("2026-11-24 10:15:30.123", "%Y-%m-%d %H:%M:%S.%f"),
              at_2026_11_24_101530_123);
    EXPECT_EQ(with_format("2026-11-24 10:15:30.123456", "%Y-%m-%d %H:%M:%S.%f"),
              at_2026_11_24_101530_123);
    EXPECT_EQ(with_format("2026-1-5 1:2:3", "%Y-%m-%d %H:%M:%S"), *iso("2026-01-05T01:02:03Z"));
}

TEST(DateTimeParseWithFormat, Zones) {
    const char* fmt = "%Y-%m-%dT%H:%M:%S%z";
    EXPECT_EQ(with_format("2026-11-24T10:00:00+02:00", fmt), at_2026_11_24_08);
    EXPECT_EQ(with_format("2026-11-24T10:00:00+0200", fmt), at_2026_11_24_08);
    EXPECT_EQ(with_format("2026-11-24T10:00:00+02", fmt), at_2026_11_24_08);
    EXPECT_EQ(with_format("2026-11-24T07:00:00-01:00", fmt), at_2026_11_24_08);
    EXPECT_EQ(with_format("2026-11-24T08:00:00Z", fmt), at_2026_11_24_08);
    EXPECT_EQ(with_format("2026-11-24T08:00:00z", fmt), at_2026_11_24_08);
    EXPECT_FALSE(with_format("2026-11-24T08:00:00", fmt));
    EXPECT_FALSE(with_format("2026-11-24T08:00:00UTC", fmt));
    EXPECT_FALSE(with_format("2026-11-24T08:00:00+25:00", fmt));
}

TEST(DateTimeParseWithFormat, MonthNames) {
    EXPECT_EQ(with_format("24 Nov 2026", "%d %b %Y"), at_2026_11_24);
    EXPECT_EQ(with_format("24 November 2026", "%d %b %Y"), at_2026_11_24);
    EXPECT_EQ(with_format("24 NOVEMBER 2026", "%d %B %Y"), at_2026_11_24);
    EXPECT_EQ(with_format("24 nov 2026", "%d %B %Y"), at_2026_11_24);
    EXPECT_EQ(with_format("May 1 2026", "%b %d %Y"), *iso("2026-05-01"));
    EXPECT_EQ(with_format("Sep/1/2026", "%b/%d/%Y"), *iso("2026-09-01"));
    EXPECT_EQ(with_format("September/1/2026", "%b/%d/%Y"), *iso("2026-09-01"));
    EXPECT_FALSE(with_format("24 Nvm 2026", "%d %b %Y"));
    EXPECT_FALSE(with_format("24 No 2026", "%d %b %Y"));
    EXPECT_FALSE(with_format("24 Sept 2026", "%d %b %Y"));
}

TEST(DateTimeParseWithFormat, MissingFieldsDefaultToTheEpoch) {
    EXPECT_EQ(with_format("10:15", "%H:%M"), 10 * 3'600'000 + 15 * 60'000);
    EXPECT_EQ(with_format("2026", "%Y"), *iso("2026-01-01"));
    EXPECT_EQ(with_format("2026-11", "%Y-%m"), *iso("2026-11-01"));
    EXPECT_EQ(with_format("", ""), 0);
    EXPECT_EQ(with_format("+01:00", "%z"), -3'600'000);
}

TEST(DateTimeParseWithFormat, LiteralsAndPercent) {
    EXPECT_EQ(with_format("100% on 2026-11-24", "100%% on %Y-%m-%d"), at_2026_11_24);
    EXPECT_EQ(with_format("T=2026", "T=%Y"), *iso("2026-01-01"));
    EXPECT_FALSE(with_format("t=2026", "T=%Y"));
    EXPECT_FALSE(with_format("2026-11-24", "%Y/%m/%d"));
}

TEST(DateTimeParseWithFormat, RejectsBadInput) {
    EXPECT_FALSE(with_format("2026-11-24 extra", "%Y-%m-%d"));
    EXPECT_FALSE(with_format("2026-11", "%Y-%m-%d"));
    EXPECT_FALSE(with_format("26-11-24", "%Y-%m-%d"));  // %Y takes 4 digits
    EXPECT_FALSE(with_format("2026-13-24", "%Y-%m-%d"));
    EXPECT_FALSE(with_format("2026-11-31", "%Y-%m-%d"));
    EXPECT_FALSE(with_format("1900-02-29", "%Y-%m-%d"));
    EXPECT_FALSE(with_format("2026-11-24 25:00", "%Y-%m-%d %H:%M"));
    EXPECT_FALSE(with_format("2026-11-24 10:60", "%Y-%m-%d %H:%M"));
    EXPECT_FALSE(with_format("2026-11-24 10:15:30.", "%Y-%m-%d %H:%M:%S.%f"));
    EXPECT_FALSE(with_format("2026-11-24", "%Y-%m-%d %Q"));
    EXPECT_FALSE(with_format("2026", "%Y%"));
    EXPECT_FALSE(with_format("2026-11-24", "%Y-%m-%e"));  // %e is format-only
    EXPECT_FALSE(with_format("", "%Y"));
    EXPECT_FALSE(with_format("x", ""));
    std::int64_t ms = 42;
    EXPECT_FALSE(parse_with_format("2026-13-01", "%Y-%m-%d", ms));
    EXPECT_EQ(ms, 42);
}

TEST(DateTimeParseWithFormat, LeapSecond) {
    EXPECT_EQ(with_format("2016-12-31 23:59:60", "%Y-%m-%d %H:%M:%S"), at_2016_12_31_end);
}

TEST(DateTimeUnits, ParseNames) {
    EpochUnit unit = EpochUnit::ms;
    EXPECT_TRUE(parse_unit("s", unit));
    EXPECT_EQ(unit, EpochUnit::s);
    EXPECT_TRUE(parse_unit("ms", unit));
    EXPECT_EQ(unit, EpochUnit::ms);
    EXPECT_TRUE(parse_unit("us", unit));
    EXPECT_EQ(unit, EpochUnit::us);
    EXPECT_TRUE(parse_unit("ns", unit));
    EXPECT_EQ(unit, EpochUnit::ns);
    for (const char* bad : {"", "S", "MS", "sec", "seconds", "msx", " ms", "µs", "m"}) {
        unit = EpochUnit::ns;
        EXPECT_FALSE(parse_unit(bad, unit)) << bad;
        EXPECT_EQ(unit, EpochUnit::ns);
    }
}

TEST(DateTimeUnits, ConvertGrowsAndShrinks) {
    EXPECT_EQ(convert(1, EpochUnit::s, EpochUnit::ms), 1'000);
    EXPECT_EQ(convert(1, EpochUnit::s, EpochUnit::ns), 1'000'000'000);
    EXPECT_EQ(convert(-2, EpochUnit::ms, EpochUnit::us), -2'000);
    EXPECT_EQ(convert(1'500, EpochUnit::ms, EpochUnit::s), 1);
    EXPECT_EQ(convert(1'795'515'330'123, EpochUnit::ms, EpochUnit::s), 1'795'515'330);
    EXPECT_EQ(convert(1'999'999'999, EpochUnit::ns, EpochUnit::s), 1);
    EXPECT_EQ(convert(123, EpochUnit::us, EpochUnit::ms), 0);
    for (const auto unit : {EpochUnit::s, EpochUnit::ms, EpochUnit::us, EpochUnit::ns}) {
        EXPECT_EQ(convert(int64_min, unit, unit), int64_min);
        EXPECT_EQ(convert(-7, unit, unit), -7);
    }
}

TEST(DateTimeUnits, ShrinkingFloorsTowardNegativeInfinity) {
    EXPECT_EQ(convert(-1, EpochUnit::ms, EpochUnit::s), -1);
    EXPECT_EQ(convert(-999, EpochUnit::ms, EpochUnit::s), -1);
    EXPECT_EQ(convert(-1'000, EpochUnit::ms, EpochUnit::s), -1);
    EXPECT_EQ(convert(-1'001, EpochUnit::ms, EpochUnit::s), -2);
    EXPECT_EQ(convert(-1, EpochUnit::ns, EpochUnit::s), -1);
    EXPECT_EQ(convert(-1, EpochUnit::ns, EpochUnit::ms), -1);
    EXPECT_EQ(convert(int64_min, EpochUnit::ns, EpochUnit::s), -9'223'372'037);
    EXPECT_EQ(convert(int64_max, EpochUnit::ns, EpochUnit::s), 9'223'372'036);
}

TEST(DateTimeUnits, GrowingSaturates) {
    EXPECT_EQ(convert(9'223'372'036'854'775, EpochUnit::ms, EpochUnit::us),
              9'223'372'036'854'775'000);
    EXPECT_EQ(convert(9'223'372'036'854'776, EpochUnit::ms, EpochUnit::us), int64_max);
    EXPECT_EQ(convert(-9'223'372'036'854'775, EpochUnit::ms, EpochUnit::us),
              -9'223'372'036'854'775'000);
    EXPECT_EQ(convert(-9'223'372'036'854'776, EpochUnit::ms, EpochUnit::us), int64_min);
    EXPECT_EQ(convert(int64_max, EpochUnit::s, EpochUnit::ms), int64_max);
    EXPECT_EQ(convert(int64_min, EpochUnit::s, EpochUnit::ns), int64_min);
    EXPECT_EQ(convert(9'223'372'037, EpochUnit::s, EpochUnit::ns), int64_max);
    EXPECT_EQ(convert(9'223'372'036, EpochUnit::s, EpochUnit::ns), 9'223'372'036'000'000'000);
    EXPECT_EQ(convert(-9'223'372'037, EpochUnit::s, EpochUnit::ns), int64_min);
}

TEST(DateTimeNowMs, FollowsTheSystemClock) {
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::int64_t now = now_ms();
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    EXPECT_GE(now, before);
    EXPECT_LE(now, after);
    EXPECT_GT(now, *iso("2024-01-01"));
}

TEST(DateTimeHotPath, AllocatesNothing) {
    if (!test::malloc_counted) {
        GTEST_SKIP() << "allocations are not counted under sanitizers";
    }
    std::array<char, 64> buffer{};
    std::int64_t sink = 0;
    const std::size_t before = test::allocation_count();
    void* volatile probe = std::malloc(16);
    std::free(probe);
    ASSERT_EQ(test::allocation_count(), before + 1) << "the counter must see malloc";
    for (int i = 0; i < 1000; ++i) {
        std::int64_t ms = 0;
        sink += parse_iso8601("2026-11-24T10:15:30.123+02:00", ms) ? ms : 0;
        sink += parse_with_format("24 Nov 2026 10:15", "%d %b %Y %H:%M", ms) ? ms : 0;
        sink += static_cast<std::int64_t>(format(ms + i, "iso", buffer.data(), buffer.size()));
        sink += static_cast<std::int64_t>(
            format(ms, "%A %e %B %Y %j %s", buffer.data(), buffer.size()));
        sink += parts(ms).day_of_year + convert(ms, EpochUnit::ms, EpochUnit::ns);
    }
    EXPECT_EQ(test::allocation_count(), before + 1);
    EXPECT_NE(sink, 0);
}

}  // namespace
}  // namespace edgeflow::dt
