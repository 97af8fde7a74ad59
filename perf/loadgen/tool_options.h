// Command-line options of the load tools (edgeflow_mqtt_load, edgeflow_mqtt_roundtrip): pairs
// of `--name value`, every name from the tool's own list, every number checked whole and in
// range. A bad option is an error naming the option and what it expects, never a silent
// default; `-h` / `--help` prints the usage.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeflow::perf {

struct ToolOption {
    std::string_view name;  ///< with its dashes: "--rate"
    /// Stores the value; returns an empty string, or what was expected ("a number from 1 to 8").
    std::function<std::string(std::string_view value)> set;
};

/// Sets `out` from a decimal number in [low, high].
ToolOption number_option(std::string_view name, double& out, double low, double high);
/// Sets `out` from a whole number in [low, high].
ToolOption whole_option(std::string_view name, std::int64_t& out, std::int64_t low,
                        std::int64_t high);
ToolOption whole_option(std::string_view name, int& out, int low, int high);
ToolOption whole_option(std::string_view name, std::uint64_t& out, std::uint64_t low,
                        std::uint64_t high);
/// Sets `out` from any non-empty text.
ToolOption text_option(std::string_view name, std::string& out);

enum class ToolOptionsResult { run, help, error };

/// What a tool exits with when it does not run: nothing for `run`, 0 after `--help`, 2 after
/// a bad option.
inline std::optional<int> exit_code_of(ToolOptionsResult result) noexcept {
    switch (result) {
        case ToolOptionsResult::help:
            return 0;
        case ToolOptionsResult::error:
            return 2;
        case ToolOptionsResult::run:
            break;
    }
    return std::nullopt;
}

/// Reads argv[1..argc). On `help` the usage went to stdout; on `error` a line naming the
/// option went to stderr (after "TOOL: ") followed by the usage's first line.
ToolOptionsResult parse_tool_options(std::string_view tool, std::string_view usage, int argc,
                                     const char* const* argv,
                                     const std::vector<ToolOption>& options);

}  // namespace edgeflow::perf
