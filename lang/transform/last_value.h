// Last values: what `path ? $last` falls back on when the path is missing. For each partition
// key (the input topic, or the key `partition_key` computes) a transform remembers one value
// per `? $last` input: the last one that was present.
//
// Keyed state: a transform that has any (Transform::uses_last) runs one instance per shard in a
// serial node, so only that shard's worker calls select() and touches the LastValues it
// returns, one message at a time in each key's order. The counts are plain integers, read for
// the summary once messages have stopped.
//
// Allocates: a key's entry (its key text and one Record per slot) on the key's first message,
// until max_keys keys are remembered; later keys get no entry (counted, and logged once). A
// slot's Record grows to the largest value it has held and is reused after that.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.h"
#include "core/record.h"
#include "lang/expr/program.h"
#include "lang/transform/output_tree.h"
#include "lang/transform/rule_path.h"

namespace edgeflow::transform {

struct TransformScratch;

/// One key's last values, a slot per `? $last` input.
struct LastValues {
    std::vector<Record> slots;

    /// Keeps `value` (present, in the payload) as the slot's last value.
    void remember(std::uint32_t slot, ValueRef value) {
        Record& r = slots[slot];
        r.clear();
        append_ref(r, {}, value);
    }
    /// The slot's last value, or null when none was remembered.
    const Record* recall(std::uint32_t slot) const noexcept {
        const Record& r = slots[slot];
        return r.empty() ? nullptr : &r;
    }
};

/// The last values of every key a transform has seen.
class LastValueTable {
public:
    LastValueTable();
    /// `slots` inputs read `? $last`; the key is computed from `key_inputs` (the input topic when
    /// there are none), combined by `key_expression` when there are several.
    LastValueTable(std::uint32_t slots, std::uint64_t max_keys, std::vector<RulePath> key_inputs,
                   std::optional<expr::Program> key_expression);
    LastValueTable(LastValueTable&&) noexcept;
    LastValueTable& operator=(LastValueTable&&) noexcept;
    ~LastValueTable();

    /// The last values of `m`'s key, created on the key's first message; null when the key
    /// cannot be computed (counted in keys_missing) or max_keys keys are already remembered
    /// (counted in keys_refused). Uses `s.key`, `s.key_values` and `s.eval` as scratch.
    /// `transform` names the transform in the log line.
    LastValues* select(const Message& m, TransformScratch& s, std::string_view transform) noexcept;

    /// Inputs that read `? $last`; 0 when the transform keeps no last values.
    std::uint32_t slots() const noexcept { return slots_; }
    std::uint64_t max_keys() const noexcept { return max_keys_; }
    std::size_t keys() const noexcept;
    std::uint64_t keys_refused() const noexcept { return keys_refused_; }
    std::uint64_t keys_missing() const noexcept { return keys_missing_; }

private:
    std::uint32_t slots_ = 0;
    std::uint64_t max_keys_ = 0;
    std::vector<RulePath> key_inputs_;
    std::optional<expr::Program> key_expression_;
    struct Table;  // the keys' last values (last_value.cpp)
    std::unique_ptr<Table> table_;
    std::uint64_t keys_refused_ = 0;
    std::uint64_t keys_missing_ = 0;
};

}  // namespace edgeflow::transform
