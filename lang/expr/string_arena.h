// StringArena: storage for the strings an evaluation computes (concatenation, str::*, dt::format).
//
// Memory comes in blocks that are never moved, so a string_view into the arena stays valid until
// reset(). reset() keeps the blocks, so a warm arena allocates nothing. One arena per worker;
// the caller resets it once per message. Its size is bounded: a request beyond `limit` total
// bytes fails (the caller turns that into an evaluation error), so one hostile message cannot
// grow it without end.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace edgeflow::expr {

class StringArena {
public:
    static constexpr std::size_t block_size = 16 * 1024;
    static constexpr std::size_t default_limit = 4 * 1024 * 1024;

    explicit StringArena(std::size_t limit = default_limit) : limit_(limit) {}

    /// Forgets every string but keeps the memory.
    void reset() noexcept {
        block_ = 0;
        used_ = 0;
        total_ = 0;
    }

    /// Room for `size` bytes, or nullptr when that would pass the limit. Call commit() with
    /// the bytes actually written (at most `size`) before the next reserve().
    char* reserve(std::size_t size) noexcept {
        if (total_ + size > limit_) {
            return nullptr;
        }
        while (block_ < blocks_.size()) {
            Block& b = blocks_[block_];
            if (b.size - used_ >= size) {
                return b.data.get() + used_;
            }
            ++block_;
            used_ = 0;
        }
        const std::size_t bytes = size > block_size ? size : block_size;
        try {
            blocks_.push_back(Block{std::make_unique<char[]>(bytes), bytes});
        } catch (...) {
            return nullptr;
        }
        used_ = 0;
        return blocks_[block_].data.get();
    }
    /// Marks `size` bytes of the last reserve() as used and returns them as a view.
    std::string_view commit(std::size_t size) noexcept {
        char* start = blocks_[block_].data.get() + used_;
        used_ += size;
        total_ += size;
        return {start, size};
    }
    /// Copies the concatenation of `parts` into the arena; empty view with ok=false on overflow.
    template <typename... Parts>
    bool concat(std::string_view& out, const Parts&... parts) noexcept {
        const std::size_t size = (std::string_view(parts).size() + ... + 0);
        char* dst = reserve(size);
        if (dst == nullptr) {
            return false;
        }
        std::size_t at = 0;
        const auto copy = [&](std::string_view part) {
            if (!part.empty()) {
                std::memcpy(dst + at, part.data(), part.size());
                at += part.size();
            }
        };
        (copy(std::string_view(parts)), ...);
        out = commit(size);
        return true;
    }

private:
    struct Block {
        std::unique_ptr<char[]> data;
        std::size_t size = 0;
    };
    std::vector<Block> blocks_;
    std::size_t block_ = 0;  // block being filled
    std::size_t used_ = 0;   // bytes used in that block
    std::size_t total_ = 0;
    std::size_t limit_;
};

}  // namespace edgeflow::expr
