#include "core/config/config_node.h"

namespace edgeflow {

const ConfigNode* ConfigNode::find(std::string_view key) const noexcept {
    for (const auto& [name, node] : members) {
        if (name == key) {
            return &node;
        }
    }
    return nullptr;
}

std::string ConfigNode::describe() const {
    switch (kind) {
        case Kind::null:
            return scalar.empty() ? "nothing" : scalar;
        case Kind::scalar:
            return "\"" + scalar + "\"";
        case Kind::sequence:
            return "a list";
        case Kind::map:
            return "a map";
    }
    return "unknown";
}

}  // namespace edgeflow
