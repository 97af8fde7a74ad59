// The load tools' options: every value checked, every mistake named.
#include "perf/loadgen/tool_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace edgeflow::perf {
namespace {

using testing::HasSubstr;

struct Parsed {
    ToolOptionsResult result;
    std::string stdout_text;
    std::string stderr_text;
};

struct Values {
    double rate = 10;
    int port = 1883;
    std::uint64_t base = 0;
    std::string sub = "x/#";
};

constexpr std::string_view usage = "Usage: tool [--rate R] [--port P]\n\nMore text.\n";

Parsed parse(Values& v, std::vector<const char*> args) {
    args.insert(args.begin(), "tool");
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const auto result = parse_tool_options(
        "tool", usage, static_cast<int>(args.size()), args.data(),
        {number_option("--rate", v.rate, 0.001, 1e6), whole_option("--port", v.port, 1, 65535),
         whole_option("--seq-base", v.base, std::uint64_t{0}, std::uint64_t{1} << 40),
         text_option("--sub", v.sub)});
    Parsed p{result, testing::internal::GetCapturedStdout(),
             testing::internal::GetCapturedStderr()};
    return p;
}

TEST(ToolOptions, ReadsEveryKindOfValue) {
    Values v;
    const auto p = parse(v, {"--rate", "2500.5", "--port", "18830", "--seq-base", "1000000000",
                             "--sub", "enriched/#"});
    EXPECT_EQ(p.result, ToolOptionsResult::run);
    EXPECT_DOUBLE_EQ(v.rate, 2500.5);
    EXPECT_EQ(v.port, 18830);
    EXPECT_EQ(v.base, 1000000000u);
    EXPECT_EQ(v.sub, "enriched/#");
    EXPECT_EQ(p.stderr_text, "");
}

TEST(ToolOptions, ExitCodes) {
    EXPECT_EQ(exit_code_of(ToolOptionsResult::run), std::nullopt);
    EXPECT_EQ(exit_code_of(ToolOptionsResult::help), 0);
    EXPECT_EQ(exit_code_of(ToolOptionsResult::error), 2);
}

TEST(ToolOptions, HelpPrintsTheUsageAndRunsNothing) {
    Values v;
    const auto p = parse(v, {"--rate", "5", "--help", "--port", "oops"});
    EXPECT_EQ(p.result, ToolOptionsResult::help);
    EXPECT_EQ(p.stdout_text, usage);
}

TEST(ToolOptions, EveryMistakeIsNamed) {
    struct Case {
        std::vector<const char*> args;
        const char* message;
    };
    const std::vector<Case> cases = {
        {{"--rate", "abc"}, "tool: --rate must be a number from 0.001 to 1e+06, not 'abc'"},
        {{"--rate", "0"}, "--rate must be a number from 0.001 to 1e+06, not '0'"},
        {{"--rate", "5x"}, "not '5x'"},
        {{"--port", "70000"}, "--port must be a whole number from 1 to 65535, not '70000'"},
        {{"--port", "-1"}, "--port must be a whole number from 1 to 65535, not '-1'"},
        {{"--port", "1.5"}, "not '1.5'"},
        {{"--seq-base", "-3"}, "--seq-base must be a whole number from 0 to 1099511627776"},
        {{"--sub", ""}, "--sub must be a non-empty text, not ''"},
        {{"--rate"}, "tool: --rate needs a value"},
        {{"--rtae", "5"}, "tool: unknown option '--rtae'"},
        {{"5"}, "tool: unknown option '5'"},
    };
    for (const auto& c : cases) {
        Values v;
        const auto p = parse(v, c.args);
        EXPECT_EQ(p.result, ToolOptionsResult::error) << c.message;
        EXPECT_THAT(p.stderr_text, HasSubstr(c.message));
        EXPECT_THAT(p.stderr_text,
                    HasSubstr("Usage: tool [--rate R] [--port P] (--help for more)"));
        EXPECT_EQ(v.rate, 10) << "a bad value is never stored";
        EXPECT_EQ(v.port, 1883);
    }
}

}  // namespace
}  // namespace edgeflow::perf
