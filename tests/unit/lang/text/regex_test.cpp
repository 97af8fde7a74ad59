#include "lang/text/regex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/malloc_counter.h"

namespace edgeflow {
namespace {

using testing::HasSubstr;

Regex compile(std::string_view pattern) {
    auto regex = Regex::compile(pattern);
    EXPECT_TRUE(regex.has_value()) << pattern << ": " << (regex ? "" : regex.error());
    return std::move(regex).value();
}

// replace_all into a generous buffer; nullopt when it fails.
std::optional<std::string> replaced(const Regex& regex, std::string_view subject,
                                    std::string_view replacement) {
    std::array<char, 512> buffer{};
    const auto n = regex.replace_all(subject, replacement, buffer.data(), buffer.size());
    if (!n) {
        return std::nullopt;
    }
    return std::string(buffer.data(), *n);
}

TEST(Regex, MatchesAnywhereInTheSubject) {
    const Regex digits = compile(R"(\d+)");
    EXPECT_TRUE(digits.matches("abc123"));
    EXPECT_TRUE(digits.matches("7"));
    EXPECT_FALSE(digits.matches("abc"));
    EXPECT_FALSE(digits.matches(""));
    EXPECT_EQ(digits.pattern(), R"(\d+)");

    const Regex everything = compile("");
    EXPECT_TRUE(everything.matches(""));
    EXPECT_TRUE(everything.matches("anything"));
}

TEST(Regex, Anchors) {
    const Regex whole = compile("^abc$");
    EXPECT_TRUE(whole.matches("abc"));
    EXPECT_FALSE(whole.matches("xabc"));
    EXPECT_FALSE(whole.matches("abcx"));
    EXPECT_FALSE(whole.matches("a\nabc"));  // not multiline: ^ is the subject's start

    const Regex start = compile(R"(\Asensor/)");
    EXPECT_TRUE(start.matches("sensor/1"));
    EXPECT_FALSE(start.matches("plant/sensor/1"));

    const Regex multiline = compile("(?m)^b$");
    EXPECT_TRUE(multiline.matches("a\nb\nc"));

    const Regex word = compile(R"(\btemp\b)");
    EXPECT_TRUE(word.matches("the temp value"));
    EXPECT_FALSE(word.matches("temperature"));
}

TEST(Regex, InlineOptionsAndUtf8) {
    EXPECT_TRUE(compile("(?i)^alarm$").matches("ALARM"));
    // UTF mode: `.` is one character, not one byte.
    EXPECT_TRUE(compile("^.$").matches("é"));
    EXPECT_TRUE(compile("^caf.$").matches("café"));
    EXPECT_TRUE(compile("^...$").matches("温度计"));
    EXPECT_TRUE(compile("[é]").matches("é"));
    // \d is ASCII-only.
    EXPECT_FALSE(compile(R"(\d)").matches("٣"));  // ARABIC-INDIC DIGIT THREE
}

TEST(Regex, NulBytesAreOrdinary) {
    const Regex regex = compile(std::string_view("a\0b", 3));
    EXPECT_TRUE(regex.matches(std::string_view("xa\0by", 5)));
    EXPECT_FALSE(regex.matches("ab"));
}

TEST(Regex, ReplaceWithGroups) {
    const Regex email = compile(R"((\w+)@(\w+)\.com)");
    EXPECT_EQ(replaced(email, "mail ann@example.com or bob@test.com", "$2:$1"),
              "mail example:ann or test:bob");
    EXPECT_EQ(replaced(email, "ann@example.com", "${1}_x"), "ann_x");
    EXPECT_EQ(replaced(email, "ann@example.com", "<$0>"), "<ann@example.com>");
    EXPECT_EQ(replaced(email, "ann@example.com", "$$1"), "$1");

    const Regex named = compile(R"((?<unit>[a-z]+)=(?<value>\d+))");
    EXPECT_EQ(replaced(named, "t=21;h=40", "${value}${unit}"), "21t;40h");

    // Backslash is literal in a replacement.
    EXPECT_EQ(replaced(compile("-"), "a-b", R"(\n\1)"), R"(a\n\1b)");
}

TEST(Regex, ReplaceEdgeCases) {
    // No match: the subject unchanged.
    EXPECT_EQ(replaced(compile("x"), "abc", "y"), "abc");
    EXPECT_EQ(replaced(compile("x"), "", "y"), "");
    // Every match, not only the first.
    EXPECT_EQ(replaced(compile("o"), "foo boo", "0"), "f00 b00");
    // Empty matches between every character.
    EXPECT_EQ(replaced(compile("x*"), "abc", "-"), "-a-b-c-");
    EXPECT_EQ(replaced(compile(""), "é", "|"), "|é|");
    // An optional group that did not take part inserts nothing.
    EXPECT_EQ(replaced(compile("a(b)?c"), "ac abc", "[$1]"), "[] [b]");
    // Empty replacement deletes.
    EXPECT_EQ(replaced(compile(R"(\s+)"), " a  b ", ""), "ab");
}

TEST(Regex, ReplaceRejectsBadReplacements) {
    const Regex regex = compile("(a)");
    EXPECT_FALSE(replaced(regex, "a", "$2"));       // no group 2
    EXPECT_FALSE(replaced(regex, "a", "${name}"));  // no such name
    EXPECT_FALSE(replaced(regex, "a", "${1"));      // unterminated
    EXPECT_FALSE(replaced(regex, "a", "$"));        // dangling
    EXPECT_FALSE(replaced(regex, "a", "\xff"));     // invalid UTF-8
}

TEST(Regex, ReplaceOverflowGivesNullopt) {
    const Regex regex = compile("b");
    std::array<char, 16> buffer{};
    // "aXXc" is 4 characters and PCRE2 adds a NUL, so 5 is the least that fits.
    for (std::size_t capacity = 0; capacity <= 4; ++capacity) {
        buffer.fill('#');
        EXPECT_FALSE(regex.replace_all("abc", "XX", buffer.data(), capacity)) << capacity;
        for (std::size_t i = capacity; i < buffer.size(); ++i) {
            ASSERT_EQ(buffer[i], '#') << "wrote past capacity " << capacity;
        }
    }
    const auto n = regex.replace_all("abc", "XX", buffer.data(), 5);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 4u);
    EXPECT_EQ(std::string_view(buffer.data(), *n), "aXXc");
    EXPECT_EQ(buffer[4], '\0');
    EXPECT_FALSE(regex.replace_all("abc", "XX", nullptr, 0));
}

TEST(Regex, BadPatternNamesPatternReasonAndOffset) {
    const auto unclosed = Regex::compile("temp(ab");
    ASSERT_FALSE(unclosed);
    EXPECT_THAT(unclosed.error(), HasSubstr("'temp(ab'"));
    EXPECT_THAT(unclosed.error(), HasSubstr("missing closing parenthesis"));
    EXPECT_THAT(unclosed.error(), HasSubstr("at offset 7"));

    const auto repeat = Regex::compile("a**");
    ASSERT_FALSE(repeat);
    EXPECT_THAT(repeat.error(), HasSubstr("at offset 2"));

    EXPECT_FALSE(Regex::compile("[z-a]"));
    EXPECT_FALSE(Regex::compile("\xff"));     // the pattern itself must be UTF-8
    EXPECT_FALSE(Regex::compile(R"(a\Cb)"));  // \C could split a UTF-8 character
}

TEST(Regex, InvalidUtf8SubjectsAreSafe) {
    const std::string subject =
        "\xff"
        "abc\xc3"
        "\xe2\x82"
        "def\x80";
    EXPECT_TRUE(compile("abc").matches(subject));
    EXPECT_TRUE(compile("def").matches(subject));
    EXPECT_FALSE(compile("^abc").matches(subject));
    // Invalid bytes are never part of a match.
    EXPECT_FALSE(compile("c.d").matches(subject));
    EXPECT_FALSE(compile("^.+$").matches(subject));
    EXPECT_TRUE(compile("^.+$").matches("é"));
    EXPECT_FALSE(compile("^.+$").matches("\xc3"));  // a truncated é

    EXPECT_EQ(replaced(compile("[a-f]"), subject, "_"), "\xff___\xc3\xe2\x82___\x80");
    // Empty matches around invalid bytes: they are kept, none is split or skipped.
    const auto around = replaced(compile("x*"), "\xff\xc3", "-");
    ASSERT_TRUE(around);
    EXPECT_NE(around->find('\xff'), std::string::npos);
    EXPECT_NE(around->find('\xc3'), std::string::npos);
    for (const char* text : {"\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\xaf"}) {
        EXPECT_FALSE(compile(".").matches(text)) << text;
        EXPECT_TRUE(replaced(compile("."), text, "?"));
    }
}

TEST(Regex, ManyGroups) {
    // More groups than the per-thread block starts with, so the block must grow.
    std::string pattern;
    std::string subject;
    for (int i = 0; i < 40; ++i) {
        pattern += "(.)";
        subject += static_cast<char>('A' + i);
    }
    const Regex regex = compile(pattern);
    EXPECT_EQ(replaced(regex, subject, "$40$1"), "hA");
    EXPECT_TRUE(regex.matches(subject));
    EXPECT_FALSE(replaced(regex, subject, "$41"));
}

TEST(Regex, Moves) {
    Regex a = compile("^a+$");
    Regex b = std::move(a);
    EXPECT_TRUE(b.matches("aaa"));
    EXPECT_EQ(b.pattern(), "^a+$");
    EXPECT_FALSE(a.matches("aaa"));         // NOLINT(bugprone-use-after-move): moved-from is inert
    EXPECT_FALSE(replaced(a, "aaa", "b"));  // NOLINT(bugprone-use-after-move)

    Regex c = compile("b");
    c = std::move(b);
    EXPECT_TRUE(c.matches("aa"));
    EXPECT_FALSE(c.matches("b"));

    std::vector<Regex> many;
    many.reserve(100);
    for (int i = 0; i < 100; ++i) {
        many.push_back(compile(std::to_string(i)));
    }
    EXPECT_TRUE(many[42].matches("x42x"));
    EXPECT_FALSE(many[42].matches("x24x"));
}

TEST(Regex, PathologicalBacktrackingEnds) {
    // Exponential for a backtracking matcher; PCRE2's match limit ends it with no match.
    const Regex regex = compile("^(a+)+$");
    const std::string subject = std::string(40, 'a') + "b";
    EXPECT_FALSE(regex.matches(subject));
    EXPECT_TRUE(regex.matches(std::string(40, 'a')));
}

TEST(Regex, DeepRecursionFallsBackFromJit) {
    // Each repetition of a capturing alternative leaves a backtracking point; 200,000 of them
    // outgrow the JIT's 32 KiB stack, and the interpreter finishes the match.
    const Regex regex = compile("^(a|b)*$");
    const std::string subject(200'000, 'a');
    EXPECT_TRUE(regex.matches(subject));
    EXPECT_FALSE(regex.matches(subject + "c"));
    const auto n = replaced(regex, "abab", "<$1>");
    EXPECT_EQ(n, "<b>");
}

TEST(Regex, ConcurrentUseGivesRightAnswers) {
    const Regex sensor = compile(R"(^sensor/(\w+)/(temp|hum)$)");
    std::string wide_pattern;
    for (int i = 0; i < 36; ++i) {
        wide_pattern += "(.)";
    }
    const Regex wide = compile(wide_pattern);
    const std::string wide_subject = "abcdefghijklmnopqrstuvwxyz0123456789";

    struct Case {
        std::string_view subject;
        bool matches;
        std::string_view replaced;
    };
    const std::array<Case, 5> cases = {{
        {"sensor/a1/temp", true, "a1.temp"},
        {"sensor/b22/hum", true, "b22.hum"},
        {"sensor/c3/pressure", false, "sensor/c3/pressure"},
        {"plant/sensor/d4/temp", false, "plant/sensor/d4/temp"},
        {"sensor/\xff/temp", false, "sensor/\xff/temp"},
    }};

    constexpr int thread_count = 4;
    constexpr int rounds = 20'000;
    std::atomic<int> wrong{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(thread_count);
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            std::array<char, 128> buffer{};
            for (int round = 0; round < rounds; ++round) {
                const Case& c = cases[static_cast<std::size_t>(round + t) % cases.size()];
                if (sensor.matches(c.subject) != c.matches) {
                    ++wrong;
                }
                const auto n = sensor.replace_all(c.subject, "$1.$2", buffer.data(), buffer.size());
                if (!n || std::string_view(buffer.data(), *n) != c.replaced) {
                    ++wrong;
                }
                if (round % 16 == t) {
                    const auto w =
                        wide.replace_all(wide_subject, "$36$1", buffer.data(), buffer.size());
                    if (!w || std::string_view(buffer.data(), *w) != "9a") {
                        ++wrong;
                    }
                }
            }
        });
    }
    go = true;
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(wrong.load(), 0);
}

TEST(Regex, AllocatesNothingAfterWarmUp) {
    if (!test::malloc_counted) {
        GTEST_SKIP() << "allocations are not counted under sanitizers";
    }
    const std::size_t at_start = test::allocation_count();
    const Regex regex = compile(R"((?<id>\w+)-(\d+))");
    ASSERT_GT(test::allocation_count(), at_start) << "the counter must see PCRE2's allocations";
    std::array<char, 128> buffer{};
    const auto run = [&] {
        int hits = 0;
        hits += regex.matches("device dev-42 online") ? 1 : 0;
        hits += regex.matches("no dashes here") ? 1 : 0;
        hits += regex.replace_all("a-1 b-2 c-3", "$2${id}", buffer.data(), buffer.size()) ? 1 : 0;
        hits += regex.replace_all("\xff-1 x-\xc3", "$2", buffer.data(), buffer.size()) ? 1 : 0;
        return hits;
    };
    EXPECT_EQ(run(), 3);  // warm-up: this thread's match data block
    const std::size_t before = test::allocation_count();
    int hits = 0;
    for (int i = 0; i < 1000; ++i) {
        hits += run();
    }
    EXPECT_EQ(test::allocation_count(), before);
    EXPECT_EQ(hits, 3000);
}

}  // namespace
}  // namespace edgeflow
