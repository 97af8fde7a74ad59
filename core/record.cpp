#include "core/record.h"

#include "core/assert.h"

namespace edgeflow {

std::string_view to_string(ValueType type) noexcept {
    switch (type) {
        case ValueType::null:
            return "null";
        case ValueType::boolean:
            return "bool";
        case ValueType::int64:
            return "int";
        case ValueType::uint64:
            return "uint";
        case ValueType::float64:
            return "float";
        case ValueType::string:
            return "string";
        case ValueType::array:
            return "array";
        case ValueType::object:
            return "object";
    }
    return "unknown";
}

ValueRef ValueRef::element(std::uint32_t position) const noexcept {
    if (!valid() || type() != ValueType::array || position >= size()) {
        return {};
    }
    auto it = begin();
    for (std::uint32_t i = 0; i < position; ++i) {
        ++it;
    }
    return *it;
}

std::uint32_t Record::open_object(std::string_view key) {
    push(ValueType::object, key);
    const auto index = static_cast<std::uint32_t>(nodes_.size() - 1);
    open_.push_back(index);
    return index;
}

std::uint32_t Record::open_array(std::string_view key) {
    push(ValueType::array, key);
    const auto index = static_cast<std::uint32_t>(nodes_.size() - 1);
    open_.push_back(index);
    return index;
}

void Record::append_nodes(const Record& src, std::uint32_t first, std::uint32_t last) {
    if (first >= last) {
        return;
    }
    // A record's keys and strings sit in its arena in document order, so the text of a run of
    // sibling subtrees is one contiguous range: from the first node's key to the end of the
    // last node's key or string.
    const Node& tail = src.nodes_[last - 1];
    const std::uint32_t start = src.nodes_[first].key_offset;
    const std::uint32_t stop = tail.type == ValueType::string ? tail.string_offset + tail.count
                                                              : tail.key_offset + tail.key_length;
    const auto base = static_cast<std::uint32_t>(arena_.size());
    arena_.append(src.arena_, start, stop - start);
    const auto node_base = static_cast<std::uint32_t>(nodes_.size());
    std::uint32_t siblings = 0;
    for (std::uint32_t i = first; i < last; i = src.nodes_[i].end) {
        ++siblings;
    }
    if (!open_.empty()) {
        nodes_[open_.back()].count += siblings;
    }
    // Copy the nodes as they are, then rebase offsets in place (building each node in a
    // temporary costs a store-forwarding stall per node).
    nodes_.insert(nodes_.end(), src.nodes_.begin() + first, src.nodes_.begin() + last);
    for (std::uint32_t i = node_base; i < nodes_.size(); ++i) {
        Node& n = nodes_[i];
        n.key_offset = n.key_offset - start + base;
        if (n.type == ValueType::string) {
            n.string_offset = n.string_offset - start + base;
        }
        n.end = n.end - first + node_base;
    }
}

void Record::close(std::uint32_t container) noexcept {
    EDGEFLOW_ASSERT(!open_.empty() && open_.back() == container);
    nodes_[container].end = static_cast<std::uint32_t>(nodes_.size());
    open_.pop_back();
}

}  // namespace edgeflow
