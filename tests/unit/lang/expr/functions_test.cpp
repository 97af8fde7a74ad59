// The function tables: every row is callable by its name with the arguments it declares, and
// docs/transforms.md lists exactly the functions the tables define. What each function computes
// is tested in program_test.cpp.
#include "lang/expr/functions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "lang/expr/program.h"

namespace edgeflow::expr {
namespace {

using testing::HasSubstr;

// `name(...)` with `count` arguments: inputs $1, $2, ..., and a string literal where the row
// wants a literal pattern.
std::string call(const FunctionDef& f, std::size_t count) {
    std::string text = std::string(f.name) + "(";
    for (std::size_t i = 0; i < count; ++i) {
        text += i == 0 ? "" : ", ";
        text += static_cast<int>(i) == f.regex_arg ? "'x'" : "$" + std::to_string(i + 1);
    }
    return text + ")";
}

TEST(Functions, EveryRowIsCallableByItsNameWithItsArity) {
    std::set<std::string_view> names;
    for (std::span<const FunctionDef> table : function_tables()) {
        for (const FunctionDef& f : table) {
            SCOPED_TRACE(std::string(f.name));
            EXPECT_TRUE(names.insert(f.name).second) << "defined twice";
            ASSERT_NE(f.impl, nullptr);
            ASSERT_LE(f.min_args, f.max_args);
            ASSERT_LE(f.max_args, variadic_max);
            EXPECT_EQ(find_function(f.name), &f);
            const std::size_t most = std::min<std::size_t>(f.max_args, f.min_args + 2u);
            for (std::size_t n = f.min_args; n <= most; ++n) {
                const auto program = Program::compile(call(f, n), n);
                EXPECT_TRUE(program.has_value())
                    << call(f, n) << ": " << (program ? "" : program.error());
            }
            if (f.max_args != variadic_max) {
                const std::size_t n = f.max_args + 1u;
                const auto program = Program::compile(call(f, n), n);
                ASSERT_FALSE(program.has_value()) << call(f, n);
                EXPECT_THAT(program.error(), HasSubstr(std::string(f.name) + " takes "));
            }
        }
    }
}

// The function names in the first column of the "### Functions" table. A cell writes a
// namespace once for a run of names (`math::abs sqrt`) and may show arguments (`scale(v, lo)`).
std::set<std::string> documented_functions() {
    std::ifstream file(std::string(EDGEFLOW_SOURCE_DIR) + "/docs/transforms.md");
    EXPECT_TRUE(file.is_open());
    std::string line;
    while (std::getline(file, line) && line != "### Functions") {
    }
    std::set<std::string> names;
    const std::regex code("`([^`]*)`");
    const std::regex arguments(R"(\([^)]*\))");
    const std::regex name(R"(([A-Za-z_]\w*::)?[A-Za-z_]\w*)");
    while (std::getline(file, line)) {
        if (line.rfind("| `", 0) != 0) {
            if (!names.empty()) {
                break;  // the end of the table
            }
            continue;
        }
        const std::string cell = line.substr(1, line.find('|', 1) - 1);
        for (std::sregex_iterator it(cell.begin(), cell.end(), code), end; it != end; ++it) {
            std::istringstream words(std::regex_replace((*it)[1].str(), arguments, " "));
            std::string prefix;
            std::string word;
            while (words >> word) {
                if (word == "," || !std::regex_match(word, name)) {
                    continue;
                }
                const auto colons = word.find("::");
                if (colons != std::string::npos) {
                    prefix = word.substr(0, colons + 2);
                    names.insert(word);
                } else {
                    names.insert(prefix + word);
                }
            }
        }
    }
    return names;
}

TEST(Functions, TheDocumentationListsEveryFunction) {
    const std::set<std::string> documented = documented_functions();
    ASSERT_FALSE(documented.empty());
    std::set<std::string> defined;
    for (std::span<const FunctionDef> table : function_tables()) {
        for (const FunctionDef& f : table) {
            defined.emplace(f.name);
        }
    }
    // `abs`: math::abs under the name older Azure IoT Operations examples use, kept for them.
    for (const std::string& f : defined) {
        EXPECT_TRUE(documented.count(f) != 0 || f == "abs") << f << " is not in docs/transforms.md";
    }
    // `if` is evaluated lazily by the evaluator, not through a table row.
    for (const std::string& f : documented) {
        EXPECT_TRUE(defined.count(f) != 0 || f == "if") << f << " is documented but not defined";
    }
}

}  // namespace
}  // namespace edgeflow::expr
