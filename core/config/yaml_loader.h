// Loads a YAML file (or text) into a ConfigNode tree. The only place edgeflow touches yaml-cpp.
//
// Syntax errors, duplicate keys, non-scalar keys and documents that are not a map become
// ConfigErrors with their position; nothing throws out of here. Anchors and aliases are
// expanded (a copy made by an alias reports positions inside its anchor).
#pragma once

#include <optional>
#include <string>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow {

/// Reads and parses `path`. Returns nullopt after adding to `errors` when it cannot.
std::optional<ConfigNode> load_yaml_file(const std::string& path, ConfigErrors& errors);

/// Parses YAML text; `errors` names the file the text came from.
std::optional<ConfigNode> load_yaml_text(const std::string& text, ConfigErrors& errors);

}  // namespace edgeflow
