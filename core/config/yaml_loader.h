// Loads a YAML file (or text) into ConfigNode trees. The only place edgeflow touches yaml-cpp.
//
// Syntax errors, duplicate keys, non-scalar keys and documents that are not a map become
// ConfigErrors with their position; nothing throws out of here. Anchors and aliases are
// expanded (a copy made by an alias reports positions inside its anchor).
//
// A file may hold several documents separated by `---` (Kubernetes-style resources); the
// *_documents functions return all of them, positions counted from the start of the file, and
// skip empty ones (a trailing `---`, a document of only comments).
//
// `${env:NAME}` in values is replaced by the environment variable NAME in every document
// returned (core/config/env_references.h); an unset one is an error at its value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow {

/// Reads and parses `path`. Returns nullopt after adding to `errors` when it cannot.
std::optional<ConfigNode> load_yaml_file(const std::string& path, ConfigErrors& errors);

/// Parses YAML text; `errors` names the file the text came from.
std::optional<ConfigNode> load_yaml_text(const std::string& text, ConfigErrors& errors);

/// Every document of `path`, each a map. When `path` is not the file `errors` is named after,
/// the file is registered with errors.file_index() and its nodes report under its own name.
/// Returns nullopt after adding to `errors` when the file cannot be read or parsed, or a
/// document is not a map.
std::optional<std::vector<ConfigNode>> load_yaml_documents_file(const std::string& path,
                                                                ConfigErrors& errors);

/// Every document of YAML text read from the file `errors.file_name(file)`.
std::optional<std::vector<ConfigNode>> load_yaml_documents_text(const std::string& text,
                                                                ConfigErrors& errors,
                                                                std::uint32_t file = 0);

}  // namespace edgeflow
