#include "stages/keyed/key_table.h"

#include <bit>

#include "core/assert.h"

namespace edgeflow {

KeyTable::KeyTable(std::size_t max_keys) : slots_(max_keys) {
    EDGEFLOW_ASSERT(max_keys > 0 && max_keys < none / 2);
    const std::size_t buckets = std::bit_ceil(2 * max_keys);
    index_.assign(buckets, none);
    mask_ = buckets - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(buckets));
    free_.reserve(max_keys);
    for (std::size_t i = max_keys; i-- > 0;) {
        free_.push_back(static_cast<std::uint32_t>(i));
    }
}

std::uint64_t KeyTable::reserved_bytes(std::size_t max_keys) noexcept {
    return max_keys * (sizeof(Slot) + sizeof(std::uint32_t)) +
           std::bit_ceil(2 * max_keys) * sizeof(std::uint32_t);
}

std::uint32_t KeyTable::find(std::string_view key, std::uint64_t hash) const noexcept {
    for (std::size_t b = bucket_of(hash);; b = (b + 1) & mask_) {
        const std::uint32_t slot = index_[b];
        if (slot == none) {
            return none;
        }
        if (slots_[slot].hash == hash && slots_[slot].key == key) {
            return slot;
        }
    }
}

KeyTable::Insert KeyTable::insert(std::string_view key, std::uint64_t hash) {
    Insert result;
    std::size_t b = bucket_of(hash);
    for (;; b = (b + 1) & mask_) {
        const std::uint32_t slot = index_[b];
        if (slot == none) {
            break;
        }
        if (slots_[slot].hash == hash && slots_[slot].key == key) {
            result.slot = slot;
            return result;
        }
    }
    if (free_.empty()) {
        const std::uint32_t victim = tail_;
        erase(victim);
        result.evicted = true;
        // The probe sequence may have changed: find the empty bucket again.
        b = bucket_of(hash);
        while (index_[b] != none) {
            b = (b + 1) & mask_;
        }
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    Slot& s = slots_[slot];
    s.key.assign(key);
    s.hash = hash;
    s.used = true;
    s.bucket = static_cast<std::uint32_t>(b);
    index_[b] = slot;
    push_front(slot);
    ++size_;
    result.slot = slot;
    result.inserted = true;
    return result;
}

void KeyTable::touch(std::uint32_t slot) noexcept {
    if (head_ == slot) {
        return;
    }
    unlink(slot);
    push_front(slot);
}

void KeyTable::erase(std::uint32_t slot) noexcept {
    EDGEFLOW_ASSERT(slots_[slot].used);
    remove_from_index(slot);
    unlink(slot);
    slots_[slot].used = false;
    free_.push_back(slot);
    --size_;
}

void KeyTable::unlink(std::uint32_t slot) noexcept {
    Slot& s = slots_[slot];
    if (s.prev != none) {
        slots_[s.prev].next = s.next;
    } else {
        head_ = s.next;
    }
    if (s.next != none) {
        slots_[s.next].prev = s.prev;
    } else {
        tail_ = s.prev;
    }
    s.prev = none;
    s.next = none;
}

void KeyTable::push_front(std::uint32_t slot) noexcept {
    Slot& s = slots_[slot];
    s.prev = none;
    s.next = head_;
    if (head_ != none) {
        slots_[head_].prev = slot;
    }
    head_ = slot;
    if (tail_ == none) {
        tail_ = slot;
    }
}

// Backward-shift deletion: entries after the hole that may live in it move back, so probes
// never need tombstones.
void KeyTable::remove_from_index(std::uint32_t slot) noexcept {
    std::size_t hole = slots_[slot].bucket;
    index_[hole] = none;
    for (std::size_t b = (hole + 1) & mask_; index_[b] != none; b = (b + 1) & mask_) {
        const std::uint32_t moved = index_[b];
        const std::size_t home = bucket_of(slots_[moved].hash);
        // Move it when its home is not in the cyclic range (hole, b].
        const bool home_in_range =
            hole <= b ? (home > hole && home <= b) : (home > hole || home <= b);
        if (!home_in_range) {
            index_[hole] = moved;
            slots_[moved].bucket = static_cast<std::uint32_t>(hole);
            index_[b] = none;
            hole = b;
        }
    }
}

}  // namespace edgeflow
