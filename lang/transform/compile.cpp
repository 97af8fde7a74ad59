#include "lang/transform/compile.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace edgeflow::transform {

using expr::Program;

namespace {

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
    std::unordered_map<std::string, int> aliases;
    std::uint32_t last_slots = 0;  // `? $last` inputs so far

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
        InputCompiler ic{&child_or(r.node, "inputs"), errors, aliases, last_slots};
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
        InputCompiler ic{&child_or(r.node, "inputs"), errors, aliases, last_slots};
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
    std::vector<RulePath> key_inputs;
    std::optional<Program> key_expression;
    if (last_slots > 0) {
        std::uint32_t unused_slots = 0;
        InputCompiler ic{&key.node, errors, aliases, unused_slots};
        for (const std::string& text : key.inputs) {
            Input in;
            if (ic.compile(text, false, false, in)) {
                key_inputs.push_back(std::move(in.path));  // a key reads only the path
            }
        }
        if (!key.expression.empty()) {
            auto program = Program::compile(key.expression, key.inputs.size());
            if (!program) {
                errors.add(key.node, "a valid partition key expression",
                           "\"" + key.expression + "\" — " + program.error());
            } else {
                key_expression = std::move(program).value();
            }
        } else if (key.inputs.size() > 1) {
            errors.add(key.node, "an expression combining the partition key's inputs");
        }
    }
    impl->last =
        LastValueTable(last_slots, spec.max_keys, std::move(key_inputs), std::move(key_expression));
    if (errors.size() != errors_before) {
        return std::nullopt;
    }
    return Transform(std::move(impl));
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
    if (impl_->last.slots() > 0) {
        text += ", last values per key (serial, at most " + std::to_string(impl_->last.max_keys()) +
                " keys)";
    }
    return text;
}

bool Transform::binds_datasets() const noexcept {
    return !impl_->bindings.empty();
}

bool Transform::uses_last() const noexcept {
    return impl_->last.slots() > 0;
}
std::size_t Transform::last_value_keys() const noexcept {
    return impl_->last.keys();
}
std::uint64_t Transform::last_value_keys_missing() const noexcept {
    return impl_->last.keys_missing();
}
std::uint64_t Transform::last_value_keys_refused() const noexcept {
    return impl_->last.keys_refused();
}

}  // namespace edgeflow::transform
