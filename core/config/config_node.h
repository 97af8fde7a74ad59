// ConfigNode: a YAML document as edgeflow reads it — maps, lists and scalars, each with the
// line and column it came from and its key path (`sources[0].qos`) for error messages.
//
// Built once by the YAML loader (core/config/yaml_loader.h), read by the config parsers of the
// pipeline, the stages and the io kinds. Holds no yaml-cpp types, so stage headers that parse
// their own config stay free of YAML. A node remembers which file it came from (an index the
// ConfigErrors it was loaded with resolves), so a document assembled from several files still
// reports each problem in the right one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeflow {

class ConfigNode {
public:
    enum class Kind { null, scalar, sequence, map };

    Kind kind = Kind::null;
    std::string scalar;   ///< text of a scalar; for null, the word written (`null`, `~`) if any
    bool quoted = false;  ///< scalar was written in quotes (so `"1"` is a string, not a number)
    int line = 0;         ///< 1-based
    int column = 0;       ///< 1-based
    int key_line = 0;     ///< where this node's key is written, when it is a map member
    int key_column = 0;
    std::uint32_t file = 0;  ///< ConfigErrors::file_name(file) is the file it was read from
    std::string path;        ///< key path from the document root, e.g. `sources[0].qos`
    std::vector<std::pair<std::string, ConfigNode>> members;  ///< map entries, in file order
    std::vector<ConfigNode> items;                            ///< sequence entries

    bool is_map() const noexcept { return kind == Kind::map; }
    bool is_sequence() const noexcept { return kind == Kind::sequence; }
    bool is_scalar() const noexcept { return kind == Kind::scalar; }
    bool is_null() const noexcept { return kind == Kind::null; }

    /// Member of a map by key, or nullptr.
    const ConfigNode* find(std::string_view key) const noexcept;

    /// What this node is, for "found ..." in error messages: `"abc"`, `a list`, `a map`, `nothing`.
    std::string describe() const;
};

}  // namespace edgeflow
