// The compiled form of a transform: what Transform::compile (compile.cpp) builds from a
// TransformSpec and what apply.cpp runs on each message. Internal to lang/transform; callers
// include transform.h.
//
// Built once on the loading thread (allocating freely) and immutable afterwards, except for the
// per-key last values (last_value.h), which only a keyed transform's own shard touches. Any
// number of workers may run one compiled stateless transform at once, each with its own
// TransformScratch; running allocates nothing once that scratch is warm.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.h"
#include "lang/expr/program.h"
#include "lang/transform/dataset.h"
#include "lang/transform/last_value.h"
#include "lang/transform/rule_path.h"
#include "lang/transform/transform.h"

namespace edgeflow::transform {

/// Input::last_slot of an input without `? $last`.
inline constexpr std::uint32_t no_slot = 0xffffffffu;

/// One input of a rule: a path and what to read when it is missing.
struct Input {
    RulePath path;
    std::uint32_t last_slot = no_slot;  ///< `? $last`: slot in the key's last values
    bool has_fallback = false;          ///< `?? literal`
    expr::Value fallback;
    expr::Program fallback_program;  ///< owns the fallback's text
    int binding = -1;                ///< $context(alias): index of the dataset binding
};

struct MapRule {
    std::vector<Input> inputs;
    RulePath output;
    bool remove = false;
    bool identity = false;  ///< inputs ['*'], output '*'
    std::optional<expr::Program> expression;
    std::string label;           ///< "transform 'x' map rule 3 (output 'y')"
    std::uint64_t bindings = 0;  ///< dataset bindings read (bit per binding)
};

struct FilterRule {
    std::vector<Input> inputs;
    expr::Program expression;
    bool keep_when = false;
    std::string label;
    std::uint64_t bindings = 0;
};

/// A dataset the transform looks records up in, under an alias.
struct Binding {
    std::shared_ptr<Dataset> dataset;
    std::string alias;
    std::vector<RulePath> source_inputs;  ///< $source.* inputs, in key order when indexed
    bool indexed = false;
    std::size_t index = 0;
    // Scan form: the expression over all inputs, in their written order.
    std::vector<RulePath> inputs;
    std::vector<bool> input_is_source;
    std::optional<expr::Program> expression;
};

/// One application of a map rule: a rule, the capture of its wildcard (a range of
/// TransformScratch::captures) and its resolved inputs (a range of match_inputs).
struct TransformScratch::Match {
    std::uint32_t rule = 0;
    std::uint32_t rank = 0;
    std::uint32_t capture_begin = 0;
    std::uint32_t capture_size = 0;
    std::uint32_t inputs_begin = 0;
    std::uint32_t inputs_size = 0;
    bool suppressed = false;
};

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
    LastValueTable last;

    /// Fills the static plan when the map allows one (compile.cpp).
    void build_plan();

    // Per message (apply.cpp).
    using Match = TransformScratch::Match;
    Outcome apply(Message& m, TransformScratch& s) noexcept;
    void match_datasets(const Message& m, TransformScratch& s) noexcept;
    expr::Value read(const Input& in, ValueRef node, const Message& m,
                     TransformScratch& s) noexcept;
    /// Where an input's path starts: the payload, or the record matched for its binding.
    ValueRef root_of(const Input& in, const Message& m, const TransformScratch& s) const noexcept {
        if (in.binding >= 0) {
            const Record* r = s.context[static_cast<std::size_t>(in.binding)];
            return r != nullptr ? r->root() : ValueRef();
        }
        return m.record.root();
    }
    Outcome fail(Message& m, DeadLetterReason reason, std::string_view label,
                 std::string_view why) noexcept;
    // The three ways to run a map (see apply()), and the steps they share.
    Outcome map_general(Message& m, TransformScratch& s) noexcept;
    Outcome map_direct(Message& m, TransformScratch& s) noexcept;
    Outcome map_plan(Message& m, TransformScratch& s) noexcept;
    void enumerate(std::uint32_t rule_index, const Message& m, TransformScratch& s);
    Match resolve_inputs(std::size_t rule_index, const Message& m,
                         TransformScratch& s) const noexcept;
    Outcome run_rule(const Match& match, Message& m, TransformScratch& s) noexcept;
    Outcome map_rule(const MapRule& rule, const Match& match, Message& m, TransformScratch& s,
                     expr::Value* slot = nullptr) noexcept;
    bool write(const MapRule& rule, const Match& match, const expr::Value& v, Message& m,
               TransformScratch& s, std::string_view& why) noexcept;
    Outcome finish(Message& m, TransformScratch& s) noexcept;
    bool plan_present(std::uint32_t node, const TransformScratch& s) const noexcept;
    void plan_emit(std::uint32_t node, TransformScratch& s) const;
    bool bindings_matched(std::uint64_t mask, const TransformScratch& s) const noexcept {
        for (std::size_t b = 0; mask != 0; ++b, mask >>= 1) {
            if ((mask & 1) != 0 && s.context[b] == nullptr) {
                return false;
            }
        }
        return true;
    }
};

}  // namespace edgeflow::transform
