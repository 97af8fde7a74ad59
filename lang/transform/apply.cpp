#include <new>

#include "lang/transform/compile.h"
#include "lang/transform/formula.h"
#include "lang/transform/output_tree.h"

namespace edgeflow::transform {

using expr::Kind;
using expr::Value;

TransformScratch::TransformScratch() {
    values.reserve(64);
    key_values.reserve(8);
    path.reserve(max_path_depth * 2);
    matches.reserve(256);
    captures.reserve(1024);
    match_inputs.reserve(1024);
}
TransformScratch::~TransformScratch() = default;

Outcome Transform::apply(Message& message, TransformScratch& scratch) noexcept {
    return impl_->apply(message, scratch);
}

namespace {

using Match = TransformScratch::Match;

// The output-tree path `path` names for one match: its segment names, with the match's capture
// in place of the `*`.
void expand(const RulePath& path, const Match& match, TransformScratch& s) {
    s.path.clear();
    for (std::size_t i = 0; i < path.segments.size(); ++i) {
        if (i == path.wildcard) {
            for (std::uint32_t c = 0; c < match.capture_size; ++c) {
                s.path.push_back(s.captures[match.capture_begin + c]);
            }
        } else {
            s.path.push_back(path.segments[i].name);
        }
    }
}

// A deleting rule (output ''): takes its payload inputs out of the output.
void remove_inputs(const MapRule& rule, const Match& match, TransformScratch& s) {
    for (std::uint32_t k = 0; k < match.inputs_size; ++k) {
        const Input& in = rule.inputs[k];
        if (in.path.is_metadata()) {
            continue;
        }
        expand(in.path, match, s);
        s.tree.remove(s.path);
    }
}

}  // namespace

// The value of an input whose path resolved to `node` (invalid when absent), with the
// `? $last` and `??` fallbacks, remembering present values for `? $last`.
Value Transform::Impl::read(const Input& in, ValueRef node, const Message& m,
                            TransformScratch& s) noexcept {
    Value v = in.path.is_metadata() ? read_metadata(in.path, m, s.eval.arena) : Value::from(node);
    if (in.last_slot != no_slot && !s.key_selected) {
        s.key_selected = true;
        s.last_values = last.select(m, s, name);
    }
    auto* last_values = static_cast<LastValues*>(s.last_values);
    if (in.last_slot != no_slot && last_values != nullptr) {
        if (!v.is_missing()) {
            if (!in.path.is_metadata()) {
                last_values->remember(in.last_slot, node);
            }
        } else if (const Record* remembered = last_values->recall(in.last_slot)) {
            v = Value::from(remembered->root());
        }
    }
    if (v.is_missing() && in.has_fallback) {
        v = in.fallback;
    }
    return v;
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
        Match match;
        match.rule = static_cast<std::uint32_t>(rule_index);
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

bool Transform::Impl::write(const MapRule& rule, const Match& match, const Value& v, Message& m,
                            TransformScratch& s, std::string_view& why) noexcept {
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
    expand(out, match, s);
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
    return map_general(m, s);
}

// The map when some rule besides the pass-through has a wildcard: find every match, let later
// lower-rank matches on the same inputs replace earlier ones, then apply in rule order.
Outcome Transform::Impl::map_general(Message& m, TransformScratch& s) noexcept {
    s.tree.reset();
    s.matches.clear();
    s.captures.clear();
    s.match_inputs.clear();
    for (std::uint32_t r = 0; r < map.size(); ++r) {
        if (!bindings_matched(map[r].bindings, s)) {
            continue;
        }
        if (map[r].identity) {
            Match match;
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
    auto same_inputs = [&](const Match& a, const Match& b) {
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
        const Match& match = s.matches[i];
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
                const Match& later = s.matches[j];
                const MapRule& lr = map[later.rule];
                if (lr.identity || later.inputs_size != 1 || lr.inputs[0].binding >= 0 ||
                    (!lr.remove && lr.output.is_metadata()) || lr.inputs[0].path.is_metadata() ||
                    !s.match_inputs[later.inputs_begin].valid()) {
                    continue;
                }
                expand(lr.inputs[0].path, later, s);
                if (later.rank < s.path.size() &&
                    s.match_inputs[later.inputs_begin].type() != ValueType::object) {
                    s.tree.remove(s.path);
                }
            }
            continue;
        }
        if (const Outcome o = run_rule(match, m, s); o != Outcome::kept) {
            return o;
        }
    }
    return finish(m, s);
}

// A plain rule's one match: its inputs resolved against the message (or the dataset records
// matched for it). Forced inline: map_direct and map_plan run it for every rule of every
// message, and as a call it costs a few percent of a small map.
[[gnu::always_inline]] inline TransformScratch::Match Transform::Impl::resolve_inputs(
    std::size_t rule_index, const Message& m, TransformScratch& s) const noexcept {
    const MapRule& rule = map[rule_index];
    s.match_inputs.clear();
    for (const Input& in : rule.inputs) {
        s.match_inputs.push_back(in.path.is_metadata() ? ValueRef()
                                                       : in.path.resolve(root_of(in, m, s)));
    }
    Match match;
    match.rule = static_cast<std::uint32_t>(rule_index);
    match.inputs_size = static_cast<std::uint32_t>(rule.inputs.size());
    return match;
}

// The step map_general and map_direct share for every rule but the pass-through: a deleting
// rule takes its inputs out of the output, any other evaluates and writes.
Outcome Transform::Impl::run_rule(const Match& match, Message& m, TransformScratch& s) noexcept {
    const MapRule& rule = map[match.rule];
    if (rule.remove) {
        remove_inputs(rule, match, s);
        return Outcome::kept;
    }
    return map_rule(rule, match, m, s);
}

// Evaluates one match of a (non pass-through, non deleting) rule and writes its result.
Outcome Transform::Impl::map_rule(const MapRule& rule, const Match& match, Message& m,
                                  TransformScratch& s, Value* slot) noexcept {
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
                expand(*path, Match{}, s);  // plain paths: no capture
                s.tree.remove(s.path);
            }
            continue;
        }
        if (const Outcome o = run_rule(resolve_inputs(r, m, s), m, s); o != Outcome::kept) {
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
        const Outcome o = map_rule(rule, resolve_inputs(r, m, s), m, s, &s.slots[r]);
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
