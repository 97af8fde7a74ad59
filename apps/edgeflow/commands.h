// The edgeflow subcommands. Each takes its arguments (after the subcommand name) and returns
// the process exit code.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace edgeflow::app {

int run_command(std::span<const std::string_view> args);
int check_command(std::span<const std::string_view> args);
int test_command(std::span<const std::string_view> args);
int record_command(std::span<const std::string_view> args);
int tune_command(std::span<const std::string_view> args);

/// Options every subcommand shares.
struct CommonOptions {
    std::string_view config;
    std::string_view endpoints;  ///< --endpoints: endpoint documents for a Dataflow resource
    std::string_view log_level;
    bool help = false;
};

/// What parse_common found: the options, or the exit code when the command ends here.
struct ParsedCommon {
    CommonOptions options;
    std::optional<int> exit_code;  ///< 2 after a bad argument, 0 after printing the help
};

/// Parses -c/--config, --endpoints, --log-level and -h/--help. On a bad argument it prints the
/// problem; on -h it prints `help` to stdout. Either way the command then returns exit_code.
ParsedCommon parse_common(std::span<const std::string_view> args, std::string_view command,
                          const char* help);

}  // namespace edgeflow::app
