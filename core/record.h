// Record: the engine's own representation of one parsed JSON document.
//
// A Record is a flat, pre-order array of nodes (like simdjson's tape) plus one character arena
// that holds every key and string. A container node stores the index one past its subtree, so
// the next sibling of node i is nodes[i].end and its first child is i + 1. Records are reused
// message after message: clear() keeps the capacity of both vectors, so once the largest
// document has been seen, building a Record allocates nothing.
//
// Building is single-threaded (one worker owns a message at a time); reads are const and may
// happen from any thread that owns the message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeflow {

enum class ValueType : std::uint8_t {
    null,
    boolean,
    int64,
    uint64,
    float64,
    string,
    array,
    object
};

/// Name of a value type as it appears in error messages: "null", "bool", "int", ...
std::string_view to_string(ValueType type) noexcept;

class Record;

/// A read-only handle to one node of a Record. Cheap to copy; valid while the Record is
/// neither cleared nor appended to.
class ValueRef {
public:
    ValueRef() = default;
    ValueRef(const Record* record, std::uint32_t index) : record_(record), index_(index) {}

    bool valid() const noexcept { return record_ != nullptr; }
    ValueType type() const noexcept;
    std::uint32_t index() const noexcept { return index_; }
    const Record* record() const noexcept { return record_; }

    bool as_bool() const noexcept;
    std::int64_t as_int64() const noexcept;
    std::uint64_t as_uint64() const noexcept;
    double as_double() const noexcept;  ///< converts int64/uint64 too
    std::string_view as_string() const noexcept;
    std::string_view key() const noexcept;  ///< member name when the parent is an object

    /// Number of direct children of an array or object; 0 for scalars.
    std::uint32_t size() const noexcept;
    /// Member of an object by name (first match), or an invalid ref.
    ValueRef member(std::string_view name) const noexcept;
    /// Element of an array by position, or an invalid ref.
    ValueRef element(std::uint32_t position) const noexcept;

    /// Iterates over the direct children of a container.
    class Iterator {
    public:
        Iterator(const Record* record, std::uint32_t index) : record_(record), index_(index) {}
        ValueRef operator*() const noexcept { return {record_, index_}; }
        Iterator& operator++() noexcept;
        bool operator==(const Iterator& other) const noexcept { return index_ == other.index_; }

    private:
        const Record* record_;
        std::uint32_t index_;
    };
    Iterator begin() const noexcept;
    Iterator end() const noexcept;

private:
    const Record* record_ = nullptr;
    std::uint32_t index_ = 0;
};

class Record {
public:
    struct Node {
        ValueType type = ValueType::null;
        std::uint32_t key_offset = 0;
        std::uint32_t key_length = 0;
        std::uint32_t end = 0;    ///< index one past this node's subtree
        std::uint32_t count = 0;  ///< direct children (containers) or string length
        union {
            bool boolean;
            std::int64_t int64;
            std::uint64_t uint64;
            double float64;
            std::uint32_t string_offset;
        };
        Node() : int64(0) {}
    };

    /// Forgets the document but keeps the memory for the next one.
    void clear() noexcept {
        nodes_.clear();
        arena_.clear();
        open_.clear();
    }
    bool empty() const noexcept { return nodes_.empty(); }
    /// Exchanges contents (and buffers) with `other`; cheaper than std::swap's three moves.
    void swap(Record& other) noexcept {
        nodes_.swap(other.nodes_);
        arena_.swap(other.arena_);
        open_.swap(other.open_);
    }
    /// Releases the buffers when they hold more than `bytes` (see Message::reset).
    void shrink_if_larger(std::size_t bytes) noexcept {
        if (arena_.capacity() > bytes) {
            std::string().swap(arena_);
        }
        if (nodes_.capacity() * sizeof(Node) > bytes) {
            std::vector<Node>().swap(nodes_);
        }
    }
    std::size_t node_count() const noexcept { return nodes_.size(); }
    ValueRef root() const noexcept { return empty() ? ValueRef() : ValueRef(this, 0); }

    // Building, in document order. `key` is the member name when the parent is an object and is
    // ignored otherwise. Containers are opened, filled, then closed with the index open returned.
    void add_null(std::string_view key);
    void add_bool(std::string_view key, bool value);
    void add_int64(std::string_view key, std::int64_t value);
    void add_uint64(std::string_view key, std::uint64_t value);
    void add_double(std::string_view key, double value);
    void add_string(std::string_view key, std::string_view value);
    std::uint32_t open_object(std::string_view key);
    std::uint32_t open_array(std::string_view key);
    void close(std::uint32_t container) noexcept;
    /// Appends copies of `src`'s nodes [first, last) — whole sibling subtrees, in document
    /// order — into the open container, keys as they are (so members go into an object,
    /// elements into an array). One block copy of nodes and text: much cheaper than rebuilding
    /// them one by one.
    void append_nodes(const Record& src, std::uint32_t first, std::uint32_t last);

    const Node& node(std::uint32_t index) const noexcept { return nodes_[index]; }
    std::string_view text(std::uint32_t offset, std::uint32_t length) const noexcept {
        return {arena_.data() + offset, length};
    }

private:
    Node& push(ValueType type, std::string_view key);
    std::uint32_t store(std::string_view text);

    std::vector<Node> nodes_;
    std::string arena_;
    std::vector<std::uint32_t> open_;  // containers not yet closed, innermost last
};

// The accessors below run for every field of every message (member lookups, serialization):
// defined here so they inline into those loops.

inline ValueType ValueRef::type() const noexcept {
    return record_->node(index_).type;
}
inline bool ValueRef::as_bool() const noexcept {
    return record_->node(index_).boolean;
}
inline std::int64_t ValueRef::as_int64() const noexcept {
    return record_->node(index_).int64;
}
inline std::uint64_t ValueRef::as_uint64() const noexcept {
    return record_->node(index_).uint64;
}

inline double ValueRef::as_double() const noexcept {
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

inline std::string_view ValueRef::as_string() const noexcept {
    const auto& n = record_->node(index_);
    return record_->text(n.string_offset, n.count);
}

inline std::string_view ValueRef::key() const noexcept {
    const auto& n = record_->node(index_);
    return record_->text(n.key_offset, n.key_length);
}

inline std::uint32_t ValueRef::size() const noexcept {
    const auto& n = record_->node(index_);
    return (n.type == ValueType::array || n.type == ValueType::object) ? n.count : 0;
}

inline ValueRef ValueRef::member(std::string_view name) const noexcept {
    if (!valid()) {
        return {};
    }
    const Record::Node& object = record_->node(index_);
    if (object.type != ValueType::object) {
        return {};
    }
    for (std::uint32_t i = index_ + 1; i < object.end;) {
        const Record::Node& child = record_->node(i);
        if (child.key_length == name.size() &&
            record_->text(child.key_offset, child.key_length) == name) {
            return {record_, i};
        }
        i = child.end;
    }
    return {};
}

inline ValueRef::Iterator& ValueRef::Iterator::operator++() noexcept {
    index_ = record_->node(index_).end;
    return *this;
}

inline ValueRef::Iterator ValueRef::begin() const noexcept {
    return {record_, index_ + 1};
}
inline ValueRef::Iterator ValueRef::end() const noexcept {
    return {record_, record_->node(index_).end};
}

inline std::uint32_t Record::store(std::string_view text) {
    const auto offset = static_cast<std::uint32_t>(arena_.size());
    arena_.append(text);
    return offset;
}

inline Record::Node& Record::push(ValueType type, std::string_view key) {
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

inline void Record::add_null(std::string_view key) {
    push(ValueType::null, key);
}
inline void Record::add_bool(std::string_view key, bool value) {
    push(ValueType::boolean, key).boolean = value;
}
inline void Record::add_int64(std::string_view key, std::int64_t value) {
    push(ValueType::int64, key).int64 = value;
}
inline void Record::add_uint64(std::string_view key, std::uint64_t value) {
    push(ValueType::uint64, key).uint64 = value;
}
inline void Record::add_double(std::string_view key, double value) {
    push(ValueType::float64, key).float64 = value;
}
inline void Record::add_string(std::string_view key, std::string_view value) {
    auto& node = push(ValueType::string, key);
    node.count = static_cast<std::uint32_t>(value.size());
    node.string_offset = store(value);
}

}  // namespace edgeflow
