// `${env:NAME}` in configuration values: replaced by the value of the environment variable NAME
// when a file is loaded, so one pipeline file serves every pod of a DaemonSet (the node name
// from the Kubernetes downward API in a client id or a topic filter, a password from a Secret).
//
// Only scalar values are resolved, never keys. A reference may stand anywhere in a value and a
// value may hold several (`edgeflow-${env:NODE_NAME}-in`); `$${env:` writes a literal `${env:`.
// The replaced text is read like any other value: `workers: ${env:WORKERS}` with WORKERS=2 is
// the number 2. An unset variable, an unterminated reference or a name that is not a variable
// name is an error at the value's position, naming the variable. Other `${...}` text (the AIO
// spellings of topic templates, `${inputTopic.2}`) is left alone.
//
// Called by the YAML loader on every document it returns (core/config/yaml_loader.h), on the
// loading thread; allocates only the replaced strings.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow {

/// The value of an environment variable, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (getenv).
std::optional<std::string> process_environment(const std::string& name);

/// Replaces every `${env:NAME}` in the scalar values under `node` with `lookup(NAME)`; each
/// problem goes to `errors` and leaves that value as it was.
void resolve_env_references(ConfigNode& node, ConfigErrors& errors,
                            const EnvLookup& lookup = process_environment);

}  // namespace edgeflow
