#include "lang/topic_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace edgeflow {
namespace {

using testing::HasSubstr;

// topic plant/line1/temp, payload
// {"deviceId":"dev-7","count":-5,"serial":18446744073709551615,"ok":true,"meta":{"site":"north"},
//  "tag.name":"t1","ratio":0.5,"nothing":null,"obj":{},"slash":"a/b","plus":"a+","hash":"#",
//  "empty":""}
Message sample_message() {
    Message message;
    message.topic = "plant/line1/temp";
    Record& r = message.record;
    const auto root = r.open_object({});
    r.add_string("deviceId", "dev-7");
    r.add_int64("count", -5);
    r.add_uint64("serial", std::numeric_limits<std::uint64_t>::max());
    r.add_bool("ok", true);
    const auto meta = r.open_object("meta");
    r.add_string("site", "north");
    r.close(meta);
    r.add_string("tag.name", "t1");
    r.add_double("ratio", 0.5);
    r.add_null("nothing");
    const auto obj = r.open_object("obj");
    r.close(obj);
    r.add_string("slash", "a/b");
    r.add_string("plus", "a+");
    r.add_string("hash", "#");
    r.add_string("empty", "");
    r.close(root);
    return message;
}

TopicTemplate compile(std::string_view pattern) {
    auto parsed = TopicTemplate::parse(pattern);
    EXPECT_TRUE(parsed.has_value()) << pattern << ": " << (parsed ? "" : parsed.error());
    return parsed ? std::move(parsed).value() : TopicTemplate();
}

std::string render(std::string_view pattern, const Message& message) {
    const TopicTemplate t = compile(pattern);
    std::string out;
    std::string_view why;
    EXPECT_TRUE(t.render(message, out, why)) << pattern << ": " << why;
    return out;
}

std::string render_failure(std::string_view pattern, const Message& message) {
    const TopicTemplate t = compile(pattern);
    std::string out;
    std::string_view why;
    EXPECT_FALSE(t.render(message, out, why)) << pattern << " rendered " << out;
    return std::string(why);
}

TEST(TopicTemplate, WholeInputTopic) {
    const Message m = sample_message();
    EXPECT_EQ(render("{topic}", m), "plant/line1/temp");
    EXPECT_EQ(render("out/{topic}", m), "out/plant/line1/temp");
}

TEST(TopicTemplate, LiteralOnly) {
    EXPECT_EQ(render("fixed/topic", sample_message()), "fixed/topic");
}

TEST(TopicTemplate, InputTopicLevelsAreOneBased) {
    const Message m = sample_message();
    EXPECT_EQ(render("{topic.1}", m), "plant");
    EXPECT_EQ(render("enriched/{topic.2}/x", m), "enriched/line1/x");
    EXPECT_EQ(render("{topic.3}-{topic.1}", m), "temp-plant");
}

TEST(TopicTemplate, MissingLevelFailsWithReason) {
    EXPECT_EQ(render_failure("x/{topic.4}", sample_message()), "input topic has no level 4");
}

TEST(TopicTemplate, PayloadFieldsOfEachScalarType) {
    const Message m = sample_message();
    EXPECT_EQ(render("d/{deviceId}", m), "d/dev-7");
    EXPECT_EQ(render("c/{count}", m), "c/-5");
    EXPECT_EQ(render("s/{serial}", m), "s/18446744073709551615");
    EXPECT_EQ(render("b/{ok}", m), "b/true");
    EXPECT_EQ(render("{meta.site}/{topic.2}", m), "north/line1");
    EXPECT_EQ(render(R"(t/{"tag.name"})", m), "t/t1");
}

TEST(TopicTemplate, FalseRendersAsText) {
    Message m = sample_message();
    m.record.clear();
    const auto root = m.record.open_object({});
    m.record.add_bool("ok", false);
    m.record.close(root);
    EXPECT_EQ(render("b/{ok}", m), "b/false");
}

TEST(TopicTemplate, MissingFieldFailsWithReason) {
    EXPECT_EQ(render_failure("d/{nope}", sample_message()),
              "payload field 'nope' is missing or not a scalar");
    EXPECT_EQ(render_failure("d/{meta.nope}", sample_message()),
              "payload field 'meta.nope' is missing or not a scalar");
}

TEST(TopicTemplate, FieldOfAnUnusableTypeFails) {
    const Message m = sample_message();
    for (const char* pattern : {"x/{ratio}", "x/{nothing}", "x/{obj}", "x/{meta}"}) {
        EXPECT_THAT(render_failure(pattern, m), HasSubstr("is missing or not a scalar")) << pattern;
    }
}

TEST(TopicTemplate, FieldThatIsNoValidTopicLevelFails) {
    const Message m = sample_message();
    EXPECT_EQ(render_failure("x/{slash}", m),
              "payload field 'slash' is empty or holds '/', '+' or '#'");
    EXPECT_EQ(render_failure("x/{plus}", m),
              "payload field 'plus' is empty or holds '/', '+' or '#'");
    EXPECT_EQ(render_failure("x/{hash}", m),
              "payload field 'hash' is empty or holds '/', '+' or '#'");
    EXPECT_EQ(render_failure("x/{empty}", m),
              "payload field 'empty' is empty or holds '/', '+' or '#'");
}

TEST(TopicTemplate, FieldWithoutParsedPayloadFails) {
    Message m = sample_message();
    m.record.clear();
    EXPECT_THAT(render_failure("x/{deviceId}", m), HasSubstr("missing"));
}

TEST(TopicTemplate, EmptyResultFails) {
    Message m = sample_message();
    m.topic = "a/";
    EXPECT_EQ(render_failure("{topic.2}", m), "the destination topic is empty");
}

TEST(TopicTemplate, RenderReplacesPreviousContent) {
    const TopicTemplate t = compile("x/{topic.1}");
    std::string out = "left over from the previous message";
    std::string_view why;
    ASSERT_TRUE(t.render(sample_message(), out, why));
    EXPECT_EQ(out, "x/plant");
}

TEST(TopicTemplate, ReadsPayload) {
    EXPECT_FALSE(compile("{topic}").reads_payload());
    EXPECT_FALSE(compile("dlq/{topic.1}/{topic}").reads_payload());
    EXPECT_FALSE(compile("literal").reads_payload());
    EXPECT_TRUE(compile("x/{deviceId}").reads_payload());
    EXPECT_TRUE(compile("{topic.1}/{meta.site}").reads_payload());
}

TEST(TopicTemplate, PatternIsKept) {
    EXPECT_EQ(compile("a/{topic.2}").pattern(), "a/{topic.2}");
}

TEST(TopicTemplate, ParseErrors) {
    struct Case {
        std::string_view pattern;
        std::string_view message;
    };
    const Case cases[] = {
        {"", "an empty topic template"},
        {"a/+/b", "cannot contain '+', '#' or a stray '}'"},
        {"a/#", "cannot contain '+', '#' or a stray '}'"},
        {"a}b", "cannot contain '+', '#' or a stray '}'"},
        {"{topic}/x}", "cannot contain '+', '#' or a stray '}'"},
        {"a/{topic", "'{' without a closing '}'"},
        {"{", "'{' without a closing '}'"},
        {"{topic.0}", "{topic.0} needs a level number from 1, as in {topic.2}"},
        {"{topic.x}", "{topic.x} needs a level number from 1, as in {topic.2}"},
        {"{topic.}", "{topic.} needs a level number from 1, as in {topic.2}"},
        {"{topic.1x}", "{topic.1x} needs a level number from 1, as in {topic.2}"},
        {"{topic.-1}", "{topic.-1} needs a level number from 1, as in {topic.2}"},
        {"x/{}", "empty field path"},
        {"x/{a..b}", "empty segment"},
        {"x/{a.}", "ends with '.'"},
    };
    for (const auto& c : cases) {
        const auto parsed = TopicTemplate::parse(c.pattern);
        ASSERT_FALSE(parsed.has_value()) << c.pattern;
        EXPECT_THAT(parsed.error(), HasSubstr(c.message)) << c.pattern;
        if (!c.pattern.empty()) {
            EXPECT_THAT(parsed.error(), HasSubstr("'" + std::string(c.pattern) + "'")) << c.pattern;
        }
    }
}

TEST(TopicLevel, Levels) {
    std::string_view out;
    ASSERT_TRUE(topic_level("a/b/c", 1, out));
    EXPECT_EQ(out, "a");
    ASSERT_TRUE(topic_level("a/b/c", 2, out));
    EXPECT_EQ(out, "b");
    ASSERT_TRUE(topic_level("a/b/c", 3, out));
    EXPECT_EQ(out, "c");
    EXPECT_FALSE(topic_level("a/b/c", 4, out));
    ASSERT_TRUE(topic_level("a//c", 2, out));
    EXPECT_EQ(out, "");
    ASSERT_TRUE(topic_level("/lead", 2, out));
    EXPECT_EQ(out, "lead");
}

}  // namespace
}  // namespace edgeflow
