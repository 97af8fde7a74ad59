#include "core/config/yaml_loader.h"

#include <yaml-cpp/yaml.h>

#include "core/config/env_references.h"

#include <fstream>
#include <sstream>

namespace edgeflow {
namespace {

std::string child_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}

ConfigNode convert(const YAML::Node& node, std::string path, std::string_view text,
                   std::uint32_t file, ConfigErrors& errors) {
    ConfigNode out;
    out.path = std::move(path);
    out.file = file;
    const auto mark = node.Mark();
    out.line = mark.line + 1;
    out.column = mark.column + 1;
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            out.kind = ConfigNode::Kind::null;
            // yaml-cpp gives `key: null` and `key:` the same node; keep the word when there is
            // one, so that `kind: null` can name the null destination.
            if (mark.pos >= 0 && static_cast<std::size_t>(mark.pos) < text.size()) {
                const auto rest = text.substr(static_cast<std::size_t>(mark.pos));
                for (std::string_view word : {"null", "Null", "NULL", "~"}) {
                    if (rest.starts_with(word)) {
                        out.scalar = std::string(word);
                    }
                }
            }
            break;
        case YAML::NodeType::Scalar:
            out.kind = ConfigNode::Kind::scalar;
            out.scalar = node.Scalar();
            // yaml-cpp tags plain scalars "?" and quoted ones "!".
            out.quoted = node.Tag() == "!";
            break;
        case YAML::NodeType::Sequence: {
            out.kind = ConfigNode::Kind::sequence;
            std::size_t i = 0;
            for (const auto& item : node) {
                out.items.push_back(
                    convert(item, out.path + "[" + std::to_string(i++) + "]", text, file, errors));
            }
            break;
        }
        case YAML::NodeType::Map: {
            out.kind = ConfigNode::Kind::map;
            for (const auto& entry : node) {
                ConfigNode key = convert(entry.first, out.path, text, file, errors);
                if (!key.is_scalar()) {
                    errors.add(key, "a plain key", key.describe());
                    continue;
                }
                auto value =
                    convert(entry.second, child_path(out.path, key.scalar), text, file, errors);
                if (out.find(key.scalar) != nullptr) {
                    value.line = key.line;
                    value.column = key.column;
                    errors.add(value, "each key once", "\"" + key.scalar + "\" again");
                    continue;
                }
                value.key_line = key.line;
                value.key_column = key.column;
                // An empty value (`key:`) has no position of its own; point at its key.
                if (value.is_null() && value.scalar.empty()) {
                    value.line = key.line;
                    value.column = key.column;
                }
                out.members.emplace_back(key.scalar, std::move(value));
            }
            break;
        }
    }
    return out;
}

}  // namespace

std::optional<ConfigNode> load_yaml_text(const std::string& text, ConfigErrors& errors) {
    try {
        const YAML::Node root = YAML::Load(text);
        auto node = convert(root, "", text, 0, errors);
        if (!node.is_map()) {
            node.line = std::max(node.line, 1);
            node.column = std::max(node.column, 1);
            errors.add(node, "a map of top-level blocks (sources, destinations, runtime)");
            return std::nullopt;
        }
        resolve_env_references(node, errors);
        return node;
    } catch (const YAML::Exception& e) {
        ConfigNode at;
        at.line = e.mark.line + 1;
        at.column = e.mark.column + 1;
        errors.add(at, "valid YAML", e.msg);
        return std::nullopt;
    }
}

std::optional<ConfigNode> load_yaml_file(const std::string& path, ConfigErrors& errors) {
    std::ifstream in(path);
    if (!in) {
        errors.add_global("", "a readable pipeline file", "it cannot be opened");
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return load_yaml_text(text.str(), errors);
}

std::optional<std::vector<ConfigNode>> load_yaml_documents_text(const std::string& text,
                                                                ConfigErrors& errors,
                                                                std::uint32_t file) {
    ConfigNode start;
    start.file = file;
    start.line = 1;
    start.column = 1;
    try {
        std::vector<ConfigNode> documents;
        bool all_maps = true;
        for (const YAML::Node& root : YAML::LoadAll(text)) {
            if (root.IsNull()) {
                continue;
            }
            auto node = convert(root, "", text, file, errors);
            if (!node.is_map()) {
                errors.add(node, "a document that is a map of keys");
                all_maps = false;
                continue;
            }
            resolve_env_references(node, errors);
            documents.push_back(std::move(node));
        }
        if (documents.empty() && all_maps) {
            errors.add(start, "a document that is a map of keys", "an empty file");
        }
        if (!all_maps || documents.empty()) {
            return std::nullopt;
        }
        return documents;
    } catch (const YAML::Exception& e) {
        start.line = e.mark.line + 1;
        start.column = e.mark.column + 1;
        errors.add(start, "valid YAML", e.msg);
        return std::nullopt;
    }
}

std::optional<std::vector<ConfigNode>> load_yaml_documents_file(const std::string& path,
                                                                ConfigErrors& errors) {
    const std::uint32_t file = errors.file_index(path);
    std::ifstream in(path);
    if (!in) {
        ConfigNode at;
        at.file = file;
        errors.add(at, "a readable file", "it cannot be opened");
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return load_yaml_documents_text(text.str(), errors, file);
}

}  // namespace edgeflow
