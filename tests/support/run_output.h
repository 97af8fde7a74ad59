// What integration tests read back from a running or finished `edgeflow run`: the summary
// table it prints at exit, the sequence number a test payload carries, and a bounded wait for a
// condition to hold.
#pragma once

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <thread>

namespace edgeflow::test {

/// The number in the summary row for `label` under the `column`-th numeric column, or the
/// largest value when the row is missing.
inline std::uint64_t summary_value(const std::string& summary, const std::string& label,
                                   int column) {
    const auto at = summary.find(label);
    if (at == std::string::npos) {
        return ~std::uint64_t{0};
    }
    std::istringstream row(summary.substr(at + label.size(), summary.find('\n', at) - at));
    std::uint64_t value = 0;
    for (int i = 0; i <= column && (row >> value); ++i) {
    }
    return value;
}

/// The `"seq":N` of a test payload, or -1 without one.
inline int seq_of(const std::string& payload) {
    const auto at = payload.find("\"seq\":");
    return at == std::string::npos ? -1 : std::stoi(payload.substr(at + 6));
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace edgeflow::test
