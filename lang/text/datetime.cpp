#include "lang/text/datetime.h"

#include <array>
#include <chrono>
#include <limits>

namespace edgeflow::dt {
namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
constexpr std::int64_t ms_per_day = 24 * ms_per_hour;

constexpr std::array<std::string_view, 12> month_names = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> weekday_names = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// For b > 0. Written without floor_div(a, b) * b, which overflows for a near INT64_MIN.
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t r = a % b;
    return r < 0 ? r + b : r;
}

constexpr bool is_leap(std::int64_t year) noexcept {
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

constexpr int days_in_month(std::int64_t year, int month) noexcept {
    constexpr std::array<int, 12> days_per_month = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days_per_month[static_cast<std::size_t>(month - 1)];
}

// Days from 1970-01-01 to year-month-day, proleptic Gregorian (H. Hinnant's algorithm). Counting
// from March puts the leap day last in the shifted year, so each 400-year era has a fixed
// layout and the result needs no tables or loops.
constexpr std::int64_t days_from_civil(std::int64_t year, int month, int day) noexcept {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = floor_div(year, 400);
    const std::int64_t yoe = year - era * 400;                       // [0, 399]
    const std::int64_t mp = month > 2 ? month - 3 : month + 9;       // March = 0
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
    return era * 146097 + doe - 719468;
}

struct Civil {
    std::int64_t year;
    int month;
    int day;
};

// The inverse of days_from_civil.
constexpr Civil civil_from_days(std::int64_t days) noexcept {
    days += 719468;
    const std::int64_t era = floor_div(days, 146097);
    const std::int64_t doe = days - era * 146097;                                    // [0, 146096]
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
    const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
    const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(days_from_civil(1969, 12, 31) == -1);
static_assert(civil_from_days(-1).year == 1969 && civil_from_days(-1).day == 31);

// Fields read from text, before validation. Defaults are the epoch.
struct Fields {
    int year = 1970;
    int month = 1;
    int day = 1;
    int hour = 0;
    int minute = 0;
    int second = 0;
    int millisecond = 0;
    int offset_minutes = 0;  ///< east of UTC
};

bool to_epoch(Fields f, std::int64_t& epoch_ms) noexcept {
    if (f.year < 0 || f.year > 9999 || f.month < 1 || f.month > 12 || f.day < 1 ||
        f.day > days_in_month(f.year, f.month) || f.hour > 23 || f.minute > 59 || f.second > 60) {
        return false;
    }
    if (f.second == 60) {
        f.second = 59;
        f.millisecond = 999;
    }
    epoch_ms = days_from_civil(f.year, f.month, f.day) * ms_per_day + f.hour * ms_per_hour +
               f.minute * ms_per_minute + f.second * ms_per_second + f.millisecond -
               f.offset_minutes * ms_per_minute;
    return true;
}

// A read position in the input text; every read checks the end, so no read runs past it.
class Cursor {
public:
    explicit Cursor(std::string_view text) noexcept : text_(text) {}

    bool done() const noexcept { return pos_ == text_.size(); }
    bool peek(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }
    bool peek_digit() const noexcept { return pos_ < text_.size() && is_digit(text_[pos_]); }

    bool take(char c) noexcept {
        if (!peek(c)) {
            return false;
        }
        ++pos_;
        return true;
    }

    /// Reads between `min` and `max` digits, as many as there are.
    bool number(std::size_t min, std::size_t max, int& value) noexcept {
        int v = 0;
        std::size_t n = 0;
        while (n < max && peek_digit()) {
            v = v * 10 + (text_[pos_] - '0');
            ++pos_;
            ++n;
        }
        if (n < min) {
            return false;
        }
        value = v;
        return true;
    }

    /// Reads one or more digits as milliseconds, dropping digits past the third.
    bool fraction(int& millisecond) noexcept {
        if (!peek_digit()) {
            return false;
        }
        int ms = 0;
        int scale = 100;
        while (peek_digit()) {
            ms += (text_[pos_] - '0') * scale;
            scale /= 10;
            ++pos_;
        }
        millisecond = ms;
        return true;
    }

    /// Reads `Z`, `z`, `+HH:MM`, `+HHMM` or `+HH` (or `-`).
    bool zone(int& offset_minutes) noexcept {
        if (take('Z') || take('z')) {
            offset_minutes = 0;
            return true;
        }
        int sign = 1;
        if (take('-')) {
            sign = -1;
        } else if (!take('+')) {
            return false;
        }
        int hours = 0;
        int minutes = 0;
        if (!number(2, 2, hours)) {
            return false;
        }
        if (take(':')) {
            if (!number(2, 2, minutes)) {
                return false;
            }
        } else if (peek_digit() && !number(2, 2, minutes)) {
            return false;
        }
        if (hours > 23 || minutes > 59) {
            return false;
        }
        offset_minutes = sign * (hours * 60 + minutes);
        return true;
    }

    /// Reads an English month name, full or abbreviated, any case.
    bool month_name(int& month) noexcept {
        const std::string_view rest = text_.substr(pos_);
        for (std::size_t full = 0; full < 2; ++full) {
            for (std::size_t i = 0; i < month_names.size(); ++i) {
                const std::string_view name =
                    full == 0 ? month_names[i] : month_names[i].substr(0, 3);
                if (starts_with_nocase(rest, name)) {
                    pos_ += name.size();
                    month = static_cast<int>(i) + 1;
                    return true;
                }
            }
        }
        return false;
    }

private:
    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    static char lower(char c) noexcept {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    static bool starts_with_nocase(std::string_view text, std::string_view prefix) noexcept {
        if (text.size() < prefix.size()) {
            return false;
        }
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            if (lower(text[i]) != lower(prefix[i])) {
                return false;
            }
        }
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// Appends to a caller's buffer; once something does not fit, every later write is dropped and
// the result is a failure, so callers check once at the end.
class Writer {
public:
    Writer(char* out, std::size_t capacity) noexcept : out_(out), capacity_(capacity) {}

    void put(char c) noexcept {
        if (len_ < capacity_) {
            out_[len_++] = c;
        } else {
            overflow_ = true;
        }
    }
    void put(std::string_view text) noexcept {
        for (const char c : text) {
            put(c);
        }
    }
    /// Writes `value` with at least `width` digits, padded on the left with `pad`, after a `-`
    /// when negative.
    void put_number(std::int64_t value, int width, char pad = '0') noexcept {
        // The magnitude as unsigned, so INT64_MIN has one too.
        std::uint64_t magnitude =
            value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
        std::array<char, 20> digits{};
        int n = 0;
        do {
            digits[static_cast<std::size_t>(n++)] = static_cast<char>('0' + magnitude % 10);
            magnitude /= 10;
        } while (magnitude != 0);
        if (value < 0) {
            put('-');
        }
        for (int i = n; i < width; ++i) {
            put(pad);
        }
        while (n > 0) {
            put(digits[static_cast<std::size_t>(--n)]);
        }
    }

    std::size_t result() const noexcept { return overflow_ ? 0 : len_; }

private:
    char* out_;
    std::size_t capacity_;
    std::size_t len_ = 0;
    bool overflow_ = false;
};

}  // namespace

bool parse_iso8601(std::string_view text, std::int64_t& epoch_ms) noexcept {
    Cursor in(text);
    Fields f;
    if (!in.number(4, 4, f.year)) {
        return false;
    }
    const bool extended = in.take('-');
    if (!in.number(2, 2, f.month) || (extended && !in.take('-')) || !in.number(2, 2, f.day)) {
        return false;
    }
    if (!in.done()) {
        if (!in.take('T') && !in.take('t') && !(extended && in.take(' '))) {
            return false;
        }
        if (!in.number(2, 2, f.hour) || (extended && !in.take(':')) || !in.number(2, 2, f.minute)) {
            return false;
        }
        const bool has_seconds = extended ? in.take(':') : in.peek_digit();
        if (has_seconds) {
            if (!in.number(2, 2, f.second)) {
                return false;
            }
            if ((in.take('.') || in.take(',')) && !in.fraction(f.millisecond)) {
                return false;
            }
        }
        if (!in.done() && !in.zone(f.offset_minutes)) {
            return false;
        }
    }
    return in.done() && to_epoch(f, epoch_ms);
}

bool parse_with_format(std::string_view text, std::string_view format,
                       std::int64_t& epoch_ms) noexcept {
    Cursor in(text);
    Fields f;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            if (!in.take(format[i])) {
                return false;
            }
            continue;
        }
        if (++i == format.size()) {
            return false;
        }
        bool ok = false;
        switch (format[i]) {
            case 'Y':
                ok = in.number(4, 4, f.year);
                break;
            case 'm':
                ok = in.number(1, 2, f.month);
                break;
            case 'd':
                ok = in.number(1, 2, f.day);
                break;
            case 'H':
                ok = in.number(1, 2, f.hour);
                break;
            case 'M':
                ok = in.number(1, 2, f.minute);
                break;
            case 'S':
                ok = in.number(1, 2, f.second);
                break;
            case 'f':
                ok = in.fraction(f.millisecond);
                break;
            case 'z':
                ok = in.zone(f.offset_minutes);
                break;
            case 'b':
            case 'B':
                ok = in.month_name(f.month);
                break;
            case '%':
                ok = in.take('%');
                break;
            default:
                return false;
        }
        if (!ok) {
            return false;
        }
    }
    return in.done() && to_epoch(f, epoch_ms);
}

Parts parts(std::int64_t epoch_ms) noexcept {
    const std::int64_t days = floor_div(epoch_ms, ms_per_day);
    const std::int64_t ms_of_day = floor_mod(epoch_ms, ms_per_day);
    const Civil civil = civil_from_days(days);
    Parts p;
    // |epoch_ms| < 2^63 ms is under 300 million years, so the year fits an int.
    p.year = static_cast<int>(civil.year);
    p.month = civil.month;
    p.day = civil.day;
    p.hour = static_cast<int>(ms_of_day / ms_per_hour);
    p.minute = static_cast<int>(ms_of_day / ms_per_minute % 60);
    p.second = static_cast<int>(ms_of_day / ms_per_second % 60);
    p.millisecond = static_cast<int>(ms_of_day % ms_per_second);
    p.weekday = static_cast<int>(floor_mod(days + 3, 7)) + 1;  // 1970-01-01 was a Thursday
    p.day_of_year = static_cast<int>(days - days_from_civil(civil.year, 1, 1)) + 1;
    return p;
}

std::size_t format(std::int64_t epoch_ms, std::string_view format, char* out,
                   std::size_t capacity) noexcept {
    const Parts p = parts(epoch_ms);
    Writer w(out, capacity);
    if (format.empty() || format == "iso") {
        if (p.year < 0 || p.year > 9999) {
            return 0;
        }
        w.put_number(p.year, 4);
        w.put('-');
        w.put_number(p.month, 2);
        w.put('-');
        w.put_number(p.day, 2);
        w.put('T');
        w.put_number(p.hour, 2);
        w.put(':');
        w.put_number(p.minute, 2);
        w.put(':');
        w.put_number(p.second, 2);
        w.put('.');
        w.put_number(p.millisecond, 3);
        w.put('Z');
        return w.result();
    }
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            w.put(format[i]);
            continue;
        }
        if (++i == format.size()) {
            return 0;
        }
        switch (format[i]) {
            case 'Y':
                w.put_number(p.year, 4);
                break;
            case 'y':
                w.put_number(floor_mod(p.year, 100), 2);
                break;
            case 'm':
                w.put_number(p.month, 2);
                break;
            case 'd':
                w.put_number(p.day, 2);
                break;
            case 'e':
                w.put_number(p.day, 2, ' ');
                break;
            case 'H':
                w.put_number(p.hour, 2);
                break;
            case 'M':
                w.put_number(p.minute, 2);
                break;
            case 'S':
                w.put_number(p.second, 2);
                break;
            case 'f':
                w.put_number(p.millisecond, 3);
                break;
            case 'j':
                w.put_number(p.day_of_year, 3);
                break;
            case 'u':
                w.put_number(p.weekday, 1);
                break;
            case 'w':
                w.put_number(p.weekday % 7, 1);
                break;
            case 'a':
                w.put(weekday_names[static_cast<std::size_t>(p.weekday - 1)].substr(0, 3));
                break;
            case 'A':
                w.put(weekday_names[static_cast<std::size_t>(p.weekday - 1)]);
                break;
            case 'b':
                w.put(month_names[static_cast<std::size_t>(p.month - 1)].substr(0, 3));
                break;
            case 'B':
                w.put(month_names[static_cast<std::size_t>(p.month - 1)]);
                break;
            case 'z':
                w.put("+0000");
                break;
            case 's':
                w.put_number(floor_div(epoch_ms, ms_per_second), 1);
                break;
            case '%':
                w.put('%');
                break;
            default:
                return 0;
        }
    }
    return w.result();
}

bool parse_unit(std::string_view name, EpochUnit& unit) noexcept {
    if (name == "s") {
        unit = EpochUnit::s;
    } else if (name == "ms") {
        unit = EpochUnit::ms;
    } else if (name == "us") {
        unit = EpochUnit::us;
    } else if (name == "ns") {
        unit = EpochUnit::ns;
    } else {
        return false;
    }
    return true;
}

std::int64_t convert(std::int64_t value, EpochUnit from, EpochUnit to) noexcept {
    // Each unit is 1000 of the next finer one; the enum lists them coarse to fine.
    const int steps = static_cast<int>(to) - static_cast<int>(from);
    std::int64_t factor = 1;
    for (int i = 0; i < (steps < 0 ? -steps : steps); ++i) {
        factor *= 1000;
    }
    if (steps < 0) {
        return floor_div(value, factor);
    }
    constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
    if (value > int64_max / factor) {
        return int64_max;
    }
    if (value < int64_min / factor) {
        return int64_min;
    }
    return value * factor;
}

std::int64_t now_ms() noexcept {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::floor<std::chrono::milliseconds>(since_epoch).count();
}

}  // namespace edgeflow::dt
