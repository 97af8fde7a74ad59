#include <cstdio>
#include <string>

#include "apps/edgeflow/commands.h"

namespace edgeflow::app {

namespace {

bool read_common(std::span<const std::string_view> args, CommonOptions& options,
                 std::string_view command) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        const auto value = [&](std::string_view& out) {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "edgeflow %.*s: %.*s needs a value\n",
                             static_cast<int>(command.size()), command.data(),
                             static_cast<int>(arg.size()), arg.data());
                return false;
            }
            out = args[++i];
            return true;
        };
        if (arg == "-h" || arg == "--help") {
            options.help = true;
        } else if (arg == "-c" || arg == "--config") {
            if (!value(options.config)) {
                return false;
            }
        } else if (arg.starts_with("--config=")) {
            options.config = arg.substr(9);
        } else if (arg == "--endpoints") {
            if (!value(options.endpoints)) {
                return false;
            }
        } else if (arg.starts_with("--endpoints=")) {
            options.endpoints = arg.substr(12);
        } else if (arg == "--log-level") {
            if (!value(options.log_level)) {
                return false;
            }
        } else if (arg.starts_with("--log-level=")) {
            options.log_level = arg.substr(12);
        } else {
            std::fprintf(stderr, "edgeflow %.*s: unknown argument '%.*s' (see --help)\n",
                         static_cast<int>(command.size()), command.data(),
                         static_cast<int>(arg.size()), arg.data());
            return false;
        }
    }
    if (!options.help && options.config.empty()) {
        std::fprintf(stderr, "edgeflow %.*s: -c PIPELINE.yaml is required (see --help)\n",
                     static_cast<int>(command.size()), command.data());
        return false;
    }
    return true;
}

}  // namespace

ParsedCommon parse_common(std::span<const std::string_view> args, std::string_view command,
                          const char* help) {
    ParsedCommon parsed;
    if (!read_common(args, parsed.options, command)) {
        parsed.exit_code = 2;
    } else if (parsed.options.help) {
        std::fputs(help, stdout);
        parsed.exit_code = 0;
    }
    return parsed;
}

}  // namespace edgeflow::app
