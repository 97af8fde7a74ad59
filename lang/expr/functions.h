// The functions of the rule language: unit conversions, math::, str::, dt::, and the rest.
//
// Each function is one row of a table (FunctionDef): a name, an arity range and an
// implementation that takes evaluated arguments and returns a Value (an error value with a
// static reason when the arguments do not fit). Adding a function is adding its row and its
// test; the compiler's "takes N arguments" errors come from the row, and
// tests/unit/lang/expr/functions_test.cpp checks every row against docs/transforms.md.
// Implementations never allocate: strings they compute go to the StringArena. `if` is not here:
// it evaluates only the branch it takes, so the evaluator handles it.
//
// The tables are constant: any thread may read them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "lang/expr/string_arena.h"
#include "lang/expr/value.h"

namespace edgeflow {
class Regex;
}

namespace edgeflow::expr {

struct CallContext {
    StringArena& arena;
    std::span<const Value> tuples;  ///< the tuple stack, for tuple arguments
    const Regex* regex = nullptr;   ///< the compiled literal pattern of a regex function
};

using FunctionImpl = Value (*)(std::span<const Value> args, CallContext& cx) noexcept;

struct FunctionDef {
    std::string_view name;
    std::uint8_t min_args = 0;
    std::uint8_t max_args = 0;  ///< variadic_max for "any number"
    FunctionImpl impl = nullptr;
    bool pure = true;             ///< same arguments, same result (may be folded at compile time)
    std::int8_t regex_arg = -1;   ///< argument that must be a literal pattern, compiled once
    bool passes_missing = false;  ///< sees missing arguments (typeof); others return missing
};

inline constexpr std::uint8_t variadic_max = 16;

/// The definition of `name`, or nullptr.
const FunctionDef* find_function(std::string_view name) noexcept;
/// Every table of functions, in lookup order; each file of functions adds its table here.
std::span<const std::span<const FunctionDef>> function_tables() noexcept;
std::span<const FunctionDef> core_functions() noexcept;  ///< functions.cpp
std::span<const FunctionDef> text_functions() noexcept;  ///< str::, dt:: (functions_text.cpp)

/// Elements of a tuple or array argument, or the argument itself, visited in order.
template <typename F>
bool for_each_element(const Value& v, std::span<const Value> tuples, F&& f) noexcept {
    if (v.kind == Kind::tuple) {
        for (std::uint32_t i = 0; i < v.tuple_size; ++i) {
            if (!f(tuples[v.tuple_begin + i])) {
                return false;
            }
        }
        return true;
    }
    if (v.kind == Kind::array) {
        for (ValueRef e : v.ref) {
            if (!f(Value::from(e))) {
                return false;
            }
        }
        return true;
    }
    return f(v);
}

}  // namespace edgeflow::expr
