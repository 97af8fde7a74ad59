// Formula: one value computed from a message — the key of a stateful stage, the input or the
// condition of a heuristic rule, the event time.
//
// In a pipeline file a formula is written as a path or as inputs and an expression:
//
//   temperature                                 a payload field (the rule-path syntax)
//   $metadata.topic                             message metadata, as in transform rules
//   {inputs: [a, b], expression: "$1 - $2"}     an expression over its inputs
//   {inputs: [zone, '$lkv("camera/" + $1).person'], expression: "$2 == true"}
//
// An input `$lkv(<expression>).<field>` reads another key's last known value: the expression
// (over the inputs written before it) gives the key, and the pipeline's lkv stage the value, if
// it tracks that field and the value has not expired. Evaluation allocates nothing: computed
// strings go to the caller's EvalScratch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/message.h"
#include "lang/expr/program.h"
#include "lang/transform/rule_path.h"

namespace edgeflow::transform {

/// What `$lkv(key).field` reads from: the pipeline's last-known-value store.
class LkvLookup {
public:
    virtual ~LkvLookup() = default;
    /// The store's number for a field path it tracks, or nullopt.
    virtual std::optional<std::uint32_t> field(std::string_view path) const = 0;
    /// The value of `field` for `key` at `now_ms`, or missing (unknown key, never seen, expired),
    /// as it stood once the store had taken the message at batch position `as_of` (and none
    /// after it); UINT32_MAX: the newest. The value stays valid until the store next changes.
    virtual expr::Value read(std::string_view key, std::uint32_t field, std::int64_t now_ms,
                             std::uint32_t as_of) const noexcept = 0;
};

struct FormulaSpec {
    std::vector<std::string> inputs;
    std::string expression;  ///< empty: the value of the single input
    ConfigNode node;
};

/// Reads a formula from a path scalar or an {inputs, expression} map.
FormulaSpec parse_formula(const ConfigNode& node, ConfigErrors& errors);

/// The value of a metadata path ($metadata.topic, user_property.<k>, content_type) of `m`,
/// copied into `arena` (a later write to the message must not change it); missing when absent.
expr::Value read_metadata(const RulePath& path, const Message& m,
                          expr::StringArena& arena) noexcept;

class Formula {
public:
    static constexpr std::size_t max_inputs = 16;

    /// Compiles `spec`; `lkv` resolves `$lkv(...)` inputs (null: they are errors). Errors name
    /// `what` ("the partition key", "rule 'hot' input").
    static std::optional<Formula> compile(const FormulaSpec& spec, std::string_view what,
                                          const LkvLookup* lkv, ConfigErrors& errors);

    Formula(Formula&&) noexcept;
    Formula& operator=(Formula&&) noexcept;
    ~Formula();

    /// The value for `m`; `m.clock_ms` is the time `$lkv` reads expire against.
    expr::Value eval(const Message& m, expr::EvalScratch& scratch) const noexcept;
    /// The formula as written, for descriptions: "temperature" or "$1 - $2 (a, b)".
    const std::string& text() const noexcept { return text_; }
    bool reads_lkv() const noexcept;

    struct Input;

private:
    Formula();
    std::vector<Input> inputs_;
    std::optional<expr::Program> expression_;
    const LkvLookup* lkv_ = nullptr;
    std::string text_;
};

/// Appends the text of a key value (strings as they are, numbers as JSON writes them, booleans)
/// to `out`; false for missing values, null, containers and errors.
bool append_key_text(std::string& out, const expr::Value& value);

}  // namespace edgeflow::transform
