// Program: one compiled expression of the rule language, e.g. `cToF($1) + ($2 ^ 2) / 3`.
//
// Compiling parses the text, checks every function name and arity, folds constant
// sub-expressions, and compiles literal regex patterns; all errors name the position. The result
// is a flat array of nodes that eval() walks with no allocation: computed strings go to the
// caller's StringArena and tuples to the caller's tuple stack (EvalScratch, one per worker).
//
// Precedence, loosest first (all binary operators left-associative except `^`):
//
//   ||   &&   == !=   < > <= >=   + -   * / %   unary ! -   ^   call, literal, $N, ( )
//
// so `-2^2` is -(2^2) = -4, `!a == b` is (!a) == b, and `a + b * c ^ 2` is a + (b * (c^2)).
//
// Values: int op int stays int (`/` truncates toward zero; an overflow becomes float), any float
// makes the result float, `+` with a string on either side concatenates. A missing operand
// (`()` or an absent input) makes arithmetic and comparisons missing, so a rule writing it
// writes nothing; `==` and `!=` compare missing like any other value. Type errors (`"a" * 2`)
// and division by zero produce an error value with the reason.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lang/expr/string_arena.h"
#include "lang/expr/value.h"

namespace edgeflow {
class Regex;
}

namespace edgeflow::expr {

/// Per-worker memory for evaluation. reset() before each message.
struct EvalScratch {
    static constexpr std::size_t tuple_capacity = 256;

    StringArena arena;
    std::vector<Value> tuples;
    /// The batch position of the message being evaluated: reads of state that other messages
    /// of the batch change (`$lkv(...)`) see it as it stood once that message was taken, not
    /// as the end of the batch left it. The default reads the newest state. Set by the stage
    /// that evaluates; reset() keeps it.
    std::uint32_t as_of = UINT32_MAX;

    EvalScratch() { tuples.reserve(tuple_capacity); }
    void reset() noexcept {
        arena.reset();
        tuples.clear();
    }
};

class Program {
public:
    /// Compiles `text` for a rule with `input_count` inputs ($1..$input_count).
    static Result<Program> compile(std::string_view text, std::size_t input_count);

    Program();
    Program(Program&&) noexcept;
    Program& operator=(Program&&) noexcept;
    ~Program();

    /// Evaluates with `inputs[i]` as $i+1.
    Value eval(const Value* inputs, EvalScratch& scratch) const noexcept;

    /// True when the whole expression folded to a constant.
    bool is_constant() const noexcept;
    const std::string& text() const noexcept { return text_; }

    enum class Op : std::uint8_t;
    struct Node;

private:
    friend class Compiler;
    friend class Evaluator;

    std::string text_;
    std::vector<Node> nodes_;
    std::vector<std::uint32_t> args_;  // argument node indices of calls and tuples, in runs
    std::vector<std::unique_ptr<Regex>> regexes_;
    std::vector<std::unique_ptr<std::string>> strings_;  // literals: stable storage for views
    std::uint32_t root_ = 0;
};

/// Text form of a value, as `+` concatenation and str::from write it (strings as they are,
/// numbers as JSON writes them, true/false, null). Fails for objects, arrays, tuples and missing.
bool to_text(const Value& value, StringArena& arena, std::string_view& out) noexcept;

}  // namespace edgeflow::expr
