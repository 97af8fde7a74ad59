#include "lang/topic_filter.h"

#include <gtest/gtest.h>

namespace edgeflow {
namespace {

TEST(TopicMatches, ExactLevels) {
    EXPECT_TRUE(topic_matches("plant/line1/temp", "plant/line1/temp"));
    EXPECT_FALSE(topic_matches("plant/line1/temp", "plant/line1/temperature"));
    EXPECT_FALSE(topic_matches("plant/line1/temp", "plant/line1"));
    EXPECT_FALSE(topic_matches("plant/line1", "plant/line1/temp"));
    // Topic names are case sensitive.
    EXPECT_FALSE(topic_matches("Plant/line1", "plant/line1"));
}

TEST(TopicMatches, PlusMatchesExactlyOneLevel) {
    EXPECT_TRUE(topic_matches("plant/+/temp", "plant/line1/temp"));
    EXPECT_FALSE(topic_matches("plant/+/temp", "plant/line1/cell/temp"));
    EXPECT_FALSE(topic_matches("plant/+/temp", "plant/temp"));
    EXPECT_TRUE(topic_matches("+/+", "a/b"));
    EXPECT_FALSE(topic_matches("+/+", "a"));
    EXPECT_FALSE(topic_matches("+/+", "a/b/c"));
    EXPECT_TRUE(topic_matches("+", "a"));
    EXPECT_FALSE(topic_matches("+", "a/b"));
    EXPECT_FALSE(topic_matches("plant/+", "plant"));
}

TEST(TopicMatches, PlusMatchesAnEmptyLevel) {
    // "a/" has two levels, "a" and "".
    EXPECT_TRUE(topic_matches("a/+", "a/"));
    EXPECT_TRUE(topic_matches("+/b", "/b"));
    EXPECT_TRUE(topic_matches("+/+", "/"));
    EXPECT_FALSE(topic_matches("a/+", "a//b"));
}

TEST(TopicMatches, HashMatchesTheRestAndTheParentLevel) {
    EXPECT_TRUE(topic_matches("plant/#", "plant/line1"));
    EXPECT_TRUE(topic_matches("plant/#", "plant/line1/cell/temp"));
    EXPECT_TRUE(topic_matches("plant/#", "plant"));  // the parent level itself
    EXPECT_TRUE(topic_matches("plant/#", "plant/"));
    EXPECT_FALSE(topic_matches("plant/#", "plants"));
    EXPECT_FALSE(topic_matches("plant/#", "other/line1"));
    EXPECT_TRUE(topic_matches("plant/+/#", "plant/line1"));
    EXPECT_TRUE(topic_matches("plant/+/#", "plant/line1/temp/raw"));
    EXPECT_FALSE(topic_matches("plant/+/#", "plant"));
    EXPECT_TRUE(topic_matches("#", "a"));
    EXPECT_TRUE(topic_matches("#", "a/b/c"));
    EXPECT_TRUE(topic_matches("#", "/a"));
}

TEST(TopicMatches, DollarTopicsMatchNoLeadingWildcard) {
    EXPECT_FALSE(topic_matches("#", "$SYS/broker/uptime"));
    EXPECT_FALSE(topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
    EXPECT_FALSE(topic_matches("+", "$SYS"));
    EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/broker/uptime"));
    EXPECT_TRUE(topic_matches("$SYS/+/uptime", "$SYS/broker/uptime"));
    EXPECT_TRUE(topic_matches("$SYS/broker/uptime", "$SYS/broker/uptime"));
    // Only a leading `$` is special.
    EXPECT_TRUE(topic_matches("+/$share", "a/$share"));
    EXPECT_TRUE(topic_matches("#", "a/$SYS"));
}

TEST(ValidTopicFilter, AcceptsWholeLevelWildcards) {
    for (const char* filter :
         {"a", "a/b", "+", "#", "a/+", "a/#", "+/+/#", "/", "a//b", "/#", "$SYS/#", "+/b/+"}) {
        EXPECT_TRUE(valid_topic_filter(filter)) << filter;
    }
}

TEST(ValidTopicFilter, RejectsMisplacedWildcards) {
    for (const char* filter :
         {"", "a/#/b", "#/a", "a#", "a/b#", "#a", "a+", "a/+b", "+a/b", "a/++", "##", "a/#/"}) {
        EXPECT_FALSE(valid_topic_filter(filter)) << filter;
    }
}

}  // namespace
}  // namespace edgeflow
