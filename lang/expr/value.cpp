#include "lang/expr/value.h"

namespace edgeflow::expr {

std::string_view to_string(Kind kind) noexcept {
    switch (kind) {
        case Kind::missing:
            return "missing";
        case Kind::null:
            return "null";
        case Kind::boolean:
            return "bool";
        case Kind::integer:
            return "int";
        case Kind::floating:
            return "float";
        case Kind::string:
            return "string";
        case Kind::object:
            return "object";
        case Kind::array:
            return "array";
        case Kind::tuple:
            return "tuple";
        case Kind::error:
            return "error";
    }
    return "unknown";
}

Value Value::from(ValueRef ref) noexcept {
    if (!ref.valid()) {
        return missing();
    }
    switch (ref.type()) {
        case ValueType::null:
            return null();
        case ValueType::boolean:
            return of_bool(ref.as_bool());
        case ValueType::int64:
            return of_int(ref.as_int64());
        case ValueType::uint64: {
            const std::uint64_t u = ref.as_uint64();
            if (u <= static_cast<std::uint64_t>(INT64_MAX)) {
                return of_int(static_cast<std::int64_t>(u));
            }
            return of_float(static_cast<double>(u));
        }
        case ValueType::float64:
            return of_float(ref.as_double());
        case ValueType::string:
            return of_string(ref.as_string());
        case ValueType::object: {
            Value v;
            v.kind = Kind::object;
            v.ref = ref;
            return v;
        }
        case ValueType::array: {
            Value v;
            v.kind = Kind::array;
            v.ref = ref;
            return v;
        }
    }
    return missing();
}

namespace {

bool equal_refs(ValueRef a, ValueRef b) noexcept;

bool equal_scalars(const Value& a, const Value& b) noexcept {
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::integer && b.kind == Kind::integer) {
            return a.integer == b.integer;
        }
        return a.number() == b.number();
    }
    if (a.kind != b.kind) {
        return false;
    }
    switch (a.kind) {
        case Kind::missing:
        case Kind::null:
            return true;
        case Kind::boolean:
            return a.boolean == b.boolean;
        case Kind::string:
            return a.text == b.text;
        case Kind::object:
        case Kind::array:
            return equal_refs(a.ref, b.ref);
        default:
            return false;  // tuples and errors are never equal
    }
}

bool equal_refs(ValueRef a, ValueRef b) noexcept {
    if (a.type() != b.type() || a.size() != b.size()) {
        return false;
    }
    if (a.type() == ValueType::array) {
        auto ib = b.begin();
        for (ValueRef ea : a) {
            if (!equal_scalars(Value::from(ea), Value::from(*ib))) {
                return false;
            }
            ++ib;
        }
        return true;
    }
    for (ValueRef ma : a) {
        const ValueRef mb = b.member(ma.key());
        if (!mb.valid() || !equal_scalars(Value::from(ma), Value::from(mb))) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool equal(const Value& a, const Value& b) noexcept {
    return equal_scalars(a, b);
}

}  // namespace edgeflow::expr
