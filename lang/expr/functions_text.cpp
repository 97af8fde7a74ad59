// str:: and dt:: functions: strings, regular expressions, dates and times.
#include <cmath>

#include "lang/expr/functions.h"
#include "lang/expr/program.h"
#include "lang/text/datetime.h"
#include "lang/text/regex.h"

namespace edgeflow::expr {
namespace {

using Args = std::span<const Value>;

Value string_result(CallContext& cx, std::size_t size, char*& dst) noexcept {
    dst = cx.arena.reserve(size);
    if (dst == nullptr) {
        return Value::error("string result too large");
    }
    return Value::missing();
}

template <char (*Map)(char)>
Value map_chars(Args args, CallContext& cx) noexcept {
    if (args[0].kind != Kind::string) {
        return Value::error("expects a string");
    }
    const std::string_view s = args[0].text;
    char* dst = nullptr;
    if (Value e = string_result(cx, s.size(), dst); e.is_error()) {
        return e;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        dst[i] = Map(s[i]);
    }
    return Value::of_string(cx.arena.commit(s.size()));
}

// ASCII letters only: bytes of multi-byte UTF-8 sequences are left as they are.
char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
char ascii_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

Value trim(Args args, CallContext&) noexcept {
    if (args[0].kind != Kind::string) {
        return Value::error("str::trim expects a string");
    }
    std::string_view s = args[0].text;
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return Value::of_string(s);
}

Value from(Args args, CallContext& cx) noexcept {
    std::string_view out;
    if (!to_text(args[0], cx.arena, out)) {
        return Value::error("str::from takes a string, number, bool or null");
    }
    return Value::of_string(out);
}

// Byte offset of code point `index` in `s` (clamped to the end).
std::size_t code_point_offset(std::string_view s, std::int64_t index) noexcept {
    std::size_t at = 0;
    for (std::int64_t n = 0; n < index && at < s.size(); ++n) {
        ++at;
        while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) {
            ++at;
        }
    }
    return at;
}

Value substring(Args args, CallContext&) noexcept {
    if (args[0].kind != Kind::string || args[1].kind != Kind::integer ||
        (args.size() == 3 && args[2].kind != Kind::integer)) {
        return Value::error("str::substring takes (string, start[, end]) with int positions");
    }
    const std::string_view s = args[0].text;
    const std::int64_t start = args[1].integer < 0 ? 0 : args[1].integer;
    const std::size_t begin = code_point_offset(s, start);
    std::size_t end = s.size();
    if (args.size() == 3) {
        if (args[2].integer <= start) {
            return Value::of_string({});
        }
        end = code_point_offset(s, args[2].integer);
    }
    return Value::of_string(s.substr(begin, end - begin));
}

Value regex_matches(Args args, CallContext& cx) noexcept {
    if (args[0].kind != Kind::string) {
        return Value::error("str::regex_matches expects a string");
    }
    return Value::of_bool(cx.regex->matches(args[0].text));
}

Value regex_replace(Args args, CallContext& cx) noexcept {
    if (args[0].kind != Kind::string || args[2].kind != Kind::string) {
        return Value::error("str::regex_replace takes (string, pattern, replacement string)");
    }
    // Room for the subject grown fourfold; larger results are an error, not a reallocation.
    const std::size_t capacity = args[0].text.size() * 4 + args[2].text.size() + 64;
    char* dst = cx.arena.reserve(capacity);
    if (dst == nullptr) {
        return Value::error("string result too large");
    }
    const auto size = cx.regex->replace_all(args[0].text, args[2].text, dst, capacity);
    if (!size) {
        cx.arena.commit(0);
        return Value::error(
            "str::regex_replace: the result is too large or the replacement "
            "names a group the pattern lacks");
    }
    return Value::of_string(cx.arena.commit(*size));
}

Value dt_parse(Args args, CallContext&) noexcept {
    if (args[0].kind != Kind::string || (args.size() == 2 && args[1].kind != Kind::string)) {
        return Value::error("dt::parse takes (text[, format]) strings");
    }
    std::int64_t ms = 0;
    const bool ok = args.size() == 2 ? dt::parse_with_format(args[0].text, args[1].text, ms)
                                     : dt::parse_iso8601(args[0].text, ms);
    if (!ok) {
        return Value::error(args.size() == 2 ? "dt::parse: the text does not fit the format"
                                             : "dt::parse: not an ISO 8601 / RFC 3339 time");
    }
    return Value::of_int(ms);
}

bool epoch_ms(const Value& v, std::int64_t& out) noexcept {
    if (v.kind == Kind::integer) {
        out = v.integer;
        return true;
    }
    if (v.kind == Kind::floating && std::isfinite(v.floating) && std::fabs(v.floating) < 9e18) {
        out = static_cast<std::int64_t>(std::floor(v.floating));
        return true;
    }
    return false;
}

Value dt_format(Args args, CallContext& cx) noexcept {
    std::int64_t ms = 0;
    if (!epoch_ms(args[0], ms) || (args.size() == 2 && args[1].kind != Kind::string)) {
        return Value::error("dt::format takes (epoch milliseconds[, format string])");
    }
    const std::string_view format = args.size() == 2 ? args[1].text : std::string_view("iso");
    const std::size_t capacity = 64 + format.size() * 16;
    char* dst = cx.arena.reserve(capacity);
    if (dst == nullptr) {
        return Value::error("string result too large");
    }
    const std::size_t size = dt::format(ms, format, dst, capacity);
    if (size == 0) {
        cx.arena.commit(0);
        return Value::error("dt::format: invalid format");
    }
    return Value::of_string(cx.arena.commit(size));
}

Value dt_now(Args, CallContext&) noexcept {
    return Value::of_int(dt::now_ms());
}

Value dt_convert(Args args, CallContext&) noexcept {
    dt::EpochUnit from{};
    dt::EpochUnit to{};
    std::int64_t value = 0;
    if (!epoch_ms(args[0], value) || args[1].kind != Kind::string || args[2].kind != Kind::string ||
        !dt::parse_unit(args[1].text, from) || !dt::parse_unit(args[2].text, to)) {
        return Value::error("dt::convert takes (time, from unit, to unit); units s, ms, us, ns");
    }
    return Value::of_int(dt::convert(value, from, to));
}

template <int dt::Parts::*Field>
Value dt_part(Args args, CallContext&) noexcept {
    std::int64_t ms = 0;
    if (!epoch_ms(args[0], ms)) {
        return Value::error("expects epoch milliseconds");
    }
    return Value::of_int(dt::parts(ms).*Field);
}

constexpr FunctionDef table[] = {
    {"str::to_lowercase", 1, 1, map_chars<ascii_lower>},
    {"str::to_uppercase", 1, 1, map_chars<ascii_upper>},
    {"str::trim", 1, 1, trim},
    {"str::from", 1, 1, from},
    {"str::substring", 2, 3, substring},
    {.name = "str::regex_matches",
     .min_args = 2,
     .max_args = 2,
     .impl = regex_matches,
     .regex_arg = 1},
    {.name = "str::regex_replace",
     .min_args = 3,
     .max_args = 3,
     .impl = regex_replace,
     .regex_arg = 1},
    {"dt::parse", 1, 2, dt_parse},
    {"dt::format", 1, 2, dt_format},
    {.name = "dt::now", .min_args = 0, .max_args = 0, .impl = dt_now, .pure = false},
    {"dt::convert", 3, 3, dt_convert},
    {"dt::year", 1, 1, dt_part<&dt::Parts::year>},
    {"dt::month", 1, 1, dt_part<&dt::Parts::month>},
    {"dt::day", 1, 1, dt_part<&dt::Parts::day>},
    {"dt::hour", 1, 1, dt_part<&dt::Parts::hour>},
    {"dt::minute", 1, 1, dt_part<&dt::Parts::minute>},
    {"dt::second", 1, 1, dt_part<&dt::Parts::second>},
    {"dt::millisecond", 1, 1, dt_part<&dt::Parts::millisecond>},
    {"dt::weekday", 1, 1, dt_part<&dt::Parts::weekday>},
    {"dt::day_of_year", 1, 1, dt_part<&dt::Parts::day_of_year>},
};

}  // namespace

std::span<const FunctionDef> text_functions() noexcept {
    return table;
}

}  // namespace edgeflow::expr
