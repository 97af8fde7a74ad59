// Value: what an expression computes with — a scalar, a string, a reference to an object or
// array inside a Record, a tuple, or "missing".
//
// Values are small and trivially copyable. A string is a view: into the message's Record, into
// the compiled program (literals), or into the evaluation's StringArena (computed strings), all
// of which outlive the message's evaluation. Nothing here allocates.
//
// Errors are values too: a function given the wrong type returns Value::error(reason) with a
// static reason, and operators propagate the first error, so evaluation never throws and the
// caller can dead-letter the message with the reason.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/record.h"

namespace edgeflow::expr {

enum class Kind : std::uint8_t {
    missing,  ///< `()`, or an input that is absent
    null,
    boolean,
    integer,
    floating,
    string,
    object,  ///< a Record object, by reference
    array,   ///< a Record array, by reference
    tuple,   ///< `(a, b, ...)`: a run of values in the evaluator's tuple stack
    error,   ///< evaluation failed; `text` holds the static reason
};

/// Name of a kind as `typeof` returns it and error messages print it.
std::string_view to_string(Kind kind) noexcept;

struct Value {
    Kind kind = Kind::missing;
    std::uint32_t tuple_size = 0;  ///< Kind::tuple: number of elements
    // One member is in use, chosen by `kind`; 24 bytes in all, so values copy cheaply.
    union {
        std::int64_t integer;
        double floating;
        bool boolean;
        std::uint32_t tuple_begin;  ///< Kind::tuple: first element in the tuple stack
        std::string_view text;      ///< string contents, or the reason of an error
        ValueRef ref;               ///< object or array (an invalid ref: an object built here)
    };

    Value() noexcept : integer(0) {}  // zero bytes: also a null `ref`

    static Value missing() noexcept { return {}; }
    static Value null() noexcept {
        Value v;
        v.kind = Kind::null;
        return v;
    }
    static Value of_bool(bool b) noexcept {
        Value v;
        v.kind = Kind::boolean;
        v.boolean = b;
        return v;
    }
    static Value of_int(std::int64_t i) noexcept {
        Value v;
        v.kind = Kind::integer;
        v.integer = i;
        return v;
    }
    static Value of_float(double d) noexcept {
        Value v;
        v.kind = Kind::floating;
        v.floating = d;
        return v;
    }
    static Value of_string(std::string_view s) noexcept {
        Value v;
        v.kind = Kind::string;
        v.text = s;
        return v;
    }
    static Value error(std::string_view reason) noexcept {
        Value v;
        v.kind = Kind::error;
        v.text = reason;
        return v;
    }
    /// The value of a Record node: scalars are copied out, containers referenced.
    static Value from(ValueRef ref) noexcept;

    bool is_number() const noexcept { return kind == Kind::integer || kind == Kind::floating; }
    bool is_error() const noexcept { return kind == Kind::error; }
    bool is_missing() const noexcept { return kind == Kind::missing; }
    /// Integer or float as a double.
    double number() const noexcept {
        return kind == Kind::integer ? static_cast<double>(integer) : floating;
    }
};

/// Structural equality as `==` defines it: numbers compare by value across int and float,
/// strings by bytes, objects and arrays member by member.
bool equal(const Value& a, const Value& b) noexcept;

}  // namespace edgeflow::expr
