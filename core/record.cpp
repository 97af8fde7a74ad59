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

ValueType ValueRef::type() const noexcept {
    return record_->node(index_).type;
}
bool ValueRef::as_bool() const noexcept {
    return record_->node(index_).boolean;
}
std::int64_t ValueRef::as_int64() const noexcept {
    return record_->node(index_).int64;
}
std::uint64_t ValueRef::as_uint64() const noexcept {
    return record_->node(index_).uint64;
}

double ValueRef::as_double() const noexcept {
    const auto& n = record_->node(index_);
    switch (n.type) {
        case ValueType::int64:
            return static_cast<double>(n.int64);
        case ValueType::uint64:
            return static_cast<double>(n.uint64);
        case ValueType::float64:
            return n.float64;
        default:
            return 0.0;
    }
}

std::string_view ValueRef::as_string() const noexcept {
    const auto& n = record_->node(index_);
    return record_->text(n.string_offset, n.count);
}

std::string_view ValueRef::key() const noexcept {
    const auto& n = record_->node(index_);
    return record_->text(n.key_offset, n.key_length);
}

std::uint32_t ValueRef::size() const noexcept {
    const auto& n = record_->node(index_);
    return (n.type == ValueType::array || n.type == ValueType::object) ? n.count : 0;
}

ValueRef ValueRef::member(std::string_view name) const noexcept {
    if (!valid() || type() != ValueType::object) {
        return {};
    }
    for (ValueRef child : *this) {
        if (child.key() == name) {
            return child;
        }
    }
    return {};
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

ValueRef::Iterator& ValueRef::Iterator::operator++() noexcept {
    index_ = record_->node(index_).end;
    return *this;
}

ValueRef::Iterator ValueRef::begin() const noexcept {
    return {record_, index_ + 1};
}
ValueRef::Iterator ValueRef::end() const noexcept {
    return {record_, record_->node(index_).end};
}

std::uint32_t Record::store(std::string_view text) {
    const auto offset = static_cast<std::uint32_t>(arena_.size());
    arena_.append(text);
    return offset;
}

Record::Node& Record::push(ValueType type, std::string_view key) {
    if (!open_.empty()) {
        auto& parent = nodes_[open_.back()];
        ++parent.count;
        if (parent.type != ValueType::object) {
            key = {};
        }
    }
    // Filled in place: a Node built in a temporary and copied in costs a store-forwarding stall.
    const auto key_offset = store(key);
    Node& node = nodes_.emplace_back();
    node.type = type;
    node.key_offset = key_offset;
    node.key_length = static_cast<std::uint32_t>(key.size());
    node.end = static_cast<std::uint32_t>(nodes_.size());
    return node;
}

void Record::add_null(std::string_view key) {
    push(ValueType::null, key);
}
void Record::add_bool(std::string_view key, bool value) {
    push(ValueType::boolean, key).boolean = value;
}
void Record::add_int64(std::string_view key, std::int64_t value) {
    push(ValueType::int64, key).int64 = value;
}
void Record::add_uint64(std::string_view key, std::uint64_t value) {
    push(ValueType::uint64, key).uint64 = value;
}
void Record::add_double(std::string_view key, double value) {
    push(ValueType::float64, key).float64 = value;
}

void Record::add_string(std::string_view key, std::string_view value) {
    auto& node = push(ValueType::string, key);
    node.count = static_cast<std::uint32_t>(value.size());
    node.string_offset = store(value);
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
