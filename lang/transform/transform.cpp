#include "lang/transform/transform.h"

#include <algorithm>
#include <cctype>

#include "core/config/map_reader.h"
#include "core/log.h"

namespace edgeflow::transform {

using expr::Kind;
using expr::Program;
using expr::Value;

// ---- Specs from the native pipeline file --------------------------------------------------

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

// ---- Compiled form ------------------------------------------------------------------------

namespace {

constexpr std::uint32_t no_slot = 0xffffffffu;

struct Input {
    RulePath path;
    std::uint32_t last_slot = no_slot;  // `? $last`: slot in the key's last values
    bool has_fallback = false;          // `?? literal`
    Value fallback;
    Program fallback_program;  // owns the fallback's text
    int binding = -1;          // $context(alias): index of the dataset binding
};

struct MapRule {
    std::vector<Input> inputs;
    RulePath output;
    bool remove = false;
    bool identity = false;  // inputs ['*'], output '*'
    std::optional<Program> expression;
    std::string label;           // "transform 'x' map rule 3 (output 'y')"
    std::uint64_t bindings = 0;  // dataset bindings read (bit per binding)
};

struct FilterRule {
    std::vector<Input> inputs;
    Program expression;
    bool keep_when = false;
    std::string label;
    std::uint64_t bindings = 0;
};

struct Binding {
    std::shared_ptr<Dataset> dataset;
    std::string alias;
    std::vector<RulePath> source_inputs;  // $source.* inputs, in key order when indexed
    bool indexed = false;
    std::size_t index = 0;
    // Scan form: the expression over all inputs, in their written order.
    std::vector<RulePath> inputs;
    std::vector<bool> input_is_source;
    std::optional<Program> expression;
};

struct LastValues {
    std::vector<Record> slots;
};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Position of the first '?' outside double quotes, or npos.
std::size_t find_question(std::string_view s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') {
            quoted = !quoted;
        } else if (s[i] == '?' && !quoted) {
            return i;
        }
    }
    return std::string_view::npos;
}

}  // namespace

struct TransformScratch::Match {
    std::uint32_t rule = 0;
    std::uint32_t rank = 0;
    std::uint32_t capture_begin = 0;
    std::uint32_t capture_size = 0;
    std::uint32_t inputs_begin = 0;
    std::uint32_t inputs_size = 0;
    bool suppressed = false;
};

TransformScratch::TransformScratch() {
    values.reserve(64);
    key_values.reserve(8);
    path.reserve(max_path_depth * 2);
    matches.reserve(256);
    captures.reserve(1024);
    match_inputs.reserve(1024);
}
TransformScratch::~TransformScratch() = default;

struct Transform::Impl {
    std::string name;
    std::vector<Binding> bindings;
    std::vector<FilterRule> filter;
    bool has_map = false;
    std::vector<MapRule> map;
    // Whether some rule other than the pass-through has a wildcard: only then must every match
    // be found before any is applied (a later rule may specialize an earlier capture).
    bool general_matching = false;
    // For each pass-through rule: the fields later plain rules specialize (removed from the
    // copy). Views into `map`.
    std::vector<std::vector<const RulePath*>> identity_removals;
    // The static plan: when the map is plain rules (and at most a leading pass-through) whose
    // output paths neither repeat nor nest in each other, the output's shape is known at load.
    // Rules evaluate into one slot each and the Record is written straight from the plan, with
    // no OutputTree. Falls back to map_direct when a written path would merge into a copied
    // input object.
    struct PlanNode {
        std::string_view key;
        std::int32_t rule = -1;  // a leaf: the rule whose value goes here
        std::vector<std::uint32_t> children;
    };
    bool use_plan = false;
    bool plan_identity = false;
    std::vector<PlanNode> plan;                      // plan[0] is the root object
    std::vector<std::string_view> plan_removed;      // top-level fields deleted from the copy
    std::vector<std::string_view> plan_specialized;  // ... left out when they are not objects
    ErrorPolicy on_error = ErrorPolicy::dead_letter;

    // Last values, per partition key. Only keyed (serial) execution touches them.
    std::uint32_t last_slots = 0;
    std::vector<Input> key_inputs;
    std::optional<Program> key_expression;
    std::uint64_t max_keys = 0;
    std::unordered_map<std::string, LastValues, StringHash, std::equal_to<>> last;
    std::uint64_t keys_refused = 0;
    std::uint64_t keys_missing = 0;

    // ---- per message ----
    Outcome apply(Message& m, TransformScratch& s) noexcept;
    bool select_key(const Message& m, TransformScratch& s) noexcept;
    void match_datasets(const Message& m, TransformScratch& s) noexcept;
    Value read(const Input& in, ValueRef node, const Message& m, TransformScratch& s) noexcept;
    ValueRef root_of(const Input& in, const Message& m, const TransformScratch& s) const noexcept;
    void enumerate(std::uint32_t rule_index, const Message& m, TransformScratch& s);
    bool write(const MapRule& rule, const TransformScratch::Match& match, const Value& v,
               Message& m, TransformScratch& s, std::string_view& why) noexcept;
    Outcome fail(Message& m, DeadLetterReason reason, std::string_view label,
                 std::string_view why) noexcept;
    Outcome map_direct(Message& m, TransformScratch& s) noexcept;
    Outcome finish(Message& m, TransformScratch& s) noexcept;
    Outcome map_plan(Message& m, TransformScratch& s) noexcept;
    bool plan_present(std::uint32_t node, const TransformScratch& s) const noexcept;
    void plan_emit(std::uint32_t node, TransformScratch& s) const;
    void build_plan();
    Outcome map_rule(const MapRule& rule, const TransformScratch::Match& match, Message& m,
                     TransformScratch& s, Value* slot = nullptr) noexcept;
    bool bindings_matched(std::uint64_t mask, const TransformScratch& s) const noexcept {
        for (std::size_t b = 0; mask != 0; ++b, mask >>= 1) {
            if ((mask & 1) != 0 && s.context[b] == nullptr) {
                return false;
            }
        }
        return true;
    }
};

// ---- Compiling ----------------------------------------------------------------------------

namespace {

struct InputCompiler {
    const ConfigNode* node;
    ConfigErrors& errors;
    std::unordered_map<std::string, int>& aliases;
    std::uint32_t& last_slots;

    bool compile(const std::string& text, bool allow_wildcard, bool allow_context, Input& out) {
        std::string_view rest = text;
        const auto q = find_question(rest);
        std::string_view path_text = trim(rest.substr(0, q));
        if (q != std::string_view::npos) {
            std::string_view tail = rest.substr(q);
            if (tail.substr(0, 2) != "??") {
                tail = trim(tail.substr(1));
                if (lower(tail.substr(0, 5)) != "$last") {
                    errors.add(*node, "`path ? $last` or `path ?? default`", "\"" + text + "\"");
                    return false;
                }
                tail = trim(tail.substr(5));
                out.last_slot = last_slots++;
            }
            if (!tail.empty()) {
                if (tail.substr(0, 2) != "??") {
                    errors.add(*node, "`?? <literal>` after `? $last`", "\"" + text + "\"");
                    return false;
                }
                auto program = Program::compile(trim(tail.substr(2)), 0);
                if (!program || !program->is_constant()) {
                    errors.add(*node, "a literal default after ??",
                               "\"" + std::string(trim(tail.substr(2))) + "\"" +
                                   (program ? "" : " — " + program.error()));
                    return false;
                }
                out.fallback = program->eval(nullptr, *std::make_unique<expr::EvalScratch>());
                out.fallback_program = std::move(program).value();
                out.has_fallback = true;
            }
        }
        auto path = RulePath::parse(path_text, allow_wildcard);
        if (!path) {
            errors.add(*node, "an input path", path.error());
            return false;
        }
        out.path = std::move(path).value();
        if (out.path.root == PathRoot::source) {
            errors.add(*node, "a payload path ($source. belongs in dataset inputs)",
                       "\"" + text + "\"");
            return false;
        }
        if (out.path.root == PathRoot::context) {
            if (!allow_context || out.path.context_alias.empty()) {
                errors.add(*node, "$context(alias).<field>, with the alias of a dataset binding",
                           "\"" + text + "\"");
                return false;
            }
            const auto it = aliases.find(out.path.context_alias);
            if (it == aliases.end()) {
                errors.add(*node, "a dataset alias this transform binds in `datasets`",
                           "\"" + out.path.context_alias + "\"");
                return false;
            }
            out.binding = it->second;
        }
        if (out.last_slot != no_slot && out.path.has_wildcard()) {
            errors.add(*node, "`? $last` on a path without '*'", "\"" + text + "\"");
            return false;
        }
        return true;
    }
};

// Where input `k` of a rule is written (its list item when the rule came from a file).
const ConfigNode& input_node(const RuleSpec& r, std::size_t k) {
    if (k < r.input_nodes.size()) {
        return r.input_nodes[k];
    }
    const ConfigNode* inputs = r.node.find("inputs");
    return inputs != nullptr ? *inputs : r.node;
}

std::string describe_rule(const std::string& transform, std::string_view kind, std::size_t index,
                          const RuleSpec& rule) {
    std::string label =
        "transform '" + transform + "' " + std::string(kind) + " rule " + std::to_string(index + 1);
    if (!rule.description.empty()) {
        label += " (" + rule.description + ")";
    } else if (rule.output) {
        label += rule.output->empty() ? " (delete)" : " (output '" + *rule.output + "')";
    }
    return label;
}

const ConfigNode& child_or(const ConfigNode& node, std::string_view key) {
    const ConfigNode* child = node.find(key);
    return child != nullptr ? *child : node;
}

}  // namespace

Transform::Transform(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transform::Transform(Transform&&) noexcept = default;
Transform& Transform::operator=(Transform&&) noexcept = default;
Transform::~Transform() = default;

std::optional<Transform> Transform::compile(const TransformSpec& spec, const PartitionKeySpec& key,
                                            const DatasetRegistry& datasets, ConfigErrors& errors) {
    const std::size_t errors_before = errors.size();
    auto impl = std::make_unique<Impl>();
    impl->name = spec.name.empty() ? "transform" : spec.name;
    impl->has_map = spec.has_map;
    impl->on_error = spec.on_error;
    impl->max_keys = spec.max_keys;
    std::unordered_map<std::string, int> aliases;

    // Datasets.
    for (const DatasetSpec& d : spec.datasets) {
        Binding b;
        b.alias = d.alias;
        const auto found = datasets.find(d.key);
        if (found == datasets.end()) {
            std::string known;
            for (const auto& [name, unused] : datasets) {
                known += known.empty() ? name : ", " + name;
            }
            errors.add(child_or(d.node, "key"),
                       "a dataset defined in the pipeline's `datasets` block" +
                           (known.empty() ? std::string(" (there are none)") : " (" + known + ")"),
                       "\"" + d.key + "\"");
            continue;
        }
        b.dataset = found->second;
        if (aliases.count(d.alias) != 0) {
            errors.add(child_or(d.node, "key"), "a unique alias", "\"" + d.alias + "\"");
            continue;
        }
        bool ok = true;
        for (const std::string& text : d.inputs) {
            auto path = RulePath::parse(text, false);
            if (!path || (path->root != PathRoot::source && path->root != PathRoot::context) ||
                !path->context_alias.empty()) {
                errors.add(child_or(d.node, "inputs"),
                           "$source.<field> or $context.<field> (no wildcards)",
                           "\"" + text + "\"");
                ok = false;
                continue;
            }
            b.input_is_source.push_back(path->root == PathRoot::source);
            b.inputs.push_back(std::move(path).value());
        }
        auto program = Program::compile(d.expression, b.inputs.size());
        if (!program) {
            errors.add(child_or(d.node, "expression"), "a valid expression",
                       "\"" + d.expression + "\" — " + program.error());
            ok = false;
        }
        if (!ok) {
            continue;
        }
        // `$a == $b && $c == $d ...` between a source and a context input: an index lookup.
        std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (source input, context input)
        bool equalities = true;
        std::string_view text = d.expression;
        while (equalities && !text.empty()) {
            const auto amp = text.find("&&");
            std::string_view part = trim(text.substr(0, amp));
            text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 2);
            while (part.size() >= 2 && part.front() == '(' && part.back() == ')') {
                part = trim(part.substr(1, part.size() - 2));
            }
            const auto eq = part.find("==");
            std::size_t l = 0;
            std::size_t r = 0;
            auto input_number = [&](std::string_view t, std::size_t& n) {
                t = trim(t);
                if (t.size() < 2 || t[0] != '$') {
                    return false;
                }
                n = 0;
                for (char c : t.substr(1)) {
                    if (c < '0' || c > '9') {
                        return false;
                    }
                    n = n * 10 + static_cast<std::size_t>(c - '0');
                }
                return n >= 1 && n <= b.inputs.size();
            };
            if (eq == std::string_view::npos || !input_number(part.substr(0, eq), l) ||
                !input_number(part.substr(eq + 2), r) ||
                b.input_is_source[l - 1] == b.input_is_source[r - 1]) {
                equalities = false;
                break;
            }
            if (!b.input_is_source[l - 1]) {
                std::swap(l, r);
            }
            pairs.emplace_back(l - 1, r - 1);
        }
        if (equalities && !pairs.empty()) {
            b.indexed = true;
            std::vector<RulePath> fields;
            for (const auto& [source, context] : pairs) {
                b.source_inputs.push_back(b.inputs[source]);
                fields.push_back(b.inputs[context]);
            }
            b.index = b.dataset->add_index(std::move(fields));
        }
        b.expression = std::move(program).value();
        aliases.emplace(d.alias, static_cast<int>(impl->bindings.size()));
        impl->bindings.push_back(std::move(b));
    }
    if (impl->bindings.size() > 64) {
        errors.add(spec.node, "at most 64 dataset bindings in one transform");
    }

    // Filter.
    for (std::size_t i = 0; i < spec.filter.size(); ++i) {
        const RuleSpec& r = spec.filter[i];
        FilterRule rule;
        rule.keep_when = r.keep_when;
        rule.label = describe_rule(impl->name, "filter", i, r);
        InputCompiler ic{&child_or(r.node, "inputs"), errors, aliases, impl->last_slots};
        bool ok = !r.inputs.empty();
        if (r.inputs.empty()) {
            errors.add(child_or(r.node, "inputs"), "at least one input path");
        }
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            const std::string& text = r.inputs[k];
            ic.node = &input_node(r, k);
            Input in;
            if (!ic.compile(text, false, true, in)) {
                ok = false;
                continue;
            }
            if (in.binding >= 0) {
                rule.bindings |= std::uint64_t{1} << in.binding;
            }
            rule.inputs.push_back(std::move(in));
        }
        const ConfigNode& expression_node =
            child_or(r.node, r.keep_when                            ? "keep_when"
                             : r.node.find("expression") != nullptr ? "expression"
                                                                    : "drop_when");
        auto program = Program::compile(r.expression, r.inputs.size());
        if (!program) {
            errors.add(expression_node, "a valid expression",
                       "\"" + r.expression + "\" — " + program.error());
            continue;
        }
        if (ok) {
            rule.expression = std::move(program).value();
            impl->filter.push_back(std::move(rule));
        }
    }

    // Map.
    for (std::size_t i = 0; i < spec.map.size(); ++i) {
        const RuleSpec& r = spec.map[i];
        MapRule rule;
        rule.label = describe_rule(impl->name, "map", i, r);
        InputCompiler ic{&child_or(r.node, "inputs"), errors, aliases, impl->last_slots};
        bool ok = true;
        if (r.inputs.empty()) {
            errors.add(child_or(r.node, "inputs"), "at least one input path");
            ok = false;
        }
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            ic.node = &input_node(r, k);
            Input in;
            if (!ic.compile(r.inputs[k], true, true, in)) {
                ok = false;
                continue;
            }
            if (k > 0 && in.path.has_wildcard() && !rule.inputs.empty() &&
                !rule.inputs[0].path.has_wildcard()) {
                errors.add(input_node(r, k),
                           "'*' in a later input only when the first input has one",
                           "\"" + r.inputs[k] + "\"");
                ok = false;
            }
            if (in.binding >= 0) {
                rule.bindings |= std::uint64_t{1} << in.binding;
            }
            rule.inputs.push_back(std::move(in));
        }
        const std::string output = r.output.value_or("");
        rule.remove = output.empty();
        const bool wildcard = !rule.inputs.empty() && rule.inputs[0].path.has_wildcard();
        if (!rule.remove) {
            auto out = RulePath::parse(output, true);
            if (!out) {
                errors.add(child_or(r.node, "output"), "an output path", out.error());
                ok = false;
            } else if (out->root == PathRoot::context || out->root == PathRoot::source) {
                errors.add(child_or(r.node, "output"),
                           "a payload or $metadata path (datasets are read-only)",
                           "\"" + output + "\"");
                ok = false;
            } else if (out->has_wildcard() != wildcard) {
                errors.add(child_or(r.node, "output"),
                           wildcard ? "a '*' in the output, where the input's capture goes"
                                    : "no '*' in the output when the first input has none",
                           "\"" + output + "\"");
                ok = false;
            } else {
                rule.output = std::move(out).value();
            }
        } else if (!r.expression.empty()) {
            errors.add(child_or(r.node, "expression"),
                       "no expression on a rule that deletes (output '')",
                       "\"" + r.expression + "\"");
            ok = false;
        }
        if (!r.expression.empty()) {
            auto program = Program::compile(r.expression, r.inputs.size());
            if (!program) {
                errors.add(child_or(r.node, "expression"), "a valid expression",
                           "\"" + r.expression + "\" — " + program.error());
                ok = false;
            } else {
                rule.expression = std::move(program).value();
            }
        } else if (r.inputs.size() > 1 && !rule.remove) {
            errors.add(child_or(r.node, "inputs"),
                       "an expression combining the inputs (several inputs, one output)",
                       std::to_string(r.inputs.size()) + " inputs and no expression");
            ok = false;
        }
        if (!ok) {
            continue;
        }
        rule.identity = !rule.remove && !rule.expression && rule.inputs.size() == 1 &&
                        rule.inputs[0].path.root == PathRoot::payload &&
                        rule.inputs[0].path.segments.size() == 1 && wildcard &&
                        rule.output.root == PathRoot::payload && rule.output.segments.size() == 1;
        impl->map.push_back(std::move(rule));
    }
    impl->identity_removals.resize(impl->map.size());
    for (std::size_t r = 0; r < impl->map.size(); ++r) {
        const MapRule& rule = impl->map[r];
        if (!rule.identity && !rule.inputs.empty() && rule.inputs[0].path.has_wildcard()) {
            impl->general_matching = true;
        }
        if (!rule.identity) {
            continue;
        }
        for (std::size_t later = r + 1; later < impl->map.size(); ++later) {
            const MapRule& l = impl->map[later];
            if (l.identity || l.inputs.size() != 1 || l.inputs[0].binding >= 0 ||
                l.inputs[0].path.root != PathRoot::payload || l.inputs[0].path.has_wildcard() ||
                (!l.remove && l.output.is_metadata())) {
                continue;
            }
            impl->identity_removals[r].push_back(&l.inputs[0].path);
        }
    }
    impl->build_plan();
    if (!spec.has_map && spec.filter.empty() && spec.datasets.empty() &&
        spec.node.find("filter") == nullptr && spec.node.find("datasets") == nullptr) {
        errors.add(spec.node, "a transform with map, filter or datasets rules");
    }

    // The partition key, when some rule remembers last values.
    if (impl->last_slots > 0) {
        std::uint32_t unused_slots = 0;
        InputCompiler ic{&key.node, errors, aliases, unused_slots};
        for (const std::string& text : key.inputs) {
            Input in;
            if (ic.compile(text, false, false, in)) {
                impl->key_inputs.push_back(std::move(in));
            }
        }
        if (!key.expression.empty()) {
            auto program = Program::compile(key.expression, key.inputs.size());
            if (!program) {
                errors.add(key.node, "a valid partition key expression",
                           "\"" + key.expression + "\" — " + program.error());
            } else {
                impl->key_expression = std::move(program).value();
            }
        } else if (key.inputs.size() > 1) {
            errors.add(key.node, "an expression combining the partition key's inputs");
        }
    }
    if (errors.size() != errors_before) {
        return std::nullopt;
    }
    return Transform(std::move(impl));
}

const std::string& Transform::name() const noexcept {
    return impl_->name;
}
std::string Transform::describe() const {
    auto count = [](std::size_t n, const char* what) {
        return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
    };
    std::string text = "transform '" + impl_->name + "': ";
    for (const Binding& b : impl_->bindings) {
        text += "dataset " + b.dataset->name() + " as " + b.alias + " (" +
                std::to_string(b.dataset->record_count()) + " records, " +
                (b.indexed ? "index lookup" : "scan") + "), ";
    }
    text += count(impl_->filter.size(), "filter rule") + ", ";
    text += impl_->has_map ? count(impl_->map.size(), "map rule") : "no map (payload unchanged)";
    if (impl_->last_slots > 0) {
        text +=
            ", last values per key (serial, at most " + std::to_string(impl_->max_keys) + " keys)";
    }
    return text;
}

bool Transform::binds_datasets() const noexcept {
    return !impl_->bindings.empty();
}

bool Transform::uses_last() const noexcept {
    return impl_->last_slots > 0;
}
std::size_t Transform::last_value_keys() const noexcept {
    return impl_->last.size();
}
std::uint64_t Transform::last_value_keys_missing() const noexcept {
    return impl_->keys_missing;
}
std::uint64_t Transform::last_value_keys_refused() const noexcept {
    return impl_->keys_refused;
}
Outcome Transform::apply(Message& message, TransformScratch& scratch) noexcept {
    return impl_->apply(message, scratch);
}

// ---- Applying -----------------------------------------------------------------------------

ValueRef Transform::Impl::root_of(const Input& in, const Message& m,
                                  const TransformScratch& s) const noexcept {
    if (in.binding >= 0) {
        const Record* r = s.context[static_cast<std::size_t>(in.binding)];
        return r != nullptr ? r->root() : ValueRef();
    }
    return m.record.root();
}

// The value of an input whose path resolved to `node` (invalid when absent), with the
// `? $last` and `??` fallbacks, remembering present values for `? $last`.
Value Transform::Impl::read(const Input& in, ValueRef node, const Message& m,
                            TransformScratch& s) noexcept {
    Value v = in.path.is_metadata() ? read_metadata(in.path, m, s.eval.arena) : Value::from(node);
    if (in.last_slot != no_slot && !s.key_selected) {
        s.key_selected = true;
        select_key(m, s);
    }
    auto* last_values = static_cast<LastValues*>(s.last_values);
    if (in.last_slot != no_slot && last_values != nullptr) {
        Record& slot = last_values->slots[in.last_slot];
        if (!v.is_missing()) {
            if (!in.path.is_metadata()) {
                slot.clear();
                append_ref(slot, {}, node);
            }
        } else if (!slot.empty()) {
            v = Value::from(slot.root());
        }
    }
    if (v.is_missing() && in.has_fallback) {
        v = in.fallback;
    }
    return v;
}

// Finds (or creates) the last values of the message's key. A message whose key cannot be
// computed has no last values: `? $last` finds nothing for it (counted).
bool Transform::Impl::select_key(const Message& m, TransformScratch& s) noexcept {
    s.last_values = nullptr;
    s.key.clear();
    if (key_inputs.empty()) {
        s.key.append(m.topic);
    } else {
        s.key_values.clear();
        for (const Input& in : key_inputs) {
            s.key_values.push_back(in.path.is_metadata()
                                       ? read_metadata(in.path, m, s.eval.arena)
                                       : Value::from(in.path.resolve(m.record.root())));
        }
        const Value k =
            key_expression ? key_expression->eval(s.key_values.data(), s.eval) : s.key_values[0];
        if (!append_key(s.key, k)) {
            ++keys_missing;
            return false;
        }
    }
    auto it = last.find(std::string_view(s.key));
    if (it == last.end()) {
        if (last.size() >= max_keys) {
            if (keys_refused++ == 0) {
                log_warn("transform", "transform '" + name + "': " + std::to_string(max_keys) +
                                          " keys have last values (last_values.max_keys); "
                                          "further keys get none");
            }
            return true;  // not remembered: `? $last` finds nothing for this key
        }
        it = last.emplace(s.key, LastValues{}).first;
        it->second.slots.resize(last_slots);
    }
    s.last_values = &it->second;
    return true;
}

void Transform::Impl::match_datasets(const Message& m, TransformScratch& s) noexcept {
    if (s.snapshots.size() != bindings.size()) {
        s.snapshots.resize(bindings.size());
        s.context.resize(bindings.size());
    }
    for (std::size_t b = 0; b < bindings.size(); ++b) {
        const Binding& binding = bindings[b];
        s.context[b] = nullptr;
        auto& snapshot = s.snapshots[b];
        if (!snapshot || snapshot->version != binding.dataset->version()) {
            snapshot = binding.dataset->snapshot();  // a reload: once per worker, not per message
        }
        if (!snapshot) {
            continue;
        }
        if (binding.indexed) {
            s.key.clear();
            bool complete = true;
            for (const RulePath& p : binding.source_inputs) {
                complete = complete && append_key(s.key, Value::from(p.resolve(m.record.root())));
            }
            if (!complete) {
                continue;
            }
            const auto& index = snapshot->indexes[binding.index];
            const auto it = index.find(std::string_view(s.key));
            if (it != index.end()) {
                s.context[b] = &snapshot->records[it->second];
            }
            continue;
        }
        // Not an equality: evaluate the expression record by record; the first true wins.
        for (const Record& record : snapshot->records) {
            s.values.clear();
            for (std::size_t i = 0; i < binding.inputs.size(); ++i) {
                const ValueRef root = binding.input_is_source[i] ? m.record.root() : record.root();
                s.values.push_back(Value::from(binding.inputs[i].resolve(root)));
            }
            const Value v = binding.expression->eval(s.values.data(), s.eval);
            if (v.kind == Kind::boolean && v.boolean) {
                s.context[b] = &record;
                break;
            }
        }
    }
    for (const Record* matched : s.context) {
        s.dataset_misses += matched == nullptr ? 1 : 0;
    }
}

Outcome Transform::Impl::fail(Message& m, DeadLetterReason reason, std::string_view label,
                              std::string_view why) noexcept {
    switch (on_error) {
        case ErrorPolicy::dead_letter:
            try {
                m.reject_with(reason, "transform", label, ": ", why);
            } catch (...) {
                m.reject(reason, "transform", why);
            }
            return Outcome::rejected;
        case ErrorPolicy::drop:
            m.dropped = true;
            return Outcome::dropped;
        case ErrorPolicy::pass:
            break;
    }
    return Outcome::kept;
}

// Finds every capture of a wildcard rule (or the one match of a plain rule) and records it.
void Transform::Impl::enumerate(std::uint32_t rule_index, const Message& m, TransformScratch& s) {
    const MapRule& rule = map[rule_index];
    const Input& first = rule.inputs[0];
    auto add_match = [&](std::uint32_t capture_begin, std::uint32_t capture_size) {
        TransformScratch::Match match;
        match.rule = rule_index;
        match.rank = capture_size;
        match.capture_begin = capture_begin;
        match.capture_size = capture_size;
        match.inputs_begin = static_cast<std::uint32_t>(s.match_inputs.size());
        // Resolve every input, substituting the capture into later wildcard inputs.
        for (std::size_t k = 0; k < rule.inputs.size(); ++k) {
            const Input& in = rule.inputs[k];
            ValueRef node;
            if (!in.path.is_metadata()) {
                const ValueRef root = root_of(in, m, s);
                if (!in.path.has_wildcard()) {
                    node = in.path.resolve(root);
                } else {
                    node = in.path.resolve(root, 0, in.path.wildcard);
                    for (std::uint32_t c = 0; c < capture_size && node.valid(); ++c) {
                        node = node.member(s.captures[capture_begin + c]);
                    }
                    node = in.path.resolve(node, in.path.wildcard + 1, in.path.segments.size());
                    if (!node.valid() && k > 0) {
                        s.match_inputs.resize(match.inputs_begin);
                        return;  // another input does not resolve for this capture: skipped
                    }
                }
            }
            s.match_inputs.push_back(node);
        }
        match.inputs_size = static_cast<std::uint32_t>(rule.inputs.size());
        s.matches.push_back(match);
    };
    if (!first.path.has_wildcard()) {
        add_match(0, 0);
        return;
    }
    const ValueRef root = root_of(first, m, s);
    const ValueRef base = first.path.resolve(root, 0, first.path.wildcard);
    if (!base.valid() || base.type() != ValueType::object) {
        return;
    }
    const bool trailing = first.path.wildcard + 1 == first.path.segments.size();
    // Depth-first over object members; the capture is the key path from `base`.
    struct Frame {
        ValueRef::Iterator it{nullptr, 0};
        ValueRef::Iterator end{nullptr, 0};
    };
    Frame stack[max_path_depth];
    std::size_t depth = 0;
    std::string_view keys[max_path_depth];
    stack[0] = {base.begin(), base.end()};
    depth = 1;
    while (depth > 0) {
        Frame& f = stack[depth - 1];
        if (f.it == f.end) {
            --depth;
            continue;
        }
        const ValueRef member = *f.it;
        ++f.it;
        keys[depth - 1] = member.key();
        const bool container = member.type() == ValueType::object && member.size() > 0;
        bool matched = false;
        if (trailing) {
            matched = !container;
        } else {
            matched =
                first.path.resolve(member, first.path.wildcard + 1, first.path.segments.size())
                    .valid();
        }
        if (matched) {
            const auto begin = static_cast<std::uint32_t>(s.captures.size());
            s.captures.insert(s.captures.end(), keys, keys + depth);
            add_match(begin, static_cast<std::uint32_t>(depth));
        }
        if (container && depth < max_path_depth) {
            stack[depth] = {member.begin(), member.end()};
            ++depth;
        }
    }
}

bool Transform::Impl::write(const MapRule& rule, const TransformScratch::Match& match,
                            const Value& v, Message& m, TransformScratch& s,
                            std::string_view& why) noexcept {
    const RulePath& out = rule.output;
    if (out.is_metadata()) {
        if (v.is_missing()) {
            return true;
        }
        std::string_view text;
        if (!expr::to_text(v, s.eval.arena, text)) {
            why = "metadata takes a string, number or bool";
            return false;
        }
        try {
            if (out.root == PathRoot::topic) {
                m.output_topic.assign(text);
                m.output_topic_set = true;
            } else if (out.root == PathRoot::content_type) {
                m.content_type.assign(text);
            } else {
                for (std::size_t i = 0; i < m.property_count; ++i) {
                    if (m.properties[i].key == out.property) {
                        m.properties[i].value.assign(text);
                        return true;
                    }
                }
                m.add_property(out.property, text);
            }
        } catch (...) {
            why = "out of memory";
            return false;
        }
        return true;
    }
    s.path.clear();
    for (std::size_t i = 0; i < out.segments.size(); ++i) {
        if (i == out.wildcard) {
            for (std::uint32_t c = 0; c < match.capture_size; ++c) {
                s.path.push_back(s.captures[match.capture_begin + c]);
            }
        } else {
            s.path.push_back(out.segments[i].name);
        }
    }
    try {
        if (!s.tree.set(s.path, v)) {
            why = "the output has too many fields";
            return false;
        }
    } catch (...) {
        why = "out of memory";
        return false;
    }
    return true;
}

Outcome Transform::Impl::apply(Message& m, TransformScratch& s) noexcept {
    s.eval.reset();
    s.key_selected = false;
    s.last_values = nullptr;
    if (!bindings.empty()) {
        match_datasets(m, s);
    }

    // Filter: OR of the rules.
    for (const FilterRule& rule : filter) {
        if (!bindings_matched(rule.bindings, s)) {
            continue;  // no dataset match: rules reading it are skipped
        }
        s.values.clear();
        bool missing = false;
        for (const Input& in : rule.inputs) {
            const Value v = read(
                in, in.path.is_metadata() ? ValueRef() : in.path.resolve(root_of(in, m, s)), m, s);
            missing = missing || v.is_missing();
            s.values.push_back(v);
        }
        if (missing) {
            if (fail(m, DeadLetterReason::filter_error, rule.label, "an input is missing") !=
                Outcome::kept) {
                return m.dropped ? Outcome::dropped : Outcome::rejected;
            }
            continue;
        }
        const Value v = rule.expression.eval(s.values.data(), s.eval);
        if (v.kind != Kind::boolean) {
            const std::string_view why =
                v.is_error() ? v.text : std::string_view("the result is not a bool");
            if (fail(m, DeadLetterReason::filter_error, rule.label, why) != Outcome::kept) {
                return m.dropped ? Outcome::dropped : Outcome::rejected;
            }
            continue;
        }
        if (v.boolean != rule.keep_when) {
            m.dropped = true;
            return Outcome::dropped;
        }
    }
    if (!has_map) {
        return Outcome::kept;
    }
    if (use_plan) {
        return map_plan(m, s);
    }
    if (!general_matching) {
        return map_direct(m, s);
    }

    // Map: find every match, let later lower-rank matches on the same inputs replace earlier
    // ones, then apply in rule order.
    s.tree.reset();
    s.matches.clear();
    s.captures.clear();
    s.match_inputs.clear();
    for (std::uint32_t r = 0; r < map.size(); ++r) {
        if (!bindings_matched(map[r].bindings, s)) {
            continue;
        }
        if (map[r].identity) {
            TransformScratch::Match match;
            match.rule = r;
            match.rank = max_path_depth + 1;
            s.matches.push_back(match);
            continue;
        }
        try {
            enumerate(r, m, s);
        } catch (...) {
            return fail(m, DeadLetterReason::transform_error, map[r].label, "out of memory");
        }
    }
    auto same_inputs = [&](const TransformScratch::Match& a, const TransformScratch::Match& b) {
        if (a.inputs_size != b.inputs_size) {
            return false;
        }
        for (std::uint32_t k = 0; k < a.inputs_size; ++k) {
            const ValueRef x = s.match_inputs[a.inputs_begin + k];
            const ValueRef y = s.match_inputs[b.inputs_begin + k];
            if (!x.valid() || !y.valid() || x.index() != y.index() ||
                map[a.rule].inputs[k].binding != map[b.rule].inputs[k].binding) {
                return false;
            }
        }
        return true;
    };
    for (std::size_t i = 0; i < s.matches.size(); ++i) {
        if (map[s.matches[i].rule].identity) {
            continue;
        }
        for (std::size_t j = i + 1; j < s.matches.size(); ++j) {
            const MapRule& later = map[s.matches[j].rule];
            if (!later.remove && later.output.is_metadata()) {
                continue;  // writing metadata takes nothing out of the payload
            }
            if (s.matches[j].rule != s.matches[i].rule && !later.identity &&
                s.matches[j].rank < s.matches[i].rank && same_inputs(s.matches[i], s.matches[j])) {
                s.matches[i].suppressed = true;
                break;
            }
        }
    }
    for (std::size_t i = 0; i < s.matches.size(); ++i) {
        const TransformScratch::Match& match = s.matches[i];
        const MapRule& rule = map[match.rule];
        if (match.suppressed) {
            continue;
        }
        if (rule.identity) {
            // Copy everything, then take out each field a later rule specializes: a later
            // single-input rule on a payload leaf ranks below the pass-through's capture of it.
            if (!s.tree.copy_members(m.record.root())) {
                return fail(m, DeadLetterReason::transform_error, rule.label,
                            "the output has too many fields");
            }
            for (std::size_t j = i + 1; j < s.matches.size(); ++j) {
                const TransformScratch::Match& later = s.matches[j];
                const MapRule& lr = map[later.rule];
                if (lr.identity || later.inputs_size != 1 || lr.inputs[0].binding >= 0 ||
                    (!lr.remove && lr.output.is_metadata()) || lr.inputs[0].path.is_metadata() ||
                    !s.match_inputs[later.inputs_begin].valid()) {
                    continue;
                }
                const RulePath& p = lr.inputs[0].path;
                s.path.clear();
                for (std::size_t k = 0; k < p.segments.size(); ++k) {
                    if (k == p.wildcard) {
                        for (std::uint32_t c = 0; c < later.capture_size; ++c) {
                            s.path.push_back(s.captures[later.capture_begin + c]);
                        }
                    } else {
                        s.path.push_back(p.segments[k].name);
                    }
                }
                if (later.rank < s.path.size() &&
                    s.match_inputs[later.inputs_begin].type() != ValueType::object) {
                    s.tree.remove(s.path);
                }
            }
            continue;
        }
        if (rule.remove) {
            for (std::uint32_t k = 0; k < match.inputs_size; ++k) {
                const Input& in = rule.inputs[k];
                if (in.path.is_metadata()) {
                    continue;
                }
                s.path.clear();
                for (std::size_t seg = 0; seg < in.path.segments.size(); ++seg) {
                    if (seg == in.path.wildcard) {
                        for (std::uint32_t c = 0; c < match.capture_size; ++c) {
                            s.path.push_back(s.captures[match.capture_begin + c]);
                        }
                    } else {
                        s.path.push_back(in.path.segments[seg].name);
                    }
                }
                s.tree.remove(s.path);
            }
            continue;
        }
        const Outcome o = map_rule(rule, match, m, s);
        if (o != Outcome::kept) {
            return o;
        }
    }
    return finish(m, s);
}

// Evaluates one match of a (non pass-through, non deleting) rule and writes its result.
Outcome Transform::Impl::map_rule(const MapRule& rule, const TransformScratch::Match& match,
                                  Message& m, TransformScratch& s, Value* slot) noexcept {
    // Values are constructed where they are kept (placement new from the returned prvalue):
    // copying a freshly built Value costs a store-forwarding stall per copy.
    s.values.resize(match.inputs_size);
    bool all_missing = true;
    for (std::uint32_t k = 0; k < match.inputs_size; ++k) {
        Value* in = ::new (static_cast<void*>(&s.values[k]))
            Value(read(rule.inputs[k], s.match_inputs[match.inputs_begin + k], m, s));
        all_missing = all_missing && in->is_missing();
    }
    if (all_missing) {
        return Outcome::kept;  // nothing to map from
    }
    Value result_storage;
    const bool direct = slot != nullptr && !rule.output.is_metadata();
    Value* result = direct ? slot : &result_storage;
    if (rule.expression) {
        ::new (static_cast<void*>(result)) Value(rule.expression->eval(s.values.data(), s.eval));
    } else {
        *result = s.values[0];
    }
    std::string_view why;
    if (result->is_error()) {
        why = result->text;
        if (direct) {
            *slot = Value();
        }
    } else if (direct || write(rule, match, *result, m, s, why)) {
        return Outcome::kept;
    }
    return fail(m, DeadLetterReason::transform_error, rule.label, why);
}

// The map when no rule but the pass-through has a wildcard: rules apply one by one as they
// come, with no match list (plain rules rank 0, so nothing later can specialize them).
Outcome Transform::Impl::map_direct(Message& m, TransformScratch& s) noexcept {
    s.tree.reset();
    s.captures.clear();
    for (std::size_t r = 0; r < map.size(); ++r) {
        const MapRule& rule = map[r];
        if (!bindings_matched(rule.bindings, s)) {
            continue;
        }
        if (rule.identity) {
            if (!s.tree.copy_members(m.record.root())) {
                return fail(m, DeadLetterReason::transform_error, rule.label,
                            "the output has too many fields");
            }
            // A later plain rule on a leaf specializes the pass-through's copy of it.
            for (const RulePath* path : identity_removals[r]) {
                const ValueRef node = path->resolve(m.record.root());
                if (!node.valid() || node.type() == ValueType::object) {
                    continue;
                }
                s.path.clear();
                for (const PathSegment& segment : path->segments) {
                    s.path.push_back(segment.name);
                }
                s.tree.remove(s.path);
            }
            continue;
        }
        s.match_inputs.clear();
        for (const Input& in : rule.inputs) {
            s.match_inputs.push_back(in.path.is_metadata() ? ValueRef()
                                                           : in.path.resolve(root_of(in, m, s)));
        }
        TransformScratch::Match match;
        match.rule = static_cast<std::uint32_t>(r);
        match.inputs_size = static_cast<std::uint32_t>(rule.inputs.size());
        if (rule.remove) {
            for (const Input& in : rule.inputs) {
                if (!in.path.is_metadata()) {
                    s.path.clear();
                    for (const PathSegment& segment : in.path.segments) {
                        s.path.push_back(segment.name);
                    }
                    s.tree.remove(s.path);
                }
            }
            continue;
        }
        const Outcome o = map_rule(rule, match, m, s);
        if (o != Outcome::kept) {
            return o;
        }
    }
    return finish(m, s);
}

Outcome Transform::Impl::finish(Message& m, TransformScratch& s) noexcept {
    try {
        s.tree.build(s.record, s.eval.tuples);
    } catch (...) {
        return fail(m, DeadLetterReason::transform_error, name, "out of memory");
    }
    s.record.swap(m.record);
    return Outcome::kept;
}

void Transform::Impl::build_plan() {
    use_plan = false;
    if (general_matching || map.empty()) {
        return;
    }
    plan.assign(1, PlanNode{});
    for (std::size_t r = 0; r < map.size(); ++r) {
        const MapRule& rule = map[r];
        if (rule.identity) {
            if (r != 0) {
                return;
            }
            plan_identity = true;
            for (const RulePath* path : identity_removals[r]) {
                if (path->segments.size() != 1) {
                    return;  // a nested field taken out of the copy: the tree handles that
                }
                plan_specialized.push_back(path->segments[0].name);
            }
            continue;
        }
        if (rule.remove) {
            for (const Input& in : rule.inputs) {
                if (in.path.is_metadata()) {
                    continue;
                }
                if (in.binding >= 0 || in.path.segments.size() != 1) {
                    return;
                }
                plan_removed.push_back(in.path.segments[0].name);
            }
            continue;
        }
        if (rule.output.is_metadata()) {
            continue;
        }
        std::uint32_t at = 0;
        for (std::size_t i = 0; i < rule.output.segments.size(); ++i) {
            if (plan[at].rule >= 0) {
                return;  // a path below another rule's output
            }
            const std::string_view key = rule.output.segments[i].name;
            std::uint32_t next = 0;
            for (std::uint32_t c : plan[at].children) {
                if (plan[c].key == key) {
                    next = c;
                }
            }
            if (next == 0) {
                next = static_cast<std::uint32_t>(plan.size());
                plan[at].children.push_back(next);
                plan.push_back(PlanNode{key, -1, {}});
            }
            at = next;
        }
        if (plan[at].rule >= 0 || !plan[at].children.empty()) {
            return;  // two rules write one path, or one writes above another
        }
        plan[at].rule = static_cast<std::int32_t>(r);
    }
    use_plan = true;
}

bool Transform::Impl::plan_present(std::uint32_t node, const TransformScratch& s) const noexcept {
    const PlanNode& n = plan[node];
    if (n.rule >= 0) {
        return !s.slots[static_cast<std::size_t>(n.rule)].is_missing();
    }
    for (std::uint32_t c : n.children) {
        if (plan_present(c, s)) {
            return true;
        }
    }
    return false;
}

void Transform::Impl::plan_emit(std::uint32_t node, TransformScratch& s) const {
    const PlanNode& n = plan[node];
    if (n.rule >= 0) {
        const Value& v = s.slots[static_cast<std::size_t>(n.rule)];
        if (!v.is_missing()) {
            append_value(s.record, n.key, v, s.eval.tuples);
        }
        return;
    }
    if (!plan_present(node, s)) {
        return;
    }
    const auto index = s.record.open_object(n.key);
    for (std::uint32_t c : n.children) {
        plan_emit(c, s);
    }
    s.record.close(index);
}

Outcome Transform::Impl::map_plan(Message& m, TransformScratch& s) noexcept {
    const ValueRef root = m.record.root();
    const bool copy = plan_identity && root.valid() && root.type() == ValueType::object;
    auto listed = [](const std::vector<std::string_view>& keys, std::string_view key) {
        for (std::string_view k : keys) {
            if (k == key) {
                return true;
            }
        }
        return false;
    };
    auto skipped = [&](ValueRef member) {
        return listed(plan_removed, member.key()) ||
               (member.type() != ValueType::object && listed(plan_specialized, member.key()));
    };
    if (copy) {
        // A rule writing below a field the copy keeps would have to merge into it.
        for (std::uint32_t c : plan[0].children) {
            const ValueRef member = root.member(plan[c].key);
            if (member.valid() && !skipped(member)) {
                return map_direct(m, s);
            }
        }
    }
    s.slots.assign(map.size(), Value());
    for (std::size_t r = 0; r < map.size(); ++r) {
        const MapRule& rule = map[r];
        if (rule.identity || rule.remove || !bindings_matched(rule.bindings, s)) {
            continue;
        }
        s.match_inputs.clear();
        for (const Input& in : rule.inputs) {
            s.match_inputs.push_back(in.path.is_metadata() ? ValueRef()
                                                           : in.path.resolve(root_of(in, m, s)));
        }
        TransformScratch::Match match;
        match.rule = static_cast<std::uint32_t>(r);
        match.inputs_size = static_cast<std::uint32_t>(rule.inputs.size());
        const Outcome o = map_rule(rule, match, m, s, &s.slots[r]);
        if (o != Outcome::kept) {
            return o;
        }
    }
    try {
        s.record.clear();
        const auto index = s.record.open_object({});
        if (copy) {
            // Runs of kept fields are copied as blocks of nodes.
            std::uint32_t run = 0;
            std::uint32_t run_end = 0;
            for (ValueRef member : root) {
                const std::uint32_t end = m.record.node(member.index()).end;
                if (skipped(member)) {
                    s.record.append_nodes(m.record, run, run_end);
                    run = run_end = 0;
                    continue;
                }
                if (run == run_end) {
                    run = member.index();
                }
                run_end = end;
            }
            s.record.append_nodes(m.record, run, run_end);
        }
        for (std::uint32_t c : plan[0].children) {
            plan_emit(c, s);
        }
        s.record.close(index);
    } catch (...) {
        return fail(m, DeadLetterReason::transform_error, name, "out of memory");
    }
    s.record.swap(m.record);
    return Outcome::kept;
}

}  // namespace edgeflow::transform
