#include "lang/transform/output_tree.h"

namespace edgeflow::transform {

using expr::Kind;
using expr::Value;

void OutputTree::reset() noexcept {
    nodes_.clear();
    Node root;
    root.value.kind = Kind::object;
    nodes_.push_back(root);
}

std::uint32_t OutputTree::child(std::uint32_t parent, std::string_view key) const noexcept {
    for (std::uint32_t c = nodes_[parent].first_child; c != none; c = nodes_[c].next) {
        if (!nodes_[c].removed && nodes_[c].key == key) {
            return c;
        }
    }
    return none;
}

std::uint32_t OutputTree::add_child(std::uint32_t parent, std::string_view key,
                                    const Value& value) {
    if (nodes_.size() >= max_nodes) {
        return none;
    }
    Node n;
    n.key = key;
    n.value = value;
    const auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(n);
    Node& p = nodes_[parent];
    if (p.last_child == none) {
        p.first_child = index;
    } else {
        nodes_[p.last_child].next = index;
    }
    p.last_child = index;
    return index;
}

bool OutputTree::expand(std::uint32_t node) {
    const ValueRef ref = nodes_[node].value.ref;
    nodes_[node].value = Value();
    nodes_[node].value.kind = Kind::object;
    nodes_[node].first_child = none;
    nodes_[node].last_child = none;
    for (ValueRef member : ref) {
        if (add_child(node, member.key(), Value::from(member)) == none) {
            return false;
        }
    }
    return true;
}

bool OutputTree::set(std::span<const std::string_view> path, const Value& value) {
    if (value.is_missing() || path.empty()) {
        return true;
    }
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const bool last = i + 1 == path.size();
        std::uint32_t next = child(at, path[i]);
        if (next == none) {
            Value object;
            object.kind = Kind::object;
            next = add_child(at, path[i], last ? value : object);
            if (next == none) {
                return false;
            }
        } else if (last) {
            nodes_[next].value = value;
            nodes_[next].first_child = none;
            nodes_[next].last_child = none;
        } else if (nodes_[next].value.kind == Kind::object && nodes_[next].value.ref.valid()) {
            if (!expand(next)) {
                return false;
            }
        } else if (!nodes_[next].built_object()) {
            // A scalar is in the way: the deeper write replaces it with an object.
            nodes_[next].value = Value();
            nodes_[next].value.kind = Kind::object;
            nodes_[next].first_child = none;
            nodes_[next].last_child = none;
        }
        at = next;
    }
    return true;
}

bool OutputTree::copy_members(ValueRef object) {
    if (!object.valid() || object.type() != ValueType::object) {
        return true;
    }
    for (ValueRef member : object) {
        const std::string_view key = member.key();
        const std::uint32_t existing = child(0, key);
        if (existing != none) {
            nodes_[existing].value = Value::from(member);
            nodes_[existing].first_child = none;
            nodes_[existing].last_child = none;
        } else if (add_child(0, key, Value::from(member)) == none) {
            return false;
        }
    }
    return true;
}

void OutputTree::remove(std::span<const std::string_view> path) {
    std::uint32_t trail[max_path_depth + 1];
    std::size_t depth = 0;
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < path.size(); ++i) {
        const std::uint32_t next = child(at, path[i]);
        if (next == none) {
            return;
        }
        if (i + 1 == path.size()) {
            nodes_[next].removed = true;
            break;
        }
        if (nodes_[next].value.kind == Kind::object && nodes_[next].value.ref.valid()) {
            if (!nodes_[next].value.ref.member(path[i + 1]).valid() || !expand(next)) {
                return;
            }
            nodes_[next].expanded = true;
        } else if (!nodes_[next].built_object()) {
            return;
        }
        if (depth < max_path_depth) {
            trail[depth++] = next;
        }
        at = next;
    }
    // An object copied from the input that lost its last field goes too: field by field, the
    // copy no longer holds anything there.
    while (depth > 0) {
        const std::uint32_t n = trail[--depth];
        if (!nodes_[n].expanded) {
            break;
        }
        for (std::uint32_t c = nodes_[n].first_child; c != none; c = nodes_[c].next) {
            if (!nodes_[c].removed) {
                return;
            }
        }
        nodes_[n].removed = true;
    }
}

void OutputTree::build_node(Record& out, const Node& node, std::span<const Value> tuples) const {
    if (node.built_object()) {
        const auto index = out.open_object(node.key);
        for (std::uint32_t c = node.first_child; c != none; c = nodes_[c].next) {
            if (!nodes_[c].removed) {
                build_node(out, nodes_[c], tuples);
            }
        }
        out.close(index);
        return;
    }
    append_value(out, node.key, node.value, tuples);
}

void OutputTree::build(Record& out, std::span<const Value> tuples) const {
    out.clear();
    build_node(out, nodes_[0], tuples);
}

void append_ref(Record& out, std::string_view key, ValueRef ref) {
    switch (ref.type()) {
        case ValueType::null:
            out.add_null(key);
            return;
        case ValueType::boolean:
            out.add_bool(key, ref.as_bool());
            return;
        case ValueType::int64:
            out.add_int64(key, ref.as_int64());
            return;
        case ValueType::uint64:
            out.add_uint64(key, ref.as_uint64());
            return;
        case ValueType::float64:
            out.add_double(key, ref.as_double());
            return;
        case ValueType::string:
            out.add_string(key, ref.as_string());
            return;
        case ValueType::object: {
            const auto index = out.open_object(key);
            out.append_nodes(*ref.record(), ref.index() + 1, ref.record()->node(ref.index()).end);
            out.close(index);
            return;
        }
        case ValueType::array: {
            const auto index = out.open_array(key);
            out.append_nodes(*ref.record(), ref.index() + 1, ref.record()->node(ref.index()).end);
            out.close(index);
            return;
        }
    }
}

void append_value(Record& out, std::string_view key, const Value& value,
                  std::span<const Value> tuples) {
    switch (value.kind) {
        case Kind::missing:
        case Kind::error:
        case Kind::null:
            out.add_null(key);
            return;
        case Kind::boolean:
            out.add_bool(key, value.boolean);
            return;
        case Kind::integer:
            out.add_int64(key, value.integer);
            return;
        case Kind::floating:
            out.add_double(key, value.floating);
            return;
        case Kind::string:
            out.add_string(key, value.text);
            return;
        case Kind::object:
        case Kind::array:
            if (value.ref.valid()) {
                append_ref(out, key, value.ref);
            } else {
                out.close(out.open_object(key));
            }
            return;
        case Kind::tuple: {
            const auto index = out.open_array(key);
            for (std::uint32_t i = 0; i < value.tuple_size; ++i) {
                append_value(out, {}, tuples[value.tuple_begin + i], tuples);
            }
            out.close(index);
            return;
        }
    }
}

}  // namespace edgeflow::transform
