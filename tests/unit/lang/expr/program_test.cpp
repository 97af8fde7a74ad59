// The expression language: precedence, types, missing values, functions and compile errors.
#include "lang/expr/program.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/malloc_counter.h"

namespace edgeflow::expr {
namespace {

class ProgramTest : public testing::Test {
protected:
    Value eval(std::string_view text, std::vector<Value> inputs = {}) {
        auto program = Program::compile(text, inputs.size());
        EXPECT_TRUE(program.has_value()) << text << ": " << (program ? "" : program.error());
        if (!program) {
            return Value::error("did not compile");
        }
        programs_.push_back(std::move(program).value());
        return programs_.back().eval(inputs.data(), scratch_);
    }
    std::string error(std::string_view text, std::size_t inputs = 1) {
        auto program = Program::compile(text, inputs);
        EXPECT_FALSE(program.has_value()) << text << " compiled";
        return program ? std::string() : program.error();
    }
    EvalScratch scratch_;
    std::vector<Program> programs_;
};

TEST_F(ProgramTest, PowerBindsTighterThanUnaryMinus) {
    const Value v = eval("-2^2");
    ASSERT_EQ(v.kind, Kind::integer);
    EXPECT_EQ(v.integer, -4);
    EXPECT_EQ(eval("2^3^2").integer, 512);  // right-associative
    EXPECT_EQ(eval("(-2)^2").integer, 4);
}

TEST_F(ProgramTest, NotBindsTighterThanEquality) {
    // (!a) == b, not !(a == b): the two differ when `a` is not a bool.
    EXPECT_TRUE(eval("!$1 == $2", {Value::of_int(1), Value::of_bool(false)}).is_error());
    EXPECT_TRUE(eval("!($1 == $2)", {Value::of_int(1), Value::of_bool(false)}).boolean);
    EXPECT_TRUE(eval("!$1 == $2", {Value::of_bool(true), Value::of_bool(false)}).boolean);
}

TEST_F(ProgramTest, ArithmeticPrecedenceAndAssociativity) {
    EXPECT_EQ(eval("1 + 2 * 3").integer, 7);
    EXPECT_EQ(eval("10 - 4 - 3").integer, 3);
    EXPECT_EQ(eval("2 * 3 ^ 2").integer, 18);
    EXPECT_EQ(eval("7 % 4 * 2").integer, 6);
    EXPECT_TRUE(eval("1 < 2 && 3 > 2 || false").boolean);
    EXPECT_TRUE(eval("false && true || true").boolean);
}

TEST_F(ProgramTest, IntegerDivisionStaysInteger) {
    const Value v = eval("7 / 2");
    ASSERT_EQ(v.kind, Kind::integer);
    EXPECT_EQ(v.integer, 3);
    EXPECT_EQ(eval("-7 / 2").integer, -3);  // truncates toward zero
    const Value f = eval("7.0 / 2");
    ASSERT_EQ(f.kind, Kind::floating);
    EXPECT_DOUBLE_EQ(f.floating, 3.5);
}

TEST_F(ProgramTest, OverflowBecomesFloat) {
    const Value v = eval("9223372036854775807 + 1");
    ASSERT_EQ(v.kind, Kind::floating);
    EXPECT_DOUBLE_EQ(v.floating, 9223372036854775808.0);
}

TEST_F(ProgramTest, PlusConcatenatesWhenEitherSideIsAString) {
    EXPECT_EQ(eval("'a' + 1").text, "a1");
    EXPECT_EQ(eval("1.5 + \"x\"").text, "1.5x");
    EXPECT_EQ(
        eval("$1 + \", \" + $2", {Value::of_string("Engineer"), Value::of_string("Oslo")}).text,
        "Engineer, Oslo");
    EXPECT_EQ(eval("2.0 + 's'").text, "2.0s");  // a float stays recognisably a float
}

TEST_F(ProgramTest, MissingPropagatesThroughArithmeticButCompares) {
    EXPECT_TRUE(eval("$1 * 2", {Value::missing()}).is_missing());
    EXPECT_TRUE(eval("$1 == ()", {Value::missing()}).boolean);
    EXPECT_FALSE(eval("$1 == ()", {Value::of_int(1)}).boolean);
    EXPECT_EQ(eval("if($1 == (), $2, $1)", {Value::missing(), Value::of_int(5)}).integer, 5);
    EXPECT_EQ(eval("typeof($1)", {Value::missing()}).text, "missing");
}

TEST_F(ProgramTest, TypeErrorsAreErrorValues) {
    EXPECT_TRUE(eval("'a' * 2").is_error());
    EXPECT_TRUE(eval("1 / 0").is_error());
    EXPECT_EQ(eval("1 / $1", {Value::of_int(0)}).text, "division by zero");
    EXPECT_TRUE(eval("!1").is_error());
    EXPECT_TRUE(eval("1 < 'a'").is_error());
}

TEST_F(ProgramTest, ComparisonsAcrossIntAndFloat) {
    EXPECT_TRUE(eval("1 == 1.0").boolean);
    EXPECT_TRUE(eval("2 > 1.5").boolean);
    EXPECT_TRUE(eval("'abc' < 'abd'").boolean);
    EXPECT_FALSE(eval("'1' == 1").boolean);
}

TEST_F(ProgramTest, UnitConversions) {
    EXPECT_DOUBLE_EQ(eval("cToF(25)").floating, 77.0);
    EXPECT_DOUBLE_EQ(eval("fToC(212)").floating, 100.0);
    EXPECT_NEAR(eval("psiToBar(14.5037738)").floating, 1.0, 1e-6);
    EXPECT_NEAR(eval("barToPsi(1)").floating, 14.5037738, 1e-6);
    EXPECT_DOUBLE_EQ(eval("inToCm(1)").floating, 2.54);
    EXPECT_DOUBLE_EQ(eval("cmToIn(2.54)").floating, 1.0);
    EXPECT_DOUBLE_EQ(eval("ftToM(1)").floating, 0.3048);
    EXPECT_NEAR(eval("mToFt(0.3048)").floating, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(eval("lbToKg(1)").floating, 0.45359237);
    EXPECT_NEAR(eval("kgToLb(0.45359237)").floating, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(eval("galToL(1)").floating, 3.785411784);
    EXPECT_NEAR(eval("lToGal(3.785411784)").floating, 1.0, 1e-12);
    EXPECT_TRUE(eval("cToF('x')").is_error());
}

TEST_F(ProgramTest, ScaleRoundingAndExtremes) {
    EXPECT_DOUBLE_EQ(eval("scale(50, 0, 100, 0, 1)").floating, 0.5);
    EXPECT_DOUBLE_EQ(eval("scale(5, 0, 10, 100, 200)").floating, 150.0);
    EXPECT_TRUE(eval("scale(5, 1, 1, 0, 1)").is_error());
    EXPECT_DOUBLE_EQ(eval("round_n(3.14159, 2)").floating, 3.14);
    EXPECT_DOUBLE_EQ(eval("floor(-1.5)").floating, -2.0);
    EXPECT_DOUBLE_EQ(eval("ceil(1.2)").floating, 2.0);
    EXPECT_DOUBLE_EQ(eval("round(2.5)").floating, 3.0);
    EXPECT_DOUBLE_EQ(eval("round(-2.5)").floating, -3.0);
    EXPECT_EQ(eval("round(7)").kind, Kind::integer);
    EXPECT_EQ(eval("min(3, 1, 2)").integer, 1);
    EXPECT_EQ(eval("max((3, 9, 2))").integer, 9);
    EXPECT_DOUBLE_EQ(eval("max(1, 2.5)").floating, 2.5);
    EXPECT_EQ(eval("min('b', 'a')").text, "a");
    EXPECT_TRUE(eval("min(1, 'a')").is_error());
}

TEST_F(ProgramTest, ContainsTypeofLen) {
    EXPECT_TRUE(eval("contains((1, 2, 3), 2)").boolean);
    EXPECT_FALSE(eval("contains((1, 2, 3), 4)").boolean);
    EXPECT_TRUE(eval("contains('pressure', 'ss')").boolean);
    EXPECT_TRUE(eval("contains_any(('a', 'b'), ('x', 'b'))").boolean);
    EXPECT_FALSE(eval("contains_any(('a', 'b'), ('x', 'y'))").boolean);
    EXPECT_EQ(eval("typeof(1)").text, "int");
    EXPECT_EQ(eval("typeof(1.5)").text, "float");
    EXPECT_EQ(eval("typeof('s')").text, "string");
    EXPECT_EQ(eval("typeof(true)").text, "bool");
    EXPECT_EQ(eval("typeof((1, 2))").text, "tuple");
    EXPECT_EQ(eval("len('héllo')").integer, 5);  // characters, not bytes
    EXPECT_EQ(eval("len((1, 2, 3))").integer, 3);
    EXPECT_EQ(eval("len(1, 2, 3)").integer, 3);
}

TEST_F(ProgramTest, MathFunctions) {
    EXPECT_EQ(eval("math::abs(-3)").integer, 3);
    EXPECT_DOUBLE_EQ(eval("math::sqrt(16)").floating, 4.0);
    EXPECT_DOUBLE_EQ(eval("math::cbrt(27)").floating, 3.0);
    EXPECT_NEAR(eval("math::ln(math::exp(2))").floating, 2.0, 1e-12);
    EXPECT_DOUBLE_EQ(eval("math::log2(8)").floating, 3.0);
    EXPECT_DOUBLE_EQ(eval("math::log10(1000)").floating, 3.0);
    EXPECT_NEAR(eval("math::log(81, 3)").floating, 4.0, 1e-12);
    EXPECT_DOUBLE_EQ(eval("math::exp2(10)").floating, 1024.0);
    EXPECT_DOUBLE_EQ(eval("math::pow(2, 0.5)").floating, std::sqrt(2.0));
    EXPECT_NEAR(eval("math::atan2(1, 1)").floating, M_PI / 4, 1e-12);
    EXPECT_DOUBLE_EQ(eval("math::hypot(3, 4)").floating, 5.0);
    EXPECT_NEAR(eval("math::sin(0) + math::cos(0) + math::tan(0)").floating, 1.0, 1e-12);
    EXPECT_NEAR(eval("math::asin(1) + math::acos(1) + math::atan(0)").floating, M_PI / 2, 1e-12);
    EXPECT_TRUE(eval("math::sqrt(-1)").is_error());  // JSON has no NaN
}

TEST_F(ProgramTest, StringFunctions) {
    EXPECT_EQ(eval("str::to_lowercase('AbC')").text, "abc");
    EXPECT_EQ(eval("str::to_uppercase('AbC')").text, "ABC");
    EXPECT_EQ(eval("str::trim('  x y \t')").text, "x y");
    EXPECT_EQ(eval("str::from(12)").text, "12");
    EXPECT_EQ(eval("str::substring('temperature', 0, 4)").text, "temp");
    EXPECT_EQ(eval("str::substring('temperature', 7)").text, "ture");
    EXPECT_TRUE(eval("str::regex_matches('press-01', '^press-\\\\d+$')").boolean);
    EXPECT_FALSE(eval("str::regex_matches('oven-01', '^press')").boolean);
    EXPECT_EQ(eval("str::regex_replace('line-1/line-2', 'line-(\\\\d)', 'L$1')").text, "L1/L2");
}

TEST_F(ProgramTest, DateTimeFunctions) {
    EXPECT_EQ(eval("dt::parse('2026-11-24T10:00:00+02:00')").integer, 1795507200000);
    EXPECT_EQ(eval("dt::format(1795507200000)").text, "2026-11-24T08:00:00.000Z");
    EXPECT_EQ(eval("dt::format(1795507200000, '%Y/%m/%d')").text, "2026/11/24");
    EXPECT_EQ(eval("dt::year(1795507200000)").integer, 2026);
    EXPECT_EQ(eval("dt::hour(1795507200000)").integer, 8);
    EXPECT_EQ(eval("dt::convert(1795507200, 's', 'ms')").integer, 1795507200000);
    EXPECT_TRUE(eval("dt::parse('not a date')").is_error());
    EXPECT_GT(eval("dt::now()").integer, 1795507200000);
}

TEST_F(ProgramTest, ConstantsFoldAtCompileTime) {
    auto program = Program::compile("9 / 5 * 2 + 32", 0);
    ASSERT_TRUE(program.has_value());
    EXPECT_TRUE(program->is_constant());
    auto not_constant = Program::compile("dt::now() + 1", 0);
    ASSERT_TRUE(not_constant.has_value());
    EXPECT_FALSE(not_constant->is_constant());
}

TEST_F(ProgramTest, CompileErrorsNameTheProblem) {
    EXPECT_NE(error("frobnicate($1)").find("unknown function 'frobnicate'"), std::string::npos);
    EXPECT_NE(error("cToF($1, 2)").find("cToF takes 1 argument, given 2"), std::string::npos);
    EXPECT_NE(error("scale($1)").find("scale takes 5 arguments, given 1"), std::string::npos);
    EXPECT_NE(error("$2 + 1").find("'$2' but the rule has 1 input"), std::string::npos);
    EXPECT_NE(error("$1 +").find("column"), std::string::npos);
    EXPECT_NE(error("($1").find("missing ')'"), std::string::npos);
    EXPECT_NE(error("'abc").find("unterminated"), std::string::npos);
    EXPECT_NE(error("str::regex_matches($1, $1)").find("string literal"), std::string::npos);
    EXPECT_NE(error("str::regex_matches($1, '(')").find("str::regex_matches"), std::string::npos);
    EXPECT_NE(error("$1 $1").find("unexpected"), std::string::npos);
    EXPECT_NE(error("temperature * 2").find("'temperature' is not a value"), std::string::npos);
}

// Strings, tuples, regexes and dates computed per message: once the scratch is warm,
// evaluating allocates nothing.
TEST_F(ProgramTest, WarmEvaluationAllocatesNothing) {
    if (!test::malloc_counted) {
        GTEST_SKIP() << "allocations are not counted under sanitizers";
    }
    auto program = Program::compile(
        "str::to_uppercase($1) + '-' + $2 + '/' + str::regex_replace($1, '(b)', '[$1]') + "
        "dt::format($3, '%Y-%m-%dT%H') + len((1, 2, $2)) + max(($2, 3.5))",
        3);
    ASSERT_TRUE(program.has_value()) << program.error();
    const Value inputs[] = {Value::of_string("abc"), Value::of_int(7),
                            Value::of_int(1795507200000)};
    scratch_.reset();
    const std::string expected(program->eval(inputs, scratch_).text);
    EXPECT_EQ(expected, "ABC-7/a[b]c2026-11-24T0837");  // max((7, 3.5)) is the int 7
    const std::size_t before = test::allocation_count();
    for (int i = 0; i < 10000; ++i) {
        scratch_.reset();
        const Value v = program->eval(inputs, scratch_);
        ASSERT_EQ(v.text, expected);
    }
    EXPECT_EQ(test::allocation_count(), before);
}

}  // namespace
}  // namespace edgeflow::expr
