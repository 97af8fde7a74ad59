// The edgeflow subcommands. Each takes its arguments (after the subcommand name) and returns
// the process exit code.
#pragma once

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

/// Parses -c/--config, --endpoints, --log-level and -h/--help; prints the problem and returns
/// false on a bad argument.
bool parse_common(std::span<const std::string_view> args, CommonOptions& options,
                  std::string_view command);

}  // namespace edgeflow::app
