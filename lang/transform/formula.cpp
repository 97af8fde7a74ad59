#include "lang/transform/formula.h"

#include <charconv>
#include <cmath>

#include "core/config/map_reader.h"

namespace edgeflow::transform {

using expr::Program;
using expr::Value;

struct Formula::Input {
    RulePath path;                   // a payload or metadata path; for $lkv, the field
    std::optional<Program> lkv_key;  // $lkv(<expression>): the key
    std::uint32_t lkv_field = 0;
};

namespace {

// Splits `$lkv(<expression>).<field>` into its expression and field; false when `text` is not
// of that form (the caller has seen the `$lkv(` prefix).
bool split_lkv(std::string_view text, std::string_view& expression, std::string_view& field) {
    constexpr std::string_view prefix = "$lkv(";
    int depth = 1;
    bool quoted = false;
    for (std::size_t i = prefix.size(); i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && c == '(') {
            ++depth;
        } else if (!quoted && c == ')' && --depth == 0) {
            expression = text.substr(prefix.size(), i - prefix.size());
            if (i + 1 >= text.size() || text[i + 1] != '.' || i + 2 >= text.size()) {
                return false;
            }
            field = text.substr(i + 2);
            return !expression.empty();
        }
    }
    return false;
}

}  // namespace

FormulaSpec parse_formula(const ConfigNode& node, ConfigErrors& errors) {
    FormulaSpec spec;
    spec.node = node;
    if (node.is_scalar()) {
        if (node.scalar.empty()) {
            errors.add(node, "a path, or {inputs: [...], expression: ...}", "an empty value");
        } else {
            spec.inputs.push_back(node.scalar);
        }
        return spec;
    }
    MapReader reader(node, errors, "a formula");
    if (!reader.ok()) {
        return spec;
    }
    reader.optional_string_list("inputs", spec.inputs);
    reader.optional_string("expression", spec.expression, "an expression over $1, $2, ...");
    reader.finish();
    if (spec.inputs.empty() && spec.expression.empty()) {
        errors.missing(node, "inputs", "the paths the value is computed from");
    }
    if (spec.inputs.size() > Formula::max_inputs) {
        errors.add(node, "at most " + std::to_string(Formula::max_inputs) + " inputs",
                   std::to_string(spec.inputs.size()));
    }
    return spec;
}

Value read_metadata(const RulePath& p, const Message& m, expr::StringArena& arena) noexcept {
    std::string_view text;
    switch (p.root) {
        case PathRoot::topic:
            return Value::of_string(m.topic);  // the input topic is never written
        case PathRoot::content_type:
            if (m.content_type.empty()) {
                return Value::missing();
            }
            text = m.content_type;
            break;
        case PathRoot::user_property: {
            bool found = false;
            for (std::size_t i = 0; i < m.property_count && !found; ++i) {
                if (m.properties[i].key == p.property) {
                    text = m.properties[i].value;
                    found = true;
                }
            }
            if (!found) {
                return Value::missing();
            }
            break;
        }
        default:
            return Value::missing();
    }
    std::string_view copy;
    if (!arena.concat(copy, text)) {
        return Value::error("metadata value too large");
    }
    return Value::of_string(copy);
}

bool append_key_text(std::string& out, const Value& value) {
    switch (value.kind) {
        case expr::Kind::string:
            out.append(value.text);
            return true;
        case expr::Kind::boolean:
            out.append(value.boolean ? "true" : "false");
            return true;
        case expr::Kind::integer: {
            char digits[24];
            const auto r = std::to_chars(digits, digits + sizeof digits, value.integer);
            out.append(digits, r.ptr);
            return true;
        }
        case expr::Kind::floating: {
            if (!std::isfinite(value.floating)) {
                return false;
            }
            char digits[40];
            const auto r = std::to_chars(digits, digits + sizeof digits, value.floating);
            out.append(digits, r.ptr);
            return true;
        }
        default:
            return false;
    }
}

Formula::Formula() = default;
Formula::Formula(Formula&&) noexcept = default;
Formula& Formula::operator=(Formula&&) noexcept = default;
Formula::~Formula() = default;

std::optional<Formula> Formula::compile(const FormulaSpec& spec, std::string_view what,
                                        const LkvLookup* lkv, ConfigErrors& errors) {
    Formula f;
    f.lkv_ = lkv;
    bool ok = !spec.inputs.empty() || !spec.expression.empty();
    for (const std::string& text : spec.inputs) {
        Input in;
        if (std::string_view(text).starts_with("$lkv(")) {
            std::string_view key_text;
            std::string_view field_text;
            if (!split_lkv(text, key_text, field_text)) {
                errors.add(spec.node, std::string(what) + ": $lkv(<key expression>).<field>",
                           "\"" + text + "\"");
                ok = false;
                continue;
            }
            if (lkv == nullptr) {
                errors.add(spec.node,
                           std::string(what) +
                               ": an input without $lkv (last known values are read in stages "
                               "after the pipeline's lkv stage, in the same stateful section)",
                           "\"" + text + "\"");
                ok = false;
                continue;
            }
            auto key = Program::compile(key_text, spec.inputs.size());
            if (!key) {
                errors.add(spec.node, std::string(what) + ": a valid $lkv key expression",
                           "\"" + std::string(key_text) + "\" — " + key.error());
                ok = false;
                continue;
            }
            const auto field = lkv->field(field_text);
            if (!field) {
                errors.add(spec.node,
                           std::string(what) + ": a field the lkv stage tracks (its `fields`)",
                           "\"" + std::string(field_text) + "\"");
                ok = false;
                continue;
            }
            in.lkv_key = std::move(key).value();
            in.lkv_field = *field;
        } else {
            auto path = RulePath::parse(text, false);
            if (!path) {
                errors.add(spec.node, std::string(what) + ": an input path", path.error());
                ok = false;
                continue;
            }
            if (path->root == PathRoot::context || path->root == PathRoot::source) {
                errors.add(spec.node,
                           std::string(what) +
                               ": a payload or $metadata path (datasets are "
                               "read in transforms)",
                           "\"" + text + "\"");
                ok = false;
                continue;
            }
            in.path = std::move(path).value();
        }
        f.inputs_.push_back(std::move(in));
    }
    if (!spec.expression.empty()) {
        auto program = Program::compile(spec.expression, spec.inputs.size());
        if (!program) {
            errors.add(spec.node, std::string(what) + ": a valid expression",
                       "\"" + spec.expression + "\" — " + program.error());
            ok = false;
        } else {
            f.expression_ = std::move(program).value();
        }
    } else if (spec.inputs.size() > 1) {
        errors.add(spec.node, std::string(what) + ": an expression combining the inputs");
        ok = false;
    }
    if (!ok) {
        return std::nullopt;
    }
    if (spec.expression.empty()) {
        f.text_ = spec.inputs.front();
    } else {
        f.text_ = spec.expression;
        if (!spec.inputs.empty()) {
            f.text_ += " (";
            for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
                f.text_ += (i == 0 ? "" : ", ") + spec.inputs[i];
            }
            f.text_ += ")";
        }
    }
    return f;
}

bool Formula::reads_lkv() const noexcept {
    for (const Input& in : inputs_) {
        if (in.lkv_key) {
            return true;
        }
    }
    return false;
}

Value Formula::eval(const Message& m, expr::EvalScratch& scratch) const noexcept {
    if (!expression_ && !inputs_.front().lkv_key) {
        // A plain path, the common case: no input array to set up.
        const Input& in = inputs_.front();
        return in.path.is_metadata() ? read_metadata(in.path, m, scratch.arena)
                                     : Value::from(in.path.resolve(m.record.root()));
    }
    Value values[max_inputs];
    const std::size_t n = inputs_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Input& in = inputs_[i];
        if (in.lkv_key) {
            // The key expression sees the inputs before this one (later ones are missing).
            const Value key = in.lkv_key->eval(values, scratch);
            std::string_view key_text;
            if (key.is_missing() || !expr::to_text(key, scratch.arena, key_text)) {
                values[i] = Value::missing();
                continue;
            }
            values[i] = lkv_->read(key_text, in.lkv_field, m.clock_ms, scratch.as_of);
        } else if (in.path.is_metadata()) {
            values[i] = read_metadata(in.path, m, scratch.arena);
        } else {
            values[i] = Value::from(in.path.resolve(m.record.root()));
        }
    }
    if (!expression_) {
        return values[0];
    }
    return expression_->eval(values, scratch);
}

}  // namespace edgeflow::transform
