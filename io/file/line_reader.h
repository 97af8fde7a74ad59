// LineReader: reads a file line by line into one fixed buffer, so a file with a huge or
// endless line cannot make the reader allocate without bound. A line longer than the buffer is
// reported as truncated (its first bytes) and the rest of it skipped.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace edgeflow {

class LineReader {
public:
    explicit LineReader(std::size_t max_line_bytes);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    Status open(const std::string& path);
    /// Next line without its newline (and without a trailing '\r'). False at end of file.
    /// `truncated` is set when the line was longer than the buffer.
    bool next(std::string_view& line, bool& truncated);
    /// Starts again from the beginning of the file.
    bool rewind();
    std::size_t line_number() const noexcept { return line_number_; }

private:
    bool fill();

    std::FILE* file_ = nullptr;
    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    bool skipping_ = false;  // inside the rest of a truncated line
    std::size_t line_number_ = 0;
};

}  // namespace edgeflow
