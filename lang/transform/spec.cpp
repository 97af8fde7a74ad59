#include "lang/transform/spec.h"

#include "core/config/map_reader.h"

namespace edgeflow::transform {

namespace {

void read_rule_list(const ConfigNode* list, ConfigErrors& errors, std::string_view what,
                    bool is_map, std::vector<RuleSpec>& out) {
    if (list == nullptr) {
        return;
    }
    if (!list->is_sequence()) {
        errors.add(*list, "a list of " + std::string(what) + " rules");
        return;
    }
    for (const ConfigNode& item : list->items) {
        MapReader reader(item, errors, std::string("a ") + std::string(what) + " rule");
        if (!reader.ok()) {
            continue;
        }
        RuleSpec rule;
        rule.node = item;
        const ConfigNode* inputs = reader.get("inputs");
        if (inputs == nullptr) {
            errors.missing(item, "inputs", "a list of input paths");
        } else if (inputs->is_scalar()) {
            rule.inputs.push_back(inputs->scalar);
            rule.input_nodes.push_back(*inputs);
        } else if (inputs->is_sequence()) {
            for (const ConfigNode& input : inputs->items) {
                if (!input.is_scalar()) {
                    errors.add(input, "an input path");
                    continue;
                }
                rule.inputs.push_back(input.scalar);
                rule.input_nodes.push_back(input);
            }
        } else {
            errors.add(*inputs, "a list of input paths");
        }
        reader.optional_string("description", rule.description);
        if (is_map) {
            const ConfigNode* output = reader.get("output");
            if (output == nullptr) {
                errors.missing(item, "output", "an output path ('' deletes the inputs)");
            } else if (output->is_null()) {
                rule.output = "";
            } else if (output->is_scalar()) {
                rule.output = output->scalar;
            } else {
                errors.add(*output, "an output path");
            }
            reader.optional_string("expression", rule.expression, "an expression");
        } else {
            const ConfigNode* drop = reader.get("drop_when");
            const ConfigNode* keep = reader.get("keep_when");
            if ((drop == nullptr) == (keep == nullptr)) {
                errors.add(item,
                           "exactly one of drop_when (true drops the message) or keep_when "
                           "(true keeps it)",
                           drop == nullptr ? "neither" : "both");
                reader.finish();
                continue;  // reported once; the rule is not compiled
            } else {
                rule.keep_when = keep != nullptr;
                reader.optional_string(rule.keep_when ? "keep_when" : "drop_when", rule.expression,
                                       "an expression");
            }
        }
        reader.finish();
        out.push_back(std::move(rule));
    }
}

}  // namespace

TransformSpec parse_transform_spec(const ConfigNode& node, ConfigErrors& errors) {
    TransformSpec spec;
    spec.node = node;
    MapReader reader(node, errors, "a transform stage");
    if (!reader.ok()) {
        return spec;
    }
    reader.get("kind");
    reader.optional_string("name", spec.name);
    if (const ConfigNode* datasets = reader.get("datasets")) {
        if (!datasets->is_sequence()) {
            errors.add(*datasets, "a list of dataset bindings");
        } else {
            for (const ConfigNode& item : datasets->items) {
                MapReader d(item, errors, "a dataset binding");
                if (!d.ok()) {
                    continue;
                }
                DatasetSpec binding;
                binding.node = item;
                std::string key;
                d.required_string("key", key, "a dataset name, optionally `name as alias`");
                const auto as = key.find(" as ");
                binding.key = key.substr(0, as);
                binding.alias = as == std::string::npos ? binding.key : key.substr(as + 4);
                auto trim = [](std::string& s) {
                    s.erase(0, s.find_first_not_of(' '));
                    s.erase(s.find_last_not_of(' ') + 1);
                };
                trim(binding.key);
                trim(binding.alias);
                if (d.get("inputs") == nullptr) {
                    errors.missing(item, "inputs", "$source.<field> and $context.<field> paths");
                }
                d.optional_string_list("inputs", binding.inputs);
                d.required_string("expression", binding.expression, "an expression");
                d.optional_string("description", key);
                d.finish();
                spec.datasets.push_back(std::move(binding));
            }
        }
    }
    read_rule_list(reader.get("filter"), errors, "filter", false, spec.filter);
    if (const ConfigNode* map = reader.get("map")) {
        spec.has_map = true;
        read_rule_list(map, errors, "map", true, spec.map);
    }
    reader.optional_choice("on_error", spec.on_error,
                           {{"error", ErrorPolicy::dead_letter},
                            {"drop", ErrorPolicy::drop},
                            {"pass", ErrorPolicy::pass}});
    if (const ConfigNode* last = reader.get("last_values")) {
        MapReader l(*last, errors, "last_values");
        if (l.ok()) {
            l.optional_uint("max_keys", spec.max_keys, 1, 100'000'000);
            l.finish();
        }
    }
    reader.finish();
    return spec;
}

PartitionKeySpec parse_partition_key(const ConfigNode* node, ConfigErrors& errors) {
    PartitionKeySpec spec;
    if (node == nullptr) {
        return spec;
    }
    spec.node = *node;
    if (node->is_scalar()) {
        spec.inputs.push_back(node->scalar);
        return spec;
    }
    MapReader reader(*node, errors, "partition_key");
    if (!reader.ok()) {
        return spec;
    }
    reader.optional_string_list("inputs", spec.inputs);
    reader.optional_string("expression", spec.expression, "an expression");
    reader.finish();
    if (spec.inputs.empty()) {
        errors.missing(*node, "inputs", "the paths the key is computed from");
    }
    return spec;
}

}  // namespace edgeflow::transform
