#include "io/file/line_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace edgeflow {
namespace {

using testing::HasSubstr;

struct Line {
    std::string text;
    bool truncated;
    std::size_t number;
    bool operator==(const Line&) const = default;
};

void PrintTo(const Line& line, std::ostream* os) {
    *os << "{\"" << line.text << "\", truncated " << line.truncated << ", line " << line.number
        << "}";
}

class LineReaderTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("edgeflow-line-reader-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& content) {
        const auto path = (dir_ / "input.jsonl").string();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }

    // Every line `reader` still has.
    static std::vector<Line> read_all(LineReader& reader) {
        std::vector<Line> lines;
        std::string_view line;
        bool truncated = false;
        while (reader.next(line, truncated)) {
            lines.push_back({std::string(line), truncated, reader.line_number()});
            if (lines.size() > 1000) {
                ADD_FAILURE() << "reader does not stop";
                break;
            }
        }
        return lines;
    }

    std::vector<Line> read_file(const std::string& content, std::size_t max_line_bytes) {
        LineReader reader(max_line_bytes);
        const Status status = reader.open(write(content));
        EXPECT_TRUE(status) << status.message();
        return read_all(reader);
    }

    std::filesystem::path dir_;
};

TEST_F(LineReaderTest, SplitsLinesAndStripsCarriageReturns) {
    EXPECT_THAT(read_file("one\r\ntwo\n\nthree\r\n", 64),
                testing::ElementsAre(Line{"one", false, 1}, Line{"two", false, 2},
                                     Line{"", false, 3}, Line{"three", false, 4}));
}

TEST_F(LineReaderTest, LastLineWithoutNewline) {
    EXPECT_THAT(read_file("first\nlast", 64),
                testing::ElementsAre(Line{"first", false, 1}, Line{"last", false, 2}));
}

TEST_F(LineReaderTest, LastLineWithoutNewlineLosesItsCarriageReturn) {
    EXPECT_THAT(read_file("first\r\nlast\r", 64),
                testing::ElementsAre(Line{"first", false, 1}, Line{"last", false, 2}));
}

TEST_F(LineReaderTest, EmptyFileHasNoLines) {
    EXPECT_THAT(read_file("", 64), testing::IsEmpty());
}

TEST_F(LineReaderTest, LinesAcrossManyBufferRefills) {
    // A buffer of 8 bytes: lines start and end at every offset within it.
    std::string content;
    std::vector<Line> expected;
    for (std::size_t i = 0; i < 40; ++i) {
        const std::string text(i % 8, static_cast<char>('a' + i % 26));
        content += text + (i % 3 == 0 ? "\r\n" : "\n");
        expected.push_back({text, false, i + 1});
    }
    EXPECT_EQ(read_file(content, 8), expected);
}

TEST_F(LineReaderTest, LineOfExactlyTheLimitIsWhole) {
    EXPECT_THAT(read_file("12345678\nnext\n", 8),
                testing::ElementsAre(Line{"12345678", false, 1}, Line{"next", false, 2}));
}

TEST_F(LineReaderTest, LongLineIsTruncatedThenTheNextLineReadsNormally) {
    const std::string long_line(100, 'x');
    const auto lines = read_file("short\n" + long_line + "\nnext\r\nlast\n", 8);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], (Line{"short", false, 1}));
    // Its first bytes, flagged.
    EXPECT_TRUE(lines[1].truncated);
    EXPECT_EQ(lines[1].number, 2u);
    EXPECT_GE(lines[1].text.size(), 8u);
    EXPECT_LT(lines[1].text.size(), long_line.size());
    EXPECT_EQ(long_line.compare(0, lines[1].text.size(), lines[1].text), 0);
    EXPECT_EQ(lines[2], (Line{"next", false, 3}));
    EXPECT_EQ(lines[3], (Line{"last", false, 4}));
}

TEST_F(LineReaderTest, SeveralLongLinesInARow) {
    const std::string a(30, 'a');
    const std::string b(17, 'b');
    const auto lines = read_file(a + "\n" + b + "\nok\n" + a + "\n", 8);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_TRUE(lines[0].truncated);
    EXPECT_EQ(lines[0].text.front(), 'a');
    EXPECT_TRUE(lines[1].truncated);
    EXPECT_EQ(lines[1].text.front(), 'b');
    EXPECT_EQ(lines[2], (Line{"ok", false, 3}));
    EXPECT_TRUE(lines[3].truncated);
    EXPECT_EQ(lines[3].number, 4u);
}

TEST_F(LineReaderTest, LongLastLineWithoutNewlineIsReportedOnce) {
    const auto lines = read_file("ok\n" + std::string(50, 'z'), 8);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], (Line{"ok", false, 1}));
    EXPECT_TRUE(lines[1].truncated);
    EXPECT_EQ(lines[1].text.front(), 'z');
}

TEST_F(LineReaderTest, RewindStartsAgain) {
    LineReader reader(8);
    ASSERT_TRUE(reader.open(write("a\nbb\nccc\n")));
    std::string_view line;
    bool truncated = false;
    ASSERT_TRUE(reader.next(line, truncated));
    ASSERT_TRUE(reader.next(line, truncated));
    EXPECT_EQ(line, "bb");
    ASSERT_TRUE(reader.rewind());
    EXPECT_EQ(reader.line_number(), 0u);
    EXPECT_THAT(read_all(reader), testing::ElementsAre(Line{"a", false, 1}, Line{"bb", false, 2},
                                                       Line{"ccc", false, 3}));
}

TEST_F(LineReaderTest, RewindAtEndOfFile) {
    LineReader reader(8);
    ASSERT_TRUE(reader.open(write("a\nlast")));
    EXPECT_EQ(read_all(reader).size(), 2u);
    ASSERT_TRUE(reader.rewind());
    EXPECT_THAT(read_all(reader),
                testing::ElementsAre(Line{"a", false, 1}, Line{"last", false, 2}));
}

TEST_F(LineReaderTest, RewindRightAfterATruncatedLine) {
    LineReader reader(8);
    ASSERT_TRUE(reader.open(write("first\n" + std::string(40, 'x') + "\nafter\n")));
    std::string_view line;
    bool truncated = false;
    ASSERT_TRUE(reader.next(line, truncated));
    ASSERT_TRUE(reader.next(line, truncated));
    ASSERT_TRUE(truncated);
    ASSERT_TRUE(reader.rewind());
    const auto lines = read_all(reader);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), (Line{"first", false, 1}));
}

TEST_F(LineReaderTest, RewindWithoutAFileFails) {
    LineReader reader(8);
    EXPECT_FALSE(reader.rewind());
}

TEST_F(LineReaderTest, OpenMissingFileFails) {
    LineReader reader(8);
    const auto path = (dir_ / "absent.jsonl").string();
    const Status status = reader.open(path);
    EXPECT_FALSE(status);
    EXPECT_THAT(status.message(), HasSubstr(path));
}

}  // namespace
}  // namespace edgeflow
