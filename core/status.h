// Status and Result<T>: the error currency of edgeflow, shaped like C++23 std::expected.
//
// Used at the edges (config loading, sources, sinks, the CLI), where an operation either
// succeeds or fails with one human-readable message. Per-message failures on the hot path do
// not use these: they set a dead-letter reason on the message (core/message.h).
// A Status holds its message in a std::string, so building a failed Status allocates; an ok
// Status does not.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "core/assert.h"

namespace edgeflow {

/// Success, or failure with a message saying what went wrong.
class [[nodiscard]] Status {
public:
    Status() = default;
    static Status ok() { return Status(); }
    static Status error(std::string message) { return Status(std::move(message), true); }

    bool is_ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return is_ok(); }
    const std::string& message() const noexcept { return message_; }

private:
    Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
    std::string message_;
    bool failed_ = false;
};

/// A value, or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit like std::expected
    Result(Status status) : state_(std::move(status)) {
        EDGEFLOW_ASSERT(!std::get<Status>(state_).is_ok());
    }

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        EDGEFLOW_ASSERT(has_value());
        return std::get<T>(state_);
    }
    const T& value() const& {
        EDGEFLOW_ASSERT(has_value());
        return std::get<T>(state_);
    }
    T&& value() && {
        EDGEFLOW_ASSERT(has_value());
        return std::get<T>(std::move(state_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    const Status& status() const {
        EDGEFLOW_ASSERT(!has_value());
        return std::get<Status>(state_);
    }
    const std::string& error() const { return status().message(); }

private:
    std::variant<T, Status> state_;
};

}  // namespace edgeflow
