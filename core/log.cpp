#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "core/json_writer.h"

namespace edgeflow {
namespace {

std::atomic<LogLevel> current_level{LogLevel::info};
std::mutex write_mutex;

std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
        case LogLevel::off:
            return "off";
    }
    return "info";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
    for (auto level :
         {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off}) {
        if (text == level_name(level)) {
            return level;
        }
    }
    return std::nullopt;
}

void set_log_level(LogLevel level) noexcept {
    current_level.store(level);
}
LogLevel log_level() noexcept {
    return current_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view component, std::string_view message) {
    if (level < log_level() || level == LogLevel::off) {
        return;
    }
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    std::string line = "{\"time\":\"";
    line += stamp;
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"component\":";
    json::append_string(line, component);
    line += ",\"message\":";
    json::append_string(line, message);
    line += "}\n";
    std::lock_guard lock(write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace edgeflow
