// The rules of a transform as plain data, read from a `kind: transform` stage block: the rule
// texts and the node each was written at, with nothing checked but the shape of the YAML.
// Transform::compile (transform.h) checks paths, expressions and dataset references and reports
// each problem against these nodes.
//
// Reading runs at load time on the loading thread, allocates freely, and adds every shape
// error to the ConfigErrors it is given rather than stopping at the first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow::transform {

/// What happens to a message when a rule fails on it.
enum class ErrorPolicy {
    dead_letter,  ///< `error`: to the dead-letter destination with the rule, path and reason
    drop,         ///< counted and discarded
    pass,         ///< the failing rule is skipped; the message goes on
};

struct RuleSpec {
    std::vector<std::string> inputs;
    std::vector<ConfigNode> input_nodes;  ///< where each input is written, when known
    std::optional<std::string> output;    ///< map rules; "" deletes
    std::string expression;
    std::string description;
    bool keep_when = false;  ///< filter rules: true means "keep when true"
    ConfigNode node;         ///< the rule in the file, for error positions
};

struct DatasetSpec {
    std::string key;    ///< dataset name
    std::string alias;  ///< `as alias`; the key when absent
    std::vector<std::string> inputs;
    std::string expression;
    ConfigNode node;
};

struct TransformSpec {
    std::string name;
    std::vector<DatasetSpec> datasets;
    std::vector<RuleSpec> filter;
    bool has_map = false;  ///< without a map the payload passes unchanged
    std::vector<RuleSpec> map;
    ErrorPolicy on_error = ErrorPolicy::dead_letter;
    std::uint64_t max_keys = 100000;  ///< keys whose last values are remembered
    ConfigNode node;
};

/// Reads a native `kind: transform` stage block into a spec.
TransformSpec parse_transform_spec(const ConfigNode& node, ConfigErrors& errors);

/// The partition key: whose last values `? $last` reads. Default: the input topic.
struct PartitionKeySpec {
    std::vector<std::string> inputs;  ///< empty: the input topic
    std::string expression;
    ConfigNode node;
};
PartitionKeySpec parse_partition_key(const ConfigNode* node, ConfigErrors& errors);

}  // namespace edgeflow::transform
