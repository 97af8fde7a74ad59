#include "lang/field_path.h"

#include "lang/transform/rule_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace edgeflow {
namespace {

using testing::HasSubstr;

// {"a":{"b.c":{"d":"quoted"},"b":{"c":{"d":"plain"}}},"list":[10,{"k":"v"},[true]],
//  "m":{"0":"zero"},"Tag.10":{"Value":3}}
Record sample() {
    Record record;
    const auto root = record.open_object({});
    const auto a = record.open_object("a");
    const auto bc = record.open_object("b.c");
    record.add_string("d", "quoted");
    record.close(bc);
    const auto b = record.open_object("b");
    const auto c = record.open_object("c");
    record.add_string("d", "plain");
    record.close(c);
    record.close(b);
    record.close(a);
    const auto list = record.open_array("list");
    record.add_int64({}, 10);
    const auto item = record.open_object({});
    record.add_string("k", "v");
    record.close(item);
    const auto inner = record.open_array({});
    record.add_bool({}, true);
    record.close(inner);
    record.close(list);
    const auto m = record.open_object("m");
    record.add_string("0", "zero");
    record.close(m);
    const auto tag = record.open_object("Tag.10");
    record.add_int64("Value", 3);
    record.close(tag);
    record.close(root);
    return record;
}

FieldPath compile(std::string_view text) {
    auto path = FieldPath::parse(text);
    EXPECT_TRUE(path.has_value()) << text << ": " << (path ? "" : path.error());
    return path ? std::move(path).value() : FieldPath();
}

TEST(FieldPath, DottedSegmentsNameNestedMembers) {
    const Record record = sample();
    const FieldPath path = compile("a.b.c.d");
    EXPECT_EQ(path.size(), 4u);
    EXPECT_EQ(path.text(), "a.b.c.d");
    const ValueRef value = path.resolve(record);
    ASSERT_TRUE(value.valid());
    EXPECT_EQ(value.as_string(), "plain");
}

TEST(FieldPath, QuotedSegmentKeepsItsDots) {
    const Record record = sample();
    const FieldPath path = compile(R"(a."b.c".d)");
    EXPECT_EQ(path.size(), 3u);
    const ValueRef value = path.resolve(record);
    ASSERT_TRUE(value.valid());
    EXPECT_EQ(value.as_string(), "quoted");
}

TEST(FieldPath, QuotedSegmentFirstAndLast) {
    const Record record = sample();
    EXPECT_EQ(compile(R"("Tag.10".Value)").resolve(record).as_int64(), 3);
    EXPECT_EQ(compile(R"("a")").size(), 1u);
    EXPECT_EQ(compile(R"(a."b.c")").resolve(record).type(), ValueType::object);
}

TEST(FieldPath, DigitSegmentsIndexArrays) {
    const Record record = sample();
    EXPECT_EQ(compile("list.0").resolve(record).as_int64(), 10);
    EXPECT_EQ(compile("list.1.k").resolve(record).as_string(), "v");
    EXPECT_TRUE(compile("list.2.0").resolve(record).as_bool());
}

TEST(FieldPath, DigitSegmentNamesAMemberOfAnObject) {
    const Record record = sample();
    const ValueRef value = compile("m.0").resolve(record);
    ASSERT_TRUE(value.valid());
    EXPECT_EQ(value.as_string(), "zero");
}

TEST(FieldPath, MissingPathsResolveToAnInvalidRef) {
    const Record record = sample();
    for (const char* text : {"nope", "a.nope", "a.b.c.d.e", "list.3", "list.x", "list.1.nope",
                             "m.1", "a.b.0", "list.99999999999"}) {
        EXPECT_FALSE(compile(text).resolve(record).valid()) << text;
    }
}

TEST(FieldPath, ResolvingInAnEmptyRecordIsInvalid) {
    const Record empty;
    EXPECT_FALSE(compile("a").resolve(empty).valid());
}

TEST(FieldPath, ParseErrors) {
    struct Case {
        std::string_view text;
        std::string_view message;
    };
    const Case cases[] = {
        {"", "empty field path"},
        {"a.", "ends with '.'"},
        {".a", "empty segment"},
        {"a..b", "empty segment"},
        {R"(a."b)", "unterminated quote"},
        {R"(")", "unterminated quote"},
        {R"(a."b"c)", "expected '.' after quoted segment"},
    };
    for (const auto& c : cases) {
        const auto path = FieldPath::parse(c.text);
        ASSERT_FALSE(path.has_value()) << c.text;
        EXPECT_THAT(path.error(), HasSubstr(c.message)) << c.text;
        if (!c.text.empty()) {
            EXPECT_THAT(path.error(), HasSubstr("'" + std::string(c.text) + "'")) << c.text;
        }
    }
}

// FieldPath and rule paths share one parser; these are the rules on which their syntaxes differ.
TEST(FieldPath, StarIsPartOfANameAndDepthIsUnlimited) {
    const auto star = FieldPath::parse("a.*.b*");
    ASSERT_TRUE(star.has_value());
    EXPECT_EQ(star->size(), 3u);
    std::string deep = "a";
    for (int i = 0; i < 40; ++i) {
        deep += ".a";
    }
    const auto path = FieldPath::parse(deep);
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(path->size(), 41u);
    const auto empty_quoted = FieldPath::parse(R"(a."")");
    ASSERT_FALSE(empty_quoted.has_value());
    EXPECT_THAT(empty_quoted.error(), HasSubstr("empty segment in field path"));
}

TEST(RulePathSyntax, WildcardsEmptyQuotedKeysAndDepth) {
    std::size_t wildcard = no_wildcard;
    const auto segments =
        parse_path_segments(R"(a.*."".b)", transform::rule_path_syntax, &wildcard);
    ASSERT_TRUE(segments.has_value()) << segments.error();
    ASSERT_EQ(segments->size(), 4u);
    EXPECT_EQ(wildcard, 1u);
    EXPECT_EQ(segments.value()[1].name, "*");
    EXPECT_EQ(segments.value()[2].name, "");
    std::string deep = "a";
    for (std::size_t i = 0; i < transform::max_path_depth; ++i) {
        deep += ".a";
    }
    struct Case {
        std::string text;
        bool allow_wildcard;
        std::string_view message;
    };
    const Case cases[] = {
        {"", true, "empty path"},
        {"a.", true, "path 'a.' ends with '.'"},
        {"a..b", true, "empty segment in path 'a..b'"},
        {R"(a."b)", true, R"(unterminated quote in path 'a."b')"},
        {R"(a."b"c)", true, R"(expected '.' after a quoted segment in path 'a."b"c')"},
        {"a.b*", true, "'*' must be a whole segment in path 'a.b*'"},
        {"a.*.b.*", true, "only one '*' per path: 'a.*.b.*'"},
        {"a.*", false, "'*' is not allowed here: 'a.*'"},
        {deep, true, "is deeper than 32 segments"},
    };
    for (const auto& c : cases) {
        const auto path = transform::RulePath::parse(c.text, c.allow_wildcard);
        ASSERT_FALSE(path.has_value()) << c.text;
        EXPECT_THAT(path.error(), HasSubstr(c.message)) << c.text;
    }
}

}  // namespace
}  // namespace edgeflow
