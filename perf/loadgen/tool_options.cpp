#include "perf/loadgen/tool_options.h"

#include <charconv>
#include <cstdio>
#include <limits>

namespace edgeflow::perf {
namespace {

template <typename T>
ToolOption whole(std::string_view name, T& out, T low, T high) {
    return {name, [&out, low, high](std::string_view value) -> std::string {
                T parsed{};
                const auto [end, ec] =
                    std::from_chars(value.data(), value.data() + value.size(), parsed);
                if (ec != std::errc() || end != value.data() + value.size() || parsed < low ||
                    parsed > high) {
                    return "a whole number from " + std::to_string(low) + " to " +
                           std::to_string(high);
                }
                out = parsed;
                return {};
            }};
}

}  // namespace

ToolOption number_option(std::string_view name, double& out, double low, double high) {
    return {name, [&out, low, high](std::string_view value) -> std::string {
                double parsed = 0;
                const auto [end, ec] =
                    std::from_chars(value.data(), value.data() + value.size(), parsed);
                if (ec != std::errc() || end != value.data() + value.size() || !(parsed >= low) ||
                    !(parsed <= high)) {
                    char text[96];
                    std::snprintf(text, sizeof text, "a number from %g to %g", low, high);
                    return text;
                }
                out = parsed;
                return {};
            }};
}

ToolOption whole_option(std::string_view name, std::int64_t& out, std::int64_t low,
                        std::int64_t high) {
    return whole(name, out, low, high);
}
ToolOption whole_option(std::string_view name, int& out, int low, int high) {
    return whole(name, out, low, high);
}
ToolOption whole_option(std::string_view name, std::uint64_t& out, std::uint64_t low,
                        std::uint64_t high) {
    return whole(name, out, low, high);
}

ToolOption text_option(std::string_view name, std::string& out) {
    return {name, [&out](std::string_view value) -> std::string {
                if (value.empty()) {
                    return "a non-empty text";
                }
                out.assign(value);
                return {};
            }};
}

ToolOptionsResult parse_tool_options(std::string_view tool, std::string_view usage, int argc,
                                     const char* const* argv,
                                     const std::vector<ToolOption>& options) {
    const auto fail = [&](const std::string& message) {
        const std::string_view first_line = usage.substr(0, usage.find('\n'));
        std::fprintf(stderr, "%.*s: %s\n%.*s (--help for more)\n", static_cast<int>(tool.size()),
                     tool.data(), message.c_str(), static_cast<int>(first_line.size()),
                     first_line.data());
        return ToolOptionsResult::error;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view name = argv[i];
        if (name == "-h" || name == "--help") {
            std::fwrite(usage.data(), 1, usage.size(), stdout);
            return ToolOptionsResult::help;
        }
        const ToolOption* option = nullptr;
        for (const ToolOption& candidate : options) {
            if (candidate.name == name) {
                option = &candidate;
            }
        }
        if (option == nullptr) {
            return fail("unknown option '" + std::string(name) + "'");
        }
        if (i + 1 >= argc) {
            return fail(std::string(name) + " needs a value");
        }
        const std::string_view value = argv[++i];
        if (const std::string expected = option->set(value); !expected.empty()) {
            return fail(std::string(name) + " must be " + expected + ", not '" +
                        std::string(value) + "'");
        }
    }
    return ToolOptionsResult::run;
}

}  // namespace edgeflow::perf
