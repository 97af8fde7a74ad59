// OpenLoopSchedule: when each message of an open-loop load is due.
//
// Message i is due at start + i / rate, whatever happened to the messages before it: a
// generator that falls behind sends the late messages at once and keeps their scheduled
// times, so latency measured from the scheduled time includes the wait the system under test
// caused (no coordinated omission). A rate of 0 means "as fast as possible": every message is
// due at start. Plain value type; pure arithmetic, no clock reads.
#pragma once

#include <cmath>
#include <cstdint>

namespace edgeflow::perf {

class OpenLoopSchedule {
public:
    /// `rate` messages per second (0: unlimited), the first one due at `start_ns`.
    OpenLoopSchedule(double rate, std::uint64_t start_ns) noexcept
        : period_ns_(rate > 0.0 ? 1e9 / rate : 0.0), start_ns_(start_ns) {}

    double rate() const noexcept { return period_ns_ > 0.0 ? 1e9 / period_ns_ : 0.0; }
    double period_ns() const noexcept { return period_ns_; }
    std::uint64_t start_ns() const noexcept { return start_ns_; }

    /// Scheduled time of message `i` (0-based). Computed from i, never accumulated, so there is
    /// no drift over long runs.
    std::uint64_t due_at(std::uint64_t i) const noexcept {
        return start_ns_ +
               static_cast<std::uint64_t>(std::llround(static_cast<double>(i) * period_ns_));
    }

    /// How many messages are due by `now_ns` (messages 0 .. n-1), capped at `total`.
    std::uint64_t due_by(std::uint64_t now_ns, std::uint64_t total) const noexcept {
        if (now_ns < start_ns_) {
            return 0;
        }
        if (period_ns_ <= 0.0) {
            return total;
        }
        const double elapsed = static_cast<double>(now_ns - start_ns_);
        auto n = static_cast<std::uint64_t>(std::floor(elapsed / period_ns_)) + 1;
        // Rounding in due_at may put message n-1 a nanosecond after now, or message n on it.
        while (n > 0 && due_at(n - 1) > now_ns) {
            --n;
        }
        while (n < total && due_at(n) <= now_ns) {
            ++n;
        }
        return n < total ? n : total;
    }

private:
    double period_ns_;
    std::uint64_t start_ns_;
};

}  // namespace edgeflow::perf
