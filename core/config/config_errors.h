// ConfigErrors: every problem found in one configuration file, each precise enough to fix
// without reading the code: file, line, column, key, what was expected and what was found.
//
// Parsers add to it and go on, so one `edgeflow check` run reports every problem at once. The
// same problem added twice (a node checked through two copies of it) is kept once. Besides its
// own file it knows the other files a configuration was read from (file_index()), and reports a
// node under the file the node came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config_node.h"

namespace edgeflow {

struct ConfigError {
    std::string file;
    int line = 0;
    int column = 0;
    std::string key;       ///< key path, e.g. `sources[0].qos`
    std::string expected;  ///< what would have been valid
    std::string found;     ///< what the file has

    /// `FILE:LINE:COL: KEY: expected EXPECTED, found FOUND`
    std::string to_string() const;
};

class ConfigErrors {
public:
    explicit ConfigErrors(std::string file) : files_{std::move(file)} {}

    /// A problem with the value at `node`.
    void add(const ConfigNode& node, std::string expected, std::string found);
    /// A problem with `node`, found being its own description.
    void add(const ConfigNode& node, std::string expected) {
        add(node, std::move(expected), node.describe());
    }
    /// A required key missing from the map `parent`.
    void missing(const ConfigNode& parent, std::string_view key, std::string expected);
    /// A problem with no position (e.g. the file cannot be read).
    void add_global(std::string key, std::string expected, std::string found);

    bool empty() const noexcept { return errors_.empty(); }
    std::size_t size() const noexcept { return errors_.size(); }
    const std::vector<ConfigError>& errors() const noexcept { return errors_; }
    /// The file this configuration is named by (index 0).
    const std::string& file() const noexcept { return files_.front(); }

    /// The index for ConfigNode::file of nodes read from `file`: 0 for this configuration's own
    /// file, otherwise the file is registered once and keeps its index.
    std::uint32_t file_index(const std::string& file);
    /// The file a node with ConfigNode::file == `index` was read from.
    const std::string& file_name(std::uint32_t index) const noexcept;

    /// Every error, one per line: this configuration's file first, each file in line order.
    std::string to_string() const;

private:
    void push(ConfigError error);

    std::vector<std::string> files_;
    std::vector<ConfigError> errors_;
};

}  // namespace edgeflow
