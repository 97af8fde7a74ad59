// Logging: one JSON object per line on stderr — time, level, component, message.
//
// Not for the per-message path: callers log state changes (connected, lost, reconnecting),
// start-up and shutdown, and rate-limited summaries of per-message problems. Thread-safe; each
// line is written with one call under a mutex, so lines never interleave.
#pragma once

#include <atomic>
#include <optional>
#include <string_view>

namespace edgeflow {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;
void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;

void log(LogLevel level, std::string_view component, std::string_view message);

inline void log_debug(std::string_view component, std::string_view message) {
    if (log_level() <= LogLevel::debug) {
        log(LogLevel::debug, component, message);
    }
}
inline void log_info(std::string_view component, std::string_view message) {
    log(LogLevel::info, component, message);
}
inline void log_warn(std::string_view component, std::string_view message) {
    log(LogLevel::warn, component, message);
}
inline void log_error(std::string_view component, std::string_view message) {
    log(LogLevel::error, component, message);
}

}  // namespace edgeflow
