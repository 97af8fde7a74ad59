// KeyTable: the keys of one shard of a stateful stage, each with a slot number for the stage's
// per-key state, bounded at `max_keys` with least-recently-updated eviction.
//
// Open addressing with linear probing over an index of twice the capacity (never rehashed), so
// lookups and inserts take no lock and, once every slot's key buffer has grown to its key's
// size, allocate nothing. A doubly linked list through the slots orders them by last update;
// when the table is full, insert() takes the least recently updated slot (whose values are the
// first to expire) and says so, so the caller resets its state and counts the eviction.
//
// One writer (the shard's thread) at a time; const lookups may run while no writer does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeflow {

class KeyTable {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    explicit KeyTable(std::size_t max_keys);

    /// Bytes a table of `max_keys` allocates when it is built (slots, index, free list).
    static std::uint64_t reserved_bytes(std::size_t max_keys) noexcept;
    /// A key's text beyond what its slot holds in place, as memory figures count it.
    static constexpr std::uint64_t assumed_key_bytes = 48;

    /// The slot of `key`, or none.
    std::uint32_t find(std::string_view key, std::uint64_t hash) const noexcept;

    struct Insert {
        std::uint32_t slot = none;
        bool inserted = false;  ///< the key was new: its slot's state must be reset
        bool evicted = false;   ///< ... and that slot belonged to an evicted key
    };
    /// The slot of `key`, inserting it (evicting the least recently updated key when full).
    Insert insert(std::string_view key, std::uint64_t hash);

    /// Marks `slot` as the most recently updated.
    void touch(std::uint32_t slot) noexcept;
    /// Removes the key of `slot`; the slot becomes free.
    void erase(std::uint32_t slot) noexcept;

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return slots_.size(); }
    std::string_view key(std::uint32_t slot) const noexcept { return slots_[slot].key; }
    bool used(std::uint32_t slot) const noexcept { return slots_[slot].used; }
    /// The least recently updated slot, or none when empty; then toward the newest with newer().
    std::uint32_t oldest() const noexcept { return tail_; }
    std::uint32_t newer(std::uint32_t slot) const noexcept { return slots_[slot].prev; }

private:
    struct Slot {
        std::string key;
        std::uint64_t hash = 0;
        std::uint32_t prev = none;  // toward the most recently updated
        std::uint32_t next = none;  // toward the least recently updated
        std::uint32_t bucket = 0;
        bool used = false;
    };

    std::size_t bucket_of(std::uint64_t hash) const noexcept {
        // Fibonacci hashing: the shard already used the low bits of the hash.
        return static_cast<std::size_t>((hash * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    void unlink(std::uint32_t slot) noexcept;
    void push_front(std::uint32_t slot) noexcept;
    void remove_from_index(std::uint32_t slot) noexcept;

    std::vector<Slot> slots_;
    std::vector<std::uint32_t> index_;  // bucket → slot, or none
    std::vector<std::uint32_t> free_;   // free slots
    std::size_t mask_ = 0;
    unsigned shift_ = 0;
    std::size_t size_ = 0;
    std::uint32_t head_ = none;  // most recently updated
    std::uint32_t tail_ = none;  // least recently updated
};

}  // namespace edgeflow
