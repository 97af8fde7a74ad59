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

}  // namespace edgeflow
