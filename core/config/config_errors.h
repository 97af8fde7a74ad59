// ConfigErrors: every problem found in one configuration file, each precise enough to fix
// without reading the code: file, line, column, key, what was expected and what was found.
//
// Parsers add to it and go on, so one `edgeflow check` run reports every problem at once.
#pragma once

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
    explicit ConfigErrors(std::string file) : file_(std::move(file)) {}

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
    const std::string& file() const noexcept { return file_; }

    /// Every error, one per line.
    std::string to_string() const;

private:
    std::string file_;
    std::vector<ConfigError> errors_;
};

}  // namespace edgeflow
