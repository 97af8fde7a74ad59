#include "io/file/line_reader.h"

#include <cerrno>
#include <cstring>

namespace edgeflow {

LineReader::LineReader(std::size_t max_line_bytes)
    : buffer_(std::make_unique<char[]>(max_line_bytes + 1)), capacity_(max_line_bytes + 1) {}

LineReader::~LineReader() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

Status LineReader::open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
        return Status::error("cannot open '" + path + "': " + std::strerror(errno));
    }
    return Status::ok();
}

bool LineReader::rewind() {
    if (file_ == nullptr || std::fseek(file_, 0, SEEK_SET) != 0) {
        return false;
    }
    begin_ = end_ = 0;
    eof_ = false;
    skipping_ = false;
    line_number_ = 0;
    return true;
}

bool LineReader::fill() {
    if (eof_) {
        return false;
    }
    if (begin_ > 0) {
        std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    const std::size_t got = std::fread(buffer_.get() + end_, 1, capacity_ - end_, file_);
    end_ += got;
    if (got == 0) {
        eof_ = true;
    }
    return got > 0;
}

bool LineReader::next(std::string_view& line, bool& truncated) {
    truncated = false;
    while (skipping_) {
        auto* newline =
            static_cast<char*>(std::memchr(buffer_.get() + begin_, '\n', end_ - begin_));
        if (newline != nullptr) {
            begin_ = static_cast<std::size_t>(newline - buffer_.get()) + 1;
            skipping_ = false;
            break;
        }
        begin_ = end_ = 0;
        if (!fill()) {
            skipping_ = false;
            return false;
        }
    }
    while (true) {
        char* start = buffer_.get() + begin_;
        auto* newline = static_cast<char*>(std::memchr(start, '\n', end_ - begin_));
        if (newline != nullptr) {
            std::size_t length = static_cast<std::size_t>(newline - start);
            begin_ += length + 1;
            ++line_number_;
            if (length > 0 && start[length - 1] == '\r') {
                --length;
            }
            line = {start, length};
            return true;
        }
        if (begin_ == 0 && end_ == capacity_) {
            // Longer than the buffer: hand out its first bytes, skip the rest on the next call.
            truncated = true;
            skipping_ = true;
            ++line_number_;
            line = {buffer_.get(), capacity_};
            begin_ = end_;
            return true;
        }
        if (!fill()) {
            if (end_ > begin_) {
                std::size_t length = end_ - begin_;  // last line, no newline
                if (buffer_[begin_ + length - 1] == '\r') {
                    --length;
                }
                line = {buffer_.get() + begin_, length};
                begin_ = end_;
                ++line_number_;
                return true;
            }
            return false;
        }
    }
}

}  // namespace edgeflow
