#include "core/config/env_references.h"

#include <cstdlib>

namespace edgeflow {
namespace {

constexpr std::string_view opener = "${env:";

bool is_variable_name(std::string_view name) noexcept {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
        return false;
    }
    for (const char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// The value with its references replaced, or nullopt after adding an error for the first one
/// that cannot be.
std::optional<std::string> resolve_scalar(const ConfigNode& node, ConfigErrors& errors,
                                          const EnvLookup& lookup) {
    const std::string& text = node.scalar;
    std::string out;
    std::size_t done = 0;
    for (std::size_t at = text.find(opener); at != std::string::npos; at = text.find(opener, at)) {
        if (at > 0 && text[at - 1] == '$') {
            out.append(text, done, at - 1 - done);  // `$${env:` is a literal `${env:`
            out += opener;
            done = at + opener.size();
            at = done;
            continue;
        }
        const std::size_t name_at = at + opener.size();
        const std::size_t close = text.find('}', name_at);
        if (close == std::string::npos) {
            errors.add(node, "${env:NAME} closed by '}'",
                       "\"" + text.substr(at) + "\", which has no '}'");
            return std::nullopt;
        }
        const std::string name = text.substr(name_at, close - name_at);
        if (!is_variable_name(name)) {
            errors.add(node,
                       "an environment variable name in ${env:NAME} (letters, digits and _, "
                       "not starting with a digit)",
                       "\"" + name + "\"");
            return std::nullopt;
        }
        const auto value = lookup(name);
        if (!value) {
            errors.add(node, "environment variable " + name + " set (for ${env:" + name + "})",
                       name + " is not set");
            return std::nullopt;
        }
        out.append(text, done, at - done);
        out += *value;
        done = close + 1;
        at = done;
    }
    if (done == 0) {
        return std::nullopt;  // nothing to replace
    }
    out.append(text, done);
    return out;
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

void resolve_env_references(ConfigNode& node, ConfigErrors& errors, const EnvLookup& lookup) {
    switch (node.kind) {
        case ConfigNode::Kind::scalar:
            if (node.scalar.find(opener) != std::string::npos) {
                if (auto resolved = resolve_scalar(node, errors, lookup)) {
                    node.scalar = std::move(*resolved);
                }
            }
            break;
        case ConfigNode::Kind::sequence:
            for (ConfigNode& item : node.items) {
                resolve_env_references(item, errors, lookup);
            }
            break;
        case ConfigNode::Kind::map:
            for (auto& member : node.members) {
                resolve_env_references(member.second, errors, lookup);
            }
            break;
        case ConfigNode::Kind::null:
            break;
    }
}

}  // namespace edgeflow
