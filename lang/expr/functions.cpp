#include "lang/expr/functions.h"

#include <array>
#include <cmath>

namespace edgeflow::expr {
namespace {

using Args = std::span<const Value>;

// ---- Unit conversions: exact defining factors (international inch, foot, pound; US gallon).
constexpr double bar_per_psi = 0.0689475729316836;
constexpr double cm_per_inch = 2.54;
constexpr double metres_per_foot = 0.3048;
constexpr double kg_per_pound = 0.45359237;
constexpr double litres_per_gallon = 3.785411784;

// JSON has no NaN or infinity: a result that is one is an error, not a silent null.
Value finite(double r) noexcept {
    if (!std::isfinite(r)) {
        return Value::error("the result is not a finite number");
    }
    return Value::of_float(r);
}

Value number_arg(const Value& v, double& out) noexcept {
    if (!v.is_number()) {
        return Value::error("expects a number");
    }
    out = v.number();
    return Value::missing();
}

template <double (*F)(double)>
Value unary_number(Args args, CallContext&) noexcept {
    double x = 0;
    if (Value e = number_arg(args[0], x); e.is_error()) {
        return e;
    }
    return finite(F(x));
}

double c_to_f(double c) noexcept {
    return c * 9.0 / 5.0 + 32.0;
}
double f_to_c(double f) noexcept {
    return (f - 32.0) * 5.0 / 9.0;
}
double psi_to_bar(double v) noexcept {
    return v * bar_per_psi;
}
double bar_to_psi(double v) noexcept {
    return v / bar_per_psi;
}
double in_to_cm(double v) noexcept {
    return v * cm_per_inch;
}
double cm_to_in(double v) noexcept {
    return v / cm_per_inch;
}
double ft_to_m(double v) noexcept {
    return v * metres_per_foot;
}
double m_to_ft(double v) noexcept {
    return v / metres_per_foot;
}
double lb_to_kg(double v) noexcept {
    return v * kg_per_pound;
}
double kg_to_lb(double v) noexcept {
    return v / kg_per_pound;
}
double gal_to_l(double v) noexcept {
    return v * litres_per_gallon;
}
double l_to_gal(double v) noexcept {
    return v / litres_per_gallon;
}

double m_abs(double v) noexcept {
    return std::fabs(v);
}
double m_sqrt(double v) noexcept {
    return std::sqrt(v);
}
double m_cbrt(double v) noexcept {
    return std::cbrt(v);
}
double m_ln(double v) noexcept {
    return std::log(v);
}
double m_log2(double v) noexcept {
    return std::log2(v);
}
double m_log10(double v) noexcept {
    return std::log10(v);
}
double m_exp(double v) noexcept {
    return std::exp(v);
}
double m_exp2(double v) noexcept {
    return std::exp2(v);
}
double m_sin(double v) noexcept {
    return std::sin(v);
}
double m_cos(double v) noexcept {
    return std::cos(v);
}
double m_tan(double v) noexcept {
    return std::tan(v);
}
double m_asin(double v) noexcept {
    return std::asin(v);
}
double m_acos(double v) noexcept {
    return std::acos(v);
}
double m_atan(double v) noexcept {
    return std::atan(v);
}

// math::abs keeps an int an int.
Value math_abs(Args args, CallContext& cx) noexcept {
    if (args[0].kind == Kind::integer && args[0].integer != INT64_MIN) {
        return Value::of_int(args[0].integer < 0 ? -args[0].integer : args[0].integer);
    }
    return unary_number<m_abs>(args, cx);
}

template <double (*F)(double, double)>
Value binary_number(Args args, CallContext&) noexcept {
    double x = 0;
    double y = 0;
    if (Value e = number_arg(args[0], x); e.is_error()) {
        return e;
    }
    if (Value e = number_arg(args[1], y); e.is_error()) {
        return e;
    }
    return finite(F(x, y));
}

double m_pow(double x, double y) noexcept {
    return std::pow(x, y);
}
double m_atan2(double y, double x) noexcept {
    return std::atan2(y, x);
}
double m_hypot(double x, double y) noexcept {
    return std::hypot(x, y);
}
double m_log_base(double x, double base) noexcept {
    return std::log(x) / std::log(base);
}

Value scale(Args args, CallContext&) noexcept {
    double v[5];
    for (std::size_t i = 0; i < 5; ++i) {
        if (Value e = number_arg(args[i], v[i]); e.is_error()) {
            return Value::error("scale expects five numbers (value, low, high, new low, new high)");
        }
    }
    if (v[2] == v[1]) {
        return Value::error("scale: low and high are equal");
    }
    return Value::of_float((v[0] - v[1]) * (v[4] - v[3]) / (v[2] - v[1]) + v[3]);
}

// Rounding keeps an int an int and a float a float.
template <double (*F)(double)>
Value rounding(Args args, CallContext&) noexcept {
    if (args[0].kind == Kind::integer) {
        return args[0];
    }
    if (args[0].kind != Kind::floating) {
        return Value::error("expects a number");
    }
    return Value::of_float(F(args[0].floating));
}
double r_floor(double v) noexcept {
    return std::floor(v);
}
double r_round(double v) noexcept {
    return std::round(v);
}
double r_ceil(double v) noexcept {
    return std::ceil(v);
}

Value round_n(Args args, CallContext&) noexcept {
    if (args[1].kind != Kind::integer || args[1].integer < 0 || args[1].integer > 17) {
        return Value::error("round_n: the number of decimals must be an int from 0 to 17");
    }
    if (args[0].kind == Kind::integer) {
        return args[0];
    }
    if (args[0].kind != Kind::floating) {
        return Value::error("round_n expects a number");
    }
    const double factor = std::pow(10.0, static_cast<double>(args[1].integer));
    return Value::of_float(std::round(args[0].floating * factor) / factor);
}

template <bool Max>
Value extreme(Args args, CallContext& cx) noexcept {
    Value best;
    bool found = false;
    const char* why = nullptr;
    for (const Value& arg : args) {
        for_each_element(arg, cx.tuples, [&](const Value& v) {
            if (v.is_missing()) {
                return true;
            }
            if (!found) {
                if (!v.is_number() && v.kind != Kind::string) {
                    why = "min and max compare numbers or strings";
                    return false;
                }
                best = v;
                found = true;
                return true;
            }
            bool better = false;
            if (v.is_number() && best.is_number()) {
                better = Max ? v.number() > best.number() : v.number() < best.number();
            } else if (v.kind == Kind::string && best.kind == Kind::string) {
                better = Max ? v.text > best.text : v.text < best.text;
            } else {
                why = "min and max compare numbers or strings, not a mix";
                return false;
            }
            if (better) {
                best = v;
            }
            return true;
        });
        if (why != nullptr) {
            return Value::error(why);
        }
    }
    return found ? best : Value::missing();
}

Value contains(Args args, CallContext& cx) noexcept {
    const Value& haystack = args[0];
    const Value& needle = args[1];
    if (haystack.kind == Kind::string) {
        if (needle.kind != Kind::string) {
            return Value::error("contains: a string contains only strings");
        }
        return Value::of_bool(haystack.text.find(needle.text) != std::string_view::npos);
    }
    if (haystack.kind != Kind::tuple && haystack.kind != Kind::array) {
        return Value::error("contains: the first argument must be a tuple, array or string");
    }
    bool found = false;
    for_each_element(haystack, cx.tuples, [&](const Value& v) {
        found = equal(v, needle);
        return !found;
    });
    return Value::of_bool(found);
}

Value contains_any(Args args, CallContext& cx) noexcept {
    if (args[0].kind != Kind::tuple && args[0].kind != Kind::array &&
        args[0].kind != Kind::string) {
        return Value::error("contains_any: the first argument must be a tuple, array or string");
    }
    bool found = false;
    bool bad = false;
    for_each_element(args[1], cx.tuples, [&](const Value& candidate) {
        const Value pair[2] = {args[0], candidate};
        const Value r = contains(Args(pair, 2), cx);
        if (r.is_error()) {
            bad = true;
            return false;
        }
        found = r.boolean;
        return !found;
    });
    if (bad) {
        return Value::error("contains_any: a string contains only strings");
    }
    return Value::of_bool(found);
}

Value type_of(Args args, CallContext&) noexcept {
    return Value::of_string(to_string(args[0].kind));
}

// len(x) of one value; len(a, b, c) counts its arguments, as a tuple would.
Value length(Args args, CallContext&) noexcept {
    if (args.size() > 1) {
        return Value::of_int(static_cast<std::int64_t>(args.size()));
    }
    const Value& v = args[0];
    switch (v.kind) {
        case Kind::string: {
            std::int64_t count = 0;  // code points: count bytes that do not continue one
            for (unsigned char c : v.text) {
                count += (c & 0xC0) != 0x80 ? 1 : 0;
            }
            return Value::of_int(count);
        }
        case Kind::array:
        case Kind::object:
            return Value::of_int(v.ref.size());
        case Kind::tuple:
            return Value::of_int(v.tuple_size);
        default:
            return Value::error("len expects a string, array, object or tuple");
    }
}

constexpr FunctionDef table[] = {
    {"cToF", 1, 1, unary_number<c_to_f>},
    {"fToC", 1, 1, unary_number<f_to_c>},
    {"psiToBar", 1, 1, unary_number<psi_to_bar>},
    {"barToPsi", 1, 1, unary_number<bar_to_psi>},
    {"inToCm", 1, 1, unary_number<in_to_cm>},
    {"cmToIn", 1, 1, unary_number<cm_to_in>},
    {"ftToM", 1, 1, unary_number<ft_to_m>},
    {"mToFt", 1, 1, unary_number<m_to_ft>},
    {"lbToKg", 1, 1, unary_number<lb_to_kg>},
    {"kgToLb", 1, 1, unary_number<kg_to_lb>},
    {"galToL", 1, 1, unary_number<gal_to_l>},
    {"lToGal", 1, 1, unary_number<l_to_gal>},
    {"scale", 5, 5, scale},
    {"round_n", 2, 2, round_n},
    {"floor", 1, 1, rounding<r_floor>},
    {"round", 1, 1, rounding<r_round>},
    {"ceil", 1, 1, rounding<r_ceil>},
    {"min", 1, variadic_max, extreme<false>},
    {"max", 1, variadic_max, extreme<true>},
    {"contains", 2, 2, contains},
    {"contains_any", 2, 2, contains_any},
    {.name = "typeof", .min_args = 1, .max_args = 1, .impl = type_of, .passes_missing = true},
    {"len", 1, variadic_max, length},
    {"math::abs", 1, 1, math_abs},
    {"abs", 1, 1, math_abs},  // the spelling older Azure IoT Operations examples use
    {"math::sqrt", 1, 1, unary_number<m_sqrt>},
    {"math::cbrt", 1, 1, unary_number<m_cbrt>},
    {"math::ln", 1, 1, unary_number<m_ln>},
    {"math::log2", 1, 1, unary_number<m_log2>},
    {"math::log10", 1, 1, unary_number<m_log10>},
    {"math::log", 2, 2, binary_number<m_log_base>},
    {"math::exp", 1, 1, unary_number<m_exp>},
    {"math::exp2", 1, 1, unary_number<m_exp2>},
    {"math::pow", 2, 2, binary_number<m_pow>},
    {"math::sin", 1, 1, unary_number<m_sin>},
    {"math::cos", 1, 1, unary_number<m_cos>},
    {"math::tan", 1, 1, unary_number<m_tan>},
    {"math::asin", 1, 1, unary_number<m_asin>},
    {"math::acos", 1, 1, unary_number<m_acos>},
    {"math::atan", 1, 1, unary_number<m_atan>},
    {"math::atan2", 2, 2, binary_number<m_atan2>},
    {"math::hypot", 2, 2, binary_number<m_hypot>},
};

}  // namespace

std::span<const FunctionDef> core_functions() noexcept {
    return table;
}

std::span<const std::span<const FunctionDef>> function_tables() noexcept {
    static const std::span<const FunctionDef> tables[] = {core_functions(), text_functions()};
    return tables;
}

const FunctionDef* find_function(std::string_view name) noexcept {
    for (std::span<const FunctionDef> table : function_tables()) {
        for (const FunctionDef& f : table) {
            if (f.name == name) {
                return &f;
            }
        }
    }
    return nullptr;
}

}  // namespace edgeflow::expr
