// OutputTree: the document a map builds, rule by rule, before it becomes the message's Record.
//
// Records are flat and written in document order, but map rules write paths in any order and
// later rules overwrite or delete what earlier ones wrote. The tree is the mutable form in
// between: objects with children in insertion order, leaves holding a computed Value or a
// reference to a subtree of some Record (copied only when the tree is written out). Nodes live
// in one vector that keeps its capacity, so a warm tree allocates nothing.
//
// Keys are views: into the rule set (literal segments), the input Record, a dataset record or
// a last-value record — all alive until build() has run.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/record.h"
#include "lang/expr/value.h"

namespace edgeflow::transform {

class OutputTree {
public:
    OutputTree() { reset(); }

    void reset() noexcept;

    /// Writes `value` at `path` (creating objects on the way, replacing what was there).
    /// Missing values are not written. Fails only when a node would exceed `max_nodes`.
    bool set(std::span<const std::string_view> path, const expr::Value& value);
    /// Copies every member of `object` to the top level (the pass-through rule).
    bool copy_members(ValueRef object);
    /// Removes the field at `path`, if present.
    void remove(std::span<const std::string_view> path);

    /// Writes the tree into `out` (cleared first) as one object.
    /// `tuples` is the evaluation's tuple stack, for tuple values.
    void build(Record& out, std::span<const expr::Value> tuples) const;

    static constexpr std::size_t max_nodes = 1 << 20;
    static constexpr std::size_t max_path_depth = 32;

private:
    static constexpr std::uint32_t none = 0xffffffffu;
    struct Node {
        std::string_view key;
        expr::Value value;  ///< Kind::object with no ref = an object built here
        std::uint32_t first_child = none;
        std::uint32_t last_child = none;
        std::uint32_t next = none;
        bool removed = false;
        bool expanded = false;  ///< a copied object turned into children by remove()
        bool built_object() const noexcept {
            return value.kind == expr::Kind::object && !value.ref.valid();
        }
    };

    std::uint32_t child(std::uint32_t parent, std::string_view key) const noexcept;
    std::uint32_t add_child(std::uint32_t parent, std::string_view key, const expr::Value& value);
    /// Turns a copied Record object into built children, so a path below it can change.
    bool expand(std::uint32_t node);
    void build_node(Record& out, const Node& node, std::span<const expr::Value> tuples) const;

    std::vector<Node> nodes_;
};

/// Deep-copies `value` into `out` under `key` (a tuple becomes an array).
void append_value(Record& out, std::string_view key, const expr::Value& value,
                  std::span<const expr::Value> tuples);
/// Deep-copies a Record subtree.
void append_ref(Record& out, std::string_view key, ValueRef ref);

}  // namespace edgeflow::transform
