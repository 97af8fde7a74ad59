#include "lang/expr/program.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/json_writer.h"
#include "lang/expr/functions.h"
#include "lang/text/regex.h"

namespace edgeflow::expr {

enum class Program::Op : std::uint8_t {
    constant,
    input,
    negate,
    logical_not,
    power,
    multiply,
    divide,
    modulo,
    add,
    subtract,
    less,
    greater,
    less_equal,
    greater_equal,
    equal,
    not_equal,
    logical_and,
    logical_or,
    tuple,
    call,
    if_else,
};

struct Program::Node {
    Op op = Op::constant;
    std::uint32_t left = 0;        // operand / first operand
    std::uint32_t right = 0;       // second operand
    std::uint32_t args_begin = 0;  // calls and tuples: run in args_
    std::uint32_t args_size = 0;
    std::uint32_t input = 0;  // Op::input: 0-based
    const FunctionDef* function = nullptr;
    const Regex* regex = nullptr;
    Value constant;
};

namespace {

using Op = Program::Op;

bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

struct Token {
    enum Type {
        end,
        number,
        string,
        identifier,  // also true/false/null and namespaced names like math::sqrt
        input,       // $N
        op,          // operator or punctuation, in `text`
    } type = end;
    std::string_view text;
    std::size_t position = 0;
};

}  // namespace

// ---- Compiling -----------------------------------------------------------------------------

class Compiler {
public:
    Compiler(std::string_view text, std::size_t input_count, Program& program)
        : text_(text), input_count_(input_count), program_(program) {}

    Status compile() {
        advance();
        std::uint32_t root = 0;
        if (!parse_binary(0, root)) {
            return Status::error(error_);
        }
        if (token_.type != Token::end) {
            return Status::error(at(token_.position) + "unexpected '" + std::string(token_.text) +
                                 "' after the end of the expression");
        }
        program_.root_ = root;
        return Status::ok();
    }

private:
    std::string at(std::size_t position) const {
        return "at column " + std::to_string(position + 1) + ": ";
    }
    bool fail(std::size_t position, const std::string& message) {
        if (error_.empty()) {
            error_ = at(position) + message;
        }
        return false;
    }

    // Lexing.
    void advance() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
        token_ = Token{};
        token_.position = pos_;
        if (pos_ >= text_.size()) {
            return;
        }
        const char c = text_[pos_];
        const std::size_t start = pos_;
        if (is_digit(c) || (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
            while (pos_ < text_.size() && is_digit(text_[pos_])) {
                ++pos_;
            }
            if (pos_ < text_.size() && text_[pos_] == '.') {
                ++pos_;
                while (pos_ < text_.size() && is_digit(text_[pos_])) {
                    ++pos_;
                }
            }
            if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
                std::size_t p = pos_ + 1;
                if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) {
                    ++p;
                }
                if (p < text_.size() && is_digit(text_[p])) {
                    pos_ = p;
                    while (pos_ < text_.size() && is_digit(text_[pos_])) {
                        ++pos_;
                    }
                }
            }
            token_ = {Token::number, text_.substr(start, pos_ - start), start};
            return;
        }
        if (c == '\'' || c == '"') {
            ++pos_;
            while (pos_ < text_.size() && text_[pos_] != c) {
                pos_ += text_[pos_] == '\\' ? 2 : 1;
            }
            if (pos_ >= text_.size()) {
                token_ = {Token::op, "unterminated", start};
                unterminated_ = true;
                pos_ = text_.size();
                return;
            }
            ++pos_;
            token_ = {Token::string, text_.substr(start, pos_ - start), start};
            return;
        }
        if (c == '$') {
            ++pos_;
            while (pos_ < text_.size() && is_ident_char(text_[pos_])) {
                ++pos_;
            }
            token_ = {Token::input, text_.substr(start, pos_ - start), start};
            return;
        }
        if (is_ident_start(c)) {
            while (pos_ < text_.size()) {
                if (is_ident_char(text_[pos_])) {
                    ++pos_;
                } else if (text_.substr(pos_, 2) == "::" && pos_ + 2 < text_.size() &&
                           is_ident_start(text_[pos_ + 2])) {
                    pos_ += 2;
                } else {
                    break;
                }
            }
            token_ = {Token::identifier, text_.substr(start, pos_ - start), start};
            return;
        }
        static constexpr std::string_view two_char[] = {"<=", ">=", "==", "!=", "&&", "||"};
        for (auto op : two_char) {
            if (text_.substr(pos_, 2) == op) {
                pos_ += 2;
                token_ = {Token::op, op, start};
                return;
            }
        }
        ++pos_;
        token_ = {Token::op, text_.substr(start, 1), start};
    }

    bool is_op(std::string_view op) const { return token_.type == Token::op && token_.text == op; }

    std::uint32_t add_node(Program::Node node) {
        program_.nodes_.push_back(node);
        return static_cast<std::uint32_t>(program_.nodes_.size() - 1);
    }
    std::uint32_t add_constant(const Value& v) {
        Program::Node n;
        n.op = Op::constant;
        n.constant = v;
        return add_node(n);
    }
    const Program::Node& node(std::uint32_t i) const { return program_.nodes_[i]; }

    // Binary operators by level; level 6 is the unary level.
    struct BinaryOp {
        std::string_view text;
        Op op;
        int level;
    };
    static constexpr BinaryOp binary_ops[] = {
        {"||", Op::logical_or, 0}, {"&&", Op::logical_and, 1},   {"==", Op::equal, 2},
        {"!=", Op::not_equal, 2},  {"<", Op::less, 3},           {">", Op::greater, 3},
        {"<=", Op::less_equal, 3}, {">=", Op::greater_equal, 3}, {"+", Op::add, 4},
        {"-", Op::subtract, 4},    {"*", Op::multiply, 5},       {"/", Op::divide, 5},
        {"%", Op::modulo, 5},
    };
    static constexpr int unary_level = 6;

    const BinaryOp* binary_at(int level) const {
        if (token_.type != Token::op) {
            return nullptr;
        }
        for (const auto& b : binary_ops) {
            if (b.level == level && b.text == token_.text) {
                return &b;
            }
        }
        return nullptr;
    }

    bool parse_binary(int level, std::uint32_t& out) {
        if (level == unary_level) {
            return parse_unary(out);
        }
        std::uint32_t left = 0;
        if (!parse_binary(level + 1, left)) {
            return false;
        }
        while (const BinaryOp* b = binary_at(level)) {
            advance();
            std::uint32_t right = 0;
            if (!parse_binary(level + 1, right)) {
                return false;
            }
            Program::Node n;
            n.op = b->op;
            n.left = left;
            n.right = right;
            left = fold(add_node(n));
        }
        out = left;
        return true;
    }

    bool parse_unary(std::uint32_t& out) {
        if (is_op("-") || is_op("!")) {
            const Op op = is_op("-") ? Op::negate : Op::logical_not;
            advance();
            std::uint32_t operand = 0;
            if (!parse_unary(operand)) {
                return false;
            }
            Program::Node n;
            n.op = op;
            n.left = operand;
            out = fold(add_node(n));
            return true;
        }
        if (is_op("+")) {
            advance();
            return parse_unary(out);
        }
        return parse_power(out);
    }

    // `^` binds tighter than unary minus and is right-associative: 2^3^2 = 2^9.
    bool parse_power(std::uint32_t& out) {
        std::uint32_t base = 0;
        if (!parse_primary(base)) {
            return false;
        }
        if (!is_op("^")) {
            out = base;
            return true;
        }
        advance();
        std::uint32_t exponent = 0;
        if (!parse_unary(exponent)) {
            return false;
        }
        Program::Node n;
        n.op = Op::power;
        n.left = base;
        n.right = exponent;
        out = fold(add_node(n));
        return true;
    }

    bool parse_arguments(std::vector<std::uint32_t>& args) {
        // At '(' already consumed; reads `a, b, ...)`.
        if (is_op(")")) {
            advance();
            return true;
        }
        while (true) {
            std::uint32_t arg = 0;
            if (!parse_binary(0, arg)) {
                return false;
            }
            args.push_back(arg);
            if (is_op(",")) {
                advance();
                continue;
            }
            if (is_op(")")) {
                advance();
                return true;
            }
            return fail(token_.position,
                        token_.type == Token::end
                            ? "missing ')'"
                            : "expected ',' or ')' but found '" + std::string(token_.text) + "'");
        }
    }

    std::uint32_t store_args(const std::vector<std::uint32_t>& args) {
        const auto begin = static_cast<std::uint32_t>(program_.args_.size());
        program_.args_.insert(program_.args_.end(), args.begin(), args.end());
        return begin;
    }

    bool parse_primary(std::uint32_t& out) {
        const Token t = token_;
        if (unterminated_) {
            return fail(t.position, "unterminated string literal");
        }
        switch (t.type) {
            case Token::end:
                return fail(t.position, "expected a value but the expression ended");
            case Token::number:
                advance();
                return parse_number(t, out);
            case Token::string:
                advance();
                out = add_constant(Value::of_string(unescape(t.text)));
                return true;
            case Token::input: {
                advance();
                std::uint32_t index = 0;
                const auto digits = t.text.substr(1);
                const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), index);
                if (digits.empty() || r.ec != std::errc() ||
                    r.ptr != digits.data() + digits.size()) {
                    return fail(t.position, "'" + std::string(t.text) +
                                                "' is not an input: inputs are $1, $2, ...");
                }
                if (index == 0 || index > input_count_) {
                    return fail(t.position, "'" + std::string(t.text) + "' but the rule has " +
                                                std::to_string(input_count_) +
                                                (input_count_ == 1 ? " input" : " inputs"));
                }
                Program::Node n;
                n.op = Op::input;
                n.input = index - 1;
                out = add_node(n);
                return true;
            }
            case Token::identifier:
                advance();
                return parse_identifier(t, out);
            case Token::op:
                break;
        }
        if (is_op("(")) {
            advance();
            std::vector<std::uint32_t> items;
            if (!parse_arguments(items)) {
                return false;
            }
            if (items.empty()) {
                out = add_constant(Value::missing());
                return true;
            }
            if (items.size() == 1) {
                out = items[0];
                return true;
            }
            Program::Node n;
            n.op = Op::tuple;
            n.args_begin = store_args(items);
            n.args_size = static_cast<std::uint32_t>(items.size());
            out = add_node(n);
            return true;
        }
        return fail(t.position, "expected a value but found '" + std::string(t.text) + "'");
    }

    bool parse_number(const Token& t, std::uint32_t& out) {
        const bool is_float = t.text.find_first_of(".eE") != std::string_view::npos;
        if (!is_float) {
            std::int64_t i = 0;
            const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), i);
            if (r.ec == std::errc() && r.ptr == t.text.data() + t.text.size()) {
                out = add_constant(Value::of_int(i));
                return true;
            }
        }
        double d = 0;
        const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), d);
        if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size()) {
            return fail(t.position, "'" + std::string(t.text) + "' is not a number");
        }
        out = add_constant(Value::of_float(d));
        return true;
    }

    std::string_view unescape(std::string_view quoted) {
        std::string s;
        for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
            char c = quoted[i];
            if (c == '\\' && i + 2 < quoted.size()) {
                c = quoted[++i];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            }
            s.push_back(c);
        }
        program_.strings_.push_back(std::make_unique<std::string>(std::move(s)));
        return *program_.strings_.back();
    }

    bool parse_identifier(const Token& t, std::uint32_t& out) {
        if (t.text == "true" || t.text == "false") {
            out = add_constant(Value::of_bool(t.text == "true"));
            return true;
        }
        if (t.text == "null") {
            out = add_constant(Value::null());
            return true;
        }
        if (!is_op("(")) {
            return fail(t.position, "'" + std::string(t.text) +
                                        "' is not a value: inputs are $1, $2, ..., "
                                        "strings are quoted, functions take (arguments)");
        }
        advance();
        std::vector<std::uint32_t> args;
        if (!parse_arguments(args)) {
            return false;
        }
        if (t.text == "if") {
            if (args.size() != 3) {
                return fail(t.position, "if takes 3 arguments (condition, then, else), given " +
                                            std::to_string(args.size()));
            }
            Program::Node n;
            n.op = Op::if_else;
            n.args_begin = store_args(args);
            n.args_size = 3;
            out = add_node(n);
            return true;
        }
        const FunctionDef* f = find_function(t.text);
        if (f == nullptr) {
            return fail(t.position, "unknown function '" + std::string(t.text) + "'");
        }
        if (args.size() < f->min_args || args.size() > f->max_args) {
            std::string expected = std::to_string(f->min_args);
            if (f->max_args == variadic_max) {
                expected += " or more";
            } else if (f->max_args != f->min_args) {
                expected += " to " + std::to_string(f->max_args);
            }
            return fail(t.position,
                        std::string(f->name) + " takes " + expected +
                            (f->max_args == 1 && f->min_args == 1 ? " argument" : " arguments") +
                            ", given " + std::to_string(args.size()));
        }
        Program::Node n;
        n.op = Op::call;
        n.function = f;
        n.args_begin = store_args(args);
        n.args_size = static_cast<std::uint32_t>(args.size());
        if (f->regex_arg >= 0) {
            const auto& pattern = node(args[static_cast<std::size_t>(f->regex_arg)]);
            if (pattern.op != Op::constant || pattern.constant.kind != Kind::string) {
                return fail(t.position, std::string(f->name) +
                                            ": the pattern must be a string literal (it is "
                                            "compiled once, when the rule loads)");
            }
            auto regex = Regex::compile(pattern.constant.text);
            if (!regex) {
                return fail(t.position, std::string(f->name) + ": " + regex.error());
            }
            program_.regexes_.push_back(std::make_unique<Regex>(std::move(regex).value()));
            n.regex = program_.regexes_.back().get();
        }
        out = fold(add_node(n));
        return true;
    }

    // Replaces a node whose operands are all constants by its value (unless it is impure or
    // evaluates to an error, which must surface per message with its reason).
    std::uint32_t fold(std::uint32_t index) {
        const Program::Node n = node(index);
        auto is_const = [&](std::uint32_t i) { return node(i).op == Op::constant; };
        bool all_constant = true;
        switch (n.op) {
            case Op::negate:
            case Op::logical_not:
                all_constant = is_const(n.left);
                break;
            case Op::call:
                if (!n.function->pure) {
                    return index;
                }
                [[fallthrough]];
            case Op::tuple:
                for (std::uint32_t a = 0; a < n.args_size; ++a) {
                    all_constant = all_constant && is_const(program_.args_[n.args_begin + a]);
                }
                if (n.op == Op::tuple) {
                    return index;  // a tuple's value points into the per-message tuple stack
                }
                break;
            default:
                all_constant = is_const(n.left) && is_const(n.right);
                break;
        }
        if (!all_constant) {
            return index;
        }
        EvalScratch scratch;
        const auto saved_root = program_.root_;
        program_.root_ = index;
        const Value v = program_.eval(nullptr, scratch);
        program_.root_ = saved_root;
        if (v.kind == Kind::error || v.kind == Kind::tuple || v.kind == Kind::object ||
            v.kind == Kind::array) {
            return index;
        }
        Value stored = v;
        if (v.kind == Kind::string) {
            program_.strings_.push_back(std::make_unique<std::string>(v.text));
            stored.text = *program_.strings_.back();
        }
        program_.nodes_[index] = Program::Node{};
        program_.nodes_[index].op = Op::constant;
        program_.nodes_[index].constant = stored;
        return index;
    }

    std::string_view text_;
    std::size_t input_count_;
    Program& program_;
    std::size_t pos_ = 0;
    Token token_;
    bool unterminated_ = false;
    std::string error_;
};

// ---- Evaluating ----------------------------------------------------------------------------

namespace {

Value arithmetic(Op op, const Value& a, const Value& b, StringArena& arena) noexcept {
    if (op == Op::add && (a.kind == Kind::string || b.kind == Kind::string)) {
        std::string_view left;
        std::string_view right;
        if (!to_text(a, arena, left) || !to_text(b, arena, right)) {
            return Value::error("+ joins a string only with a string, number, bool or null");
        }
        std::string_view joined;
        if (!arena.concat(joined, left, right)) {
            return Value::error("string result too large");
        }
        return Value::of_string(joined);
    }
    if (!a.is_number() || !b.is_number()) {
        switch (op) {
            case Op::add:
                return Value::error("+ needs numbers or a string");
            case Op::power:
                return Value::error("^ needs numbers");
            default:
                return Value::error("arithmetic needs numbers");
        }
    }
    if (a.kind == Kind::integer && b.kind == Kind::integer) {
        std::int64_t r = 0;
        switch (op) {
            case Op::add:
                if (!__builtin_add_overflow(a.integer, b.integer, &r)) {
                    return Value::of_int(r);
                }
                break;
            case Op::subtract:
                if (!__builtin_sub_overflow(a.integer, b.integer, &r)) {
                    return Value::of_int(r);
                }
                break;
            case Op::multiply:
                if (!__builtin_mul_overflow(a.integer, b.integer, &r)) {
                    return Value::of_int(r);
                }
                break;
            case Op::divide:
                if (b.integer == 0) {
                    return Value::error("division by zero");
                }
                if (a.integer == std::numeric_limits<std::int64_t>::min() && b.integer == -1) {
                    break;
                }
                return Value::of_int(a.integer / b.integer);
            case Op::modulo:
                if (b.integer == 0) {
                    return Value::error("division by zero");
                }
                if (b.integer == -1) {
                    return Value::of_int(0);
                }
                return Value::of_int(a.integer % b.integer);
            case Op::power:
                if (b.integer >= 0) {
                    std::int64_t result = 1;
                    std::int64_t base = a.integer;
                    std::int64_t e = b.integer;
                    bool overflow = false;
                    while (e > 0 && !overflow) {
                        if ((e & 1) != 0) {
                            overflow = __builtin_mul_overflow(result, base, &result);
                        }
                        e >>= 1;
                        if (e > 0) {
                            overflow = overflow || __builtin_mul_overflow(base, base, &base);
                        }
                    }
                    if (!overflow) {
                        return Value::of_int(result);
                    }
                }
                break;
            default:
                break;
        }
        // Overflow or a negative power: fall through to floating point.
    }
    const double x = a.number();
    const double y = b.number();
    switch (op) {
        case Op::add:
            return Value::of_float(x + y);
        case Op::subtract:
            return Value::of_float(x - y);
        case Op::multiply:
            return Value::of_float(x * y);
        case Op::divide:
            if (y == 0.0) {
                return Value::error("division by zero");
            }
            return Value::of_float(x / y);
        case Op::modulo:
            if (y == 0.0) {
                return Value::error("division by zero");
            }
            return Value::of_float(std::fmod(x, y));
        case Op::power:
            return Value::of_float(std::pow(x, y));
        default:
            return Value::error("not an arithmetic operator");
    }
}

Value compare(Op op, const Value& a, const Value& b) noexcept {
    if (op == Op::equal) {
        return Value::of_bool(equal(a, b));
    }
    if (op == Op::not_equal) {
        return Value::of_bool(!equal(a, b));
    }
    int order = 0;
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::integer && b.kind == Kind::integer) {
            order = a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
        } else {
            const double x = a.number();
            const double y = b.number();
            if (std::isnan(x) || std::isnan(y)) {
                return Value::of_bool(false);
            }
            order = x < y ? -1 : x > y ? 1 : 0;
        }
    } else if (a.kind == Kind::string && b.kind == Kind::string) {
        const int c = a.text.compare(b.text);
        order = c < 0 ? -1 : c > 0 ? 1 : 0;
    } else {
        return Value::error("< > <= >= compare two numbers or two strings");
    }
    switch (op) {
        case Op::less:
            return Value::of_bool(order < 0);
        case Op::greater:
            return Value::of_bool(order > 0);
        case Op::less_equal:
            return Value::of_bool(order <= 0);
        default:
            return Value::of_bool(order >= 0);
    }
}

}  // namespace

class Evaluator {
public:
    Evaluator(const Program& program, const Value* inputs, EvalScratch& scratch)
        : p_(program), inputs_(inputs), scratch_(scratch) {}

    Value eval(std::uint32_t index) noexcept {
        const Program::Node& n = p_.nodes_[index];
        switch (n.op) {
            case Op::constant:
                return n.constant;
            case Op::input:
                return inputs_[n.input];
            case Op::negate: {
                const Value v = eval(n.left);
                if (v.kind == Kind::integer &&
                    v.integer != std::numeric_limits<std::int64_t>::min()) {
                    return Value::of_int(-v.integer);
                }
                if (v.is_number()) {
                    return Value::of_float(-v.number());
                }
                return passthrough_or(v, "unary - needs a number");
            }
            case Op::logical_not: {
                const Value v = eval(n.left);
                if (v.kind == Kind::boolean) {
                    return Value::of_bool(!v.boolean);
                }
                return passthrough_or(v, "! needs a bool");
            }
            case Op::logical_and:
            case Op::logical_or: {
                const Value a = eval(n.left);
                if (a.kind != Kind::boolean) {
                    return passthrough_or(a, "&& and || need bools");
                }
                if (n.op == Op::logical_and ? !a.boolean : a.boolean) {
                    return a;
                }
                const Value b = eval(n.right);
                if (b.kind != Kind::boolean) {
                    return passthrough_or(b, "&& and || need bools");
                }
                return b;
            }
            case Op::equal:
            case Op::not_equal: {
                const Value a = eval(n.left);
                if (a.is_error()) {
                    return a;
                }
                const Value b = eval(n.right);
                if (b.is_error()) {
                    return b;
                }
                return compare(n.op, a, b);
            }
            case Op::less:
            case Op::greater:
            case Op::less_equal:
            case Op::greater_equal: {
                const Value a = eval(n.left);
                const Value b = eval(n.right);
                if (const Value* stop = first_stop(a, b)) {
                    return *stop;
                }
                return compare(n.op, a, b);
            }
            case Op::power:
            case Op::multiply:
            case Op::divide:
            case Op::modulo:
            case Op::add:
            case Op::subtract: {
                const Value a = eval(n.left);
                const Value b = eval(n.right);
                if (const Value* stop = first_stop(a, b)) {
                    return *stop;
                }
                return arithmetic(n.op, a, b, scratch_.arena);
            }
            case Op::tuple:
                return tuple(n);
            case Op::if_else: {
                const Value c = eval(p_.args_[n.args_begin]);
                if (c.kind != Kind::boolean) {
                    return passthrough_or(c, "if needs a bool condition");
                }
                return eval(p_.args_[n.args_begin + (c.boolean ? 1 : 2)]);
            }
            case Op::call:
                return call(n);
        }
        return Value::error("unknown operation");
    }

private:
    // Errors win over missing; missing makes the result missing.
    static const Value* first_stop(const Value& a, const Value& b) noexcept {
        if (a.is_error()) {
            return &a;
        }
        if (b.is_error()) {
            return &b;
        }
        if (a.is_missing()) {
            return &a;
        }
        if (b.is_missing()) {
            return &b;
        }
        return nullptr;
    }
    static Value passthrough_or(const Value& v, std::string_view reason) noexcept {
        if (v.is_error() || v.is_missing()) {
            return v;
        }
        return Value::error(reason);
    }

    Value tuple(const Program::Node& n) noexcept {
        Value items[variadic_max];
        const std::uint32_t size = n.args_size < variadic_max ? n.args_size : variadic_max;
        for (std::uint32_t a = 0; a < size; ++a) {
            items[a] = eval(p_.args_[n.args_begin + a]);
            if (items[a].is_error()) {
                return items[a];
            }
        }
        auto& stack = scratch_.tuples;
        if (stack.size() + size > EvalScratch::tuple_capacity) {
            return Value::error("too many tuple elements in one evaluation");
        }
        Value t;
        t.kind = Kind::tuple;
        t.tuple_begin = static_cast<std::uint32_t>(stack.size());
        t.tuple_size = size;
        stack.insert(stack.end(), items, items + size);
        return t;
    }

    Value call(const Program::Node& n) noexcept {
        // Most calls take one or two arguments: keep the common case's frame small.
        if (n.args_size <= 2) {
            Value args[2];
            return call_with(n, args);
        }
        Value args[variadic_max];
        return call_with(n, args);
    }

    Value call_with(const Program::Node& n, Value* args) noexcept {
        const std::uint32_t size = n.args_size < variadic_max ? n.args_size : variadic_max;
        for (std::uint32_t a = 0; a < size; ++a) {
            args[a] = eval(p_.args_[n.args_begin + a]);
            if (args[a].is_error()) {
                return args[a];
            }
            if (args[a].is_missing() && !n.function->passes_missing) {
                return args[a];
            }
        }
        CallContext cx{scratch_.arena, scratch_.tuples, n.regex};
        return n.function->impl(std::span<const Value>(args, size), cx);
    }

    const Program& p_;
    const Value* inputs_;
    EvalScratch& scratch_;
};

Program::Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;
Program::~Program() = default;

Result<Program> Program::compile(std::string_view text, std::size_t input_count) {
    Program program;
    program.text_ = std::string(text);
    Compiler compiler(program.text_, input_count, program);
    Status status = compiler.compile();
    if (!status) {
        return status;
    }
    return program;
}

Value Program::eval(const Value* inputs, EvalScratch& scratch) const noexcept {
    if (nodes_.empty()) {
        return Value::missing();
    }
    Evaluator evaluator(*this, inputs, scratch);
    return evaluator.eval(root_);
}

bool Program::is_constant() const noexcept {
    return !nodes_.empty() && nodes_[root_].op == Op::constant;
}

bool to_text(const Value& value, StringArena& arena, std::string_view& out) noexcept {
    switch (value.kind) {
        case Kind::string:
            out = value.text;
            return true;
        case Kind::boolean:
            out = value.boolean ? "true" : "false";
            return true;
        case Kind::null:
            out = "null";
            return true;
        case Kind::integer: {
            char* dst = arena.reserve(24);
            if (dst == nullptr) {
                return false;
            }
            const auto r = std::to_chars(dst, dst + 24, value.integer);
            out = arena.commit(static_cast<std::size_t>(r.ptr - dst));
            return true;
        }
        case Kind::floating: {
            char* dst = arena.reserve(40);
            if (dst == nullptr) {
                return false;
            }
            if (!std::isfinite(value.floating)) {
                out = std::isnan(value.floating) ? "NaN" : (value.floating > 0 ? "inf" : "-inf");
                arena.commit(0);
                return true;
            }
            const auto r = std::to_chars(dst, dst + 36, value.floating);
            std::size_t size = static_cast<std::size_t>(r.ptr - dst);
            if (std::string_view(dst, size).find_first_of(".eE") == std::string_view::npos) {
                dst[size++] = '.';
                dst[size++] = '0';
            }
            out = arena.commit(size);
            return true;
        }
        default:
            return false;
    }
}

}  // namespace edgeflow::expr
