// `edgeflow check` on pipelines whose transform rules are wrong: each must fail with exit code 1
// and name the problem at its line and column in the file.
//
// Every pipeline below has exactly one problem. Positions are 1-based. A problem inside a rule
// expression is reported at the expression, with the column inside the expression; a problem
// with the only input of a rule may be reported at its `inputs` list, but with several inputs
// the report must point at the one that is wrong.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.h"

using edgeflow::test::Process;
using edgeflow::test::TempDir;

namespace {

struct BadPipeline {
    std::string name;
    std::string yaml;
    std::string position;               ///< "LINE:COLUMN" the problem must be reported at
    std::vector<std::string> mentions;  ///< text the report must contain
};

// The lines before a stage block; stages start on line 5.
const char* const head =
    "sources:\n"               // 1
    "  - kind: file\n"         // 2
    "    path: input.jsonl\n"  // 3
    "stages:\n";               // 4
const char* const tail =
    "destinations:\n"
    "  - kind: file\n"
    "    path: out.jsonl\n";

// A transform with one map rule; the expression is on line 10, its value at column 21.
std::string map_expression(const std::string& inputs, const std::string& expression) {
    std::string yaml = head;
    yaml += "  - kind: transform\n";                     // 5
    yaml += "    name: t\n";                             // 6
    yaml += "    map:\n";                                // 7
    yaml += "      - inputs: " + inputs + "\n";          // 8
    yaml += "        output: b\n";                       // 9
    yaml += "        expression: " + expression + "\n";  // 10
    return yaml + tail;
}

// A transform with one map rule without expression: inputs on line 8 (the list at column 17),
// output on line 9 (its value at column 17).
std::string map_paths(const std::string& inputs, const std::string& output) {
    std::string yaml = head;
    yaml += "  - kind: transform\n";             // 5
    yaml += "    name: t\n";                     // 6
    yaml += "    map:\n";                        // 7
    yaml += "      - inputs: " + inputs + "\n";  // 8
    yaml += "        output: " + output + "\n";  // 9
    return yaml + tail;
}

// A transform with one filter rule, which starts on line 8 at column 9.
std::string filter_rule(const std::string& rest) {
    std::string yaml = head;
    yaml += "  - kind: transform\n";  // 5
    yaml += "    name: t\n";          // 6
    yaml += "    filter:\n";          // 7
    yaml += "      - inputs: [a]\n";  // 8
    return yaml + rest + tail;
}

std::vector<BadPipeline> bad_pipelines() {
    std::vector<BadPipeline> cases;
    cases.push_back({"unknown_function",
                     map_expression("[a]", "nosuch($1)"),
                     "10:21",
                     {"unknown function", "nosuch"}});
    cases.push_back({"too_many_arguments",
                     map_expression("[a]", "cToF($1, 2)"),
                     "10:21",
                     {"cToF", "1 argument", "given 2"}});
    cases.push_back({"too_few_arguments",
                     map_expression("[a]", "round_n($1)"),
                     "10:21",
                     {"round_n", "2 arguments", "given 1"}});
    cases.push_back({"input_beyond_count",
                     map_expression("[a, c]", "$1 + $3"),
                     "10:21",
                     {"$3", "2 inputs", "column 6"}});
    cases.push_back(
        {"syntax_error", map_expression("[a]", "($1 + ) * 2"), "10:21", {"column 7", "')'"}});
    cases.push_back({"regex_does_not_compile",
                     map_expression("[a]", "str::regex_matches($1, \"a(b\")"),
                     "10:21",
                     {"regular expression", "a(b"}});
    cases.push_back(
        {"two_wildcards_in_a_path", map_paths("['a.*.b.*']", "c"), "8:18", {"a.*.b.*", "one '*'"}});
    cases.push_back(
        {"output_without_wildcard", map_paths("['a.*']", "b"), "9:17", {"'*'", "\"b\""}});
    cases.push_back({"several_inputs_without_expression",
                     map_paths("[a, c]", "d"),
                     "8:17",
                     {"expression", "2 inputs"}});
    cases.push_back(
        {"bad_default_not_a_literal", map_paths("['a ?? other']", "a"), "8:18", {"??", "other"}});
    cases.push_back({"unknown_context_alias",
                     map_paths("['$context(nope).x']", "x"),
                     "8:18",
                     {"alias", "nope"}});
    cases.push_back({"filter_rule_with_neither",
                     filter_rule(""),
                     "8:9",
                     {"drop_when", "keep_when", "neither"}});
    cases.push_back({"filter_rule_with_both",
                     filter_rule("        drop_when: $1 > 1\n"
                                 "        keep_when: $1 < 5\n"),
                     "8:9",
                     {"drop_when", "keep_when", "both"}});
    cases.push_back({"unknown_dataset",
                     "datasets:\n"                                  // 1
                     "  assets: {file: assets.jsonl}\n"             // 2
                     "sources:\n"                                   // 3
                     "  - kind: file\n"                             // 4
                     "    path: input.jsonl\n"                      // 5
                     "stages:\n"                                    // 6
                     "  - kind: transform\n"                        // 7
                     "    name: t\n"                                // 8
                     "    datasets:\n"                              // 9
                     "      - key: asset as a\n"                    // 10
                     "        inputs: [$source.id, $context.id]\n"  // 11
                     "        expression: $1 == $2\n" +             // 12
                         std::string(tail),
                     "10:14",
                     {"dataset", "\"asset\""}});
    cases.push_back({"bad_input_topic_variable",
                     "sources:\n"
                     "  - kind: file\n"
                     "    path: input.jsonl\n"
                     "destinations:\n"
                     "  - kind: file\n"
                     "    path: out.jsonl\n"
                     "    topic: out/${inputTopic.x}\n",  // 7, value at column 12
                     "7:12",
                     {"${inputTopic.x}"}});
    cases.push_back({"unknown_stage_kind",
                     std::string(head) +
                         "  - kind: transfrom\n"  // 5, value at column 11
                         "    name: t\n" +
                         tail,
                     "5:11",
                     {"transfrom", "transform"}});
    // A problem in the second of several inputs is reported at that input, not at the list.
    cases.push_back({"problem_in_second_input_is_located",
                     std::string(head) +
                         "  - kind: transform\n"  // 5
                         "    name: t\n"          // 6
                         "    map:\n"             // 7
                         "      - inputs:\n"      // 8
                         "          - a\n"        // 9
                         "          - b.*.c.*\n"  // 10, the path at column 13
                         "        output: c\n"
                         "        expression: $1\n" +
                         tail,
                     "10:13",
                     {"b.*.c.*", "one '*'"}});
    return cases;
}

void PrintTo(const BadPipeline& bad, std::ostream* os) {
    *os << bad.name;
}

class TransformConfigError : public testing::TestWithParam<BadPipeline> {};

TEST_P(TransformConfigError, CheckNamesTheProblemAndItsPosition) {
    const BadPipeline& bad = GetParam();
    TempDir work("transform-config-" + bad.name);
    for (const auto& [name, text] : {std::pair<std::string, std::string>{"pipeline.yaml", bad.yaml},
                                     {"assets.jsonl", "{\"id\":\"m1\"}\n"}}) {
        std::FILE* f = std::fopen(work.file(name).c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    Process check({EDGEFLOW_BINARY, "check", "-c", work.file("pipeline.yaml")}, work.file("check"));
    ASSERT_TRUE(check.started());
    const auto code = check.wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.has_value()) << "edgeflow check did not finish";
    const std::string report = check.out() + check.err();
    EXPECT_EQ(*code, 1) << report;
    EXPECT_NE(report.find("pipeline.yaml:" + bad.position + ": "), std::string::npos)
        << "expected the problem at " << bad.position << ":\n"
        << bad.yaml << "\nreport:\n"
        << report;
    for (const auto& text : bad.mentions) {
        EXPECT_NE(report.find(text), std::string::npos)
            << "the report does not mention " << text << ":\n"
            << report;
    }
    EXPECT_NE(report.find("pipeline.yaml: 1 problem(s)"), std::string::npos)
        << "expected exactly one problem reported:\n"
        << report;
}

INSTANTIATE_TEST_SUITE_P(BadRules, TransformConfigError, testing::ValuesIn(bad_pipelines()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
