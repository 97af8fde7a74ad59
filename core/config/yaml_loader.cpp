#include "core/config/yaml_loader.h"

#include <yaml-cpp/yaml.h>

#include "core/config/env_references.h"

#include <fstream>
#include <sstream>
#include <unordered_set>

namespace edgeflow {
namespace {

// Bounds on what a configuration file may hold. Aliases make a short text stand for a huge or
// cyclic tree (`a: &a [*a]`, or nine nested levels of nine aliases each), so the tree is bounded
// by what it expands to, not only by the text's size.
constexpr std::size_t max_document_bytes = 8u << 20;
constexpr std::size_t max_depth = 64;
constexpr std::size_t max_values = 200'000;
// Flow collections nest in yaml-cpp's parser by recursion: a text of deeply nested brackets
// would exhaust the stack before any tree exists, so their depth is checked on the text.
constexpr std::size_t max_text_nesting = 256;

std::string child_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}

// The text's deepest nesting of flow brackets outside quoted scalars and comments.
std::size_t flow_nesting(std::string_view text) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    char quote = 0;
    bool comment = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (comment) {
            comment = c != '\n';
        } else if (quote != 0) {
            if (c == '\\' && quote == '"') {
                ++i;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n')) {
            comment = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

// Whether `text` may be parsed at all; adds the error when not.
bool within_text_bounds(std::string_view text, std::uint32_t file, ConfigErrors& errors) {
    ConfigNode at;
    at.file = file;
    at.line = 1;
    at.column = 1;
    if (text.size() > max_document_bytes) {
        errors.add(
            at,
            "a configuration file of at most " + std::to_string(max_document_bytes >> 20) + " MiB",
            std::to_string(text.size()) + " bytes");
        return false;
    }
    if (flow_nesting(text) > max_text_nesting) {
        errors.add(at, "collections nested at most " + std::to_string(max_text_nesting) + " deep",
                   "deeper nesting of [ ] or { }");
        return false;
    }
    return true;
}

// A file larger than a configuration may be is refused before it is read into memory.
bool too_large(std::ifstream& in, std::uint32_t file, ConfigErrors& errors) {
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(in.tellg());
    in.seekg(0, std::ios::beg);
    if (size < 0 || static_cast<std::uint64_t>(size) <= max_document_bytes) {
        return false;
    }
    ConfigNode at;
    at.file = file;
    at.line = 1;
    at.column = 1;
    errors.add(
        at, "a configuration file of at most " + std::to_string(max_document_bytes >> 20) + " MiB",
        std::to_string(size) + " bytes");
    return true;
}

// yaml-cpp's tree → ConfigNode, within the bounds above. Once a bound is exceeded the error is
// reported once and the rest of the tree is not converted.
struct Converter {
    std::string_view text;
    std::uint32_t file;
    ConfigErrors& errors;
    std::size_t values = 0;
    bool exceeded = false;

    ConfigNode convert(const YAML::Node& node, std::string path, std::size_t depth);
};

ConfigNode Converter::convert(const YAML::Node& node, std::string path, std::size_t depth) {
    ConfigNode out;
    out.path = std::move(path);
    out.file = file;
    const auto mark = node.Mark();
    out.line = mark.line + 1;
    out.column = mark.column + 1;
    if (exceeded) {
        return out;
    }
    if (depth > max_depth || ++values > max_values) {
        exceeded = true;
        errors.add(out,
                   depth > max_depth
                       ? "values nested at most " + std::to_string(max_depth) + " deep"
                       : "at most " + std::to_string(max_values) + " values in one document",
                   depth > max_depth ? "deeper nesting (an alias that contains itself?)"
                                     : "more (aliases expanding into a huge tree?)");
        return out;
    }
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
                    convert(item, out.path + "[" + std::to_string(i++) + "]", depth + 1));
            }
            break;
        }
        case YAML::NodeType::Map: {
            out.kind = ConfigNode::Kind::map;
            std::unordered_set<std::string> seen;  // duplicate keys in constant time each
            for (const auto& entry : node) {
                ConfigNode key = convert(entry.first, out.path, depth + 1);
                if (exceeded) {
                    break;  // reported once; the rest would only repeat it
                }
                if (!key.is_scalar()) {
                    errors.add(key, "a plain key", key.describe());
                    continue;
                }
                auto value = convert(entry.second, child_path(out.path, key.scalar), depth + 1);
                if (!seen.insert(key.scalar).second) {
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
    if (!within_text_bounds(text, 0, errors)) {
        return std::nullopt;
    }
    try {
        const YAML::Node root = YAML::Load(text);
        Converter converter{text, 0, errors};
        auto node = converter.convert(root, "", 0);
        if (converter.exceeded) {
            return std::nullopt;
        }
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
    if (too_large(in, 0, errors)) {
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
    if (!within_text_bounds(text, file, errors)) {
        return std::nullopt;
    }
    try {
        std::vector<ConfigNode> documents;
        bool all_maps = true;
        for (const YAML::Node& root : YAML::LoadAll(text)) {
            if (root.IsNull()) {
                continue;
            }
            Converter converter{text, file, errors};
            auto node = converter.convert(root, "", 0);
            if (converter.exceeded) {
                return std::nullopt;
            }
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
    if (too_large(in, file, errors)) {
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return load_yaml_documents_text(text.str(), errors, file);
}

}  // namespace edgeflow
