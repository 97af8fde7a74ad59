// Date and time functions for the rule language: parse timestamps to epoch milliseconds,
// format epoch milliseconds, split them into calendar parts and convert between epoch units.
//
// Everything is UTC and proleptic Gregorian, computed with civil-calendar arithmetic: no
// gmtime/timegm, no time zone database, no locale, so results never depend on the host's TZ or
// LANG. Every function is noexcept, allocates nothing and holds no state, so any thread may call
// any function at any time. Output goes to a caller-owned buffer.
//
// Instants are signed milliseconds since 1970-01-01T00:00:00Z; earlier instants are negative.
// Text finer than a millisecond is floored to the millisecond (extra fraction digits are
// dropped, which floors because a fraction only ever adds time), so 1969-12-31T23:59:59.9999Z
// is -1, not 0.
//
// Leap seconds: a seconds field of 60 is accepted and read as the last millisecond of that
// minute (23:59:60.5Z reads as 23:59:59.999Z), which keeps the instant in the right minute and
// in order with its neighbours. Hour 24 (ISO 8601's end-of-day 24:00:00) is rejected: write
// the next day's 00:00:00.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgeflow::dt {

/// Parses an ISO 8601 / RFC 3339 timestamp. On success sets `epoch_ms` and returns true; on
/// failure returns false and leaves `epoch_ms` unchanged. The whole text must be consumed
/// (no surrounding whitespace). Accepted:
///   extended  YYYY-MM-DD[<sep>HH:MM[:SS[.fraction]]][zone]
///   basic     YYYYMMDD[T HHMM[SS[.fraction]]][zone]      (no space inside: 20261124T101530Z)
/// <sep> is `T`, `t` or one space; the fraction separator is `.` or `,` and takes one or more
/// digits (only after seconds); zone is `Z`, `z`, `+HH:MM`, `+HHMM` or `+HH` (or `-`), only
/// after a time, and absent means UTC. A date alone is midnight UTC. Years 0000-9999.
bool parse_iso8601(std::string_view text, std::int64_t& epoch_ms) noexcept;

/// Parses `text` laid out as `format`, a strptime-like pattern. Conversions:
///   %Y  4-digit year            %m  month 1-12 (1-2 digits)  %d  day 1-31 (1-2 digits)
///   %H  hour 0-23 (1-2 digits)  %M  minute (1-2 digits)      %S  second 0-60 (1-2 digits)
///   %f  fraction of a second, one or more digits (floored to milliseconds)
///   %z  `Z`/`z`, `+HH:MM`, `+HHMM` or `+HH` (or `-`)
///   %b  English month name, full or 3-letter, any case (%B is the same)
///   %%  a literal `%`
/// Any other character must match itself exactly. Fields not in the format default to
/// 1970-01-01T00:00:00.000Z, field by field (so "%H:%M" gives a time on 1970-01-01). Returns
/// false, leaving `epoch_ms` unchanged, on an unknown conversion, text that does not match,
/// text left over, or an out-of-range field.
bool parse_with_format(std::string_view text, std::string_view format,
                       std::int64_t& epoch_ms) noexcept;

/// Writes `epoch_ms` as UTC text laid out by `format` into `out` and returns the number of
/// characters written (no terminating NUL). Returns 0, having written an unspecified prefix,
/// when the format has an unknown conversion or a trailing `%`, when the text does not fit in
/// `capacity`, or for "iso" when the year is outside 0000-9999.
/// `format` empty or "iso" gives RFC 3339 with milliseconds: `2026-11-24T10:15:30.123Z`.
/// Otherwise strftime-like:
///   %Y  year, at least 4 digits, `-` when negative   %y  year mod 100, 2 digits
///   %m  month 01-12    %d  day 01-31    %e  day, space-padded (` 5`)
///   %H  hour 00-23     %M  minute 00-59    %S  second 00-59    %f  millisecond 000-999
///   %j  day of year 001-366    %u  ISO weekday 1-7, Monday 1    %w  weekday 0-6, Sunday 0
///   %a  Mon    %A  Monday    %b  Jan    %B  January    %z  +0000
///   %s  seconds since the epoch (floored, signed)     %%  a literal `%`
/// Any other character is copied.
std::size_t format(std::int64_t epoch_ms, std::string_view format, char* out,
                   std::size_t capacity) noexcept;

/// An instant split into UTC calendar fields.
struct Parts {
    int year = 1970;
    int month = 1;        ///< 1-12
    int day = 1;          ///< 1-31
    int hour = 0;         ///< 0-23
    int minute = 0;       ///< 0-59
    int second = 0;       ///< 0-59
    int millisecond = 0;  ///< 0-999
    int weekday = 4;      ///< ISO 8601: 1 = Monday ... 7 = Sunday
    int day_of_year = 1;  ///< 1-366
};

/// The UTC calendar fields of `epoch_ms`; defined for every int64 value.
Parts parts(std::int64_t epoch_ms) noexcept;

/// Units an epoch number can be counted in.
enum class EpochUnit { s, ms, us, ns };

/// Reads a unit name: exactly "s", "ms", "us" or "ns". Returns false, leaving `unit`
/// unchanged, for anything else.
bool parse_unit(std::string_view name, EpochUnit& unit) noexcept;

/// Converts an epoch count between units. Shrinking (ns to s, say) floors toward negative
/// infinity, so -1 ms is -1 s; growing saturates at the int64 limits instead of overflowing.
std::int64_t convert(std::int64_t value, EpochUnit from, EpochUnit to) noexcept;

/// The current time from the system clock, in epoch milliseconds.
std::int64_t now_ms() noexcept;

}  // namespace edgeflow::dt
