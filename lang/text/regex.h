// Regex: a compiled PCRE2 regular expression for the rule language's match and replace
// functions.
//
// Patterns are Perl-compatible and compiled in UTF-8 mode. Subjects need not be valid UTF-8:
// an invalid byte sequence can never be part of a match, and matching continues around it.
// `\d`, `\w`, `\s` and `\b` are ASCII-only (no Unicode properties), which keeps them fast.
//
// Compiling allocates (and JIT-compiles when the platform supports it, falling back to the
// interpreter silently). After that the compiled code is read-only, so one Regex may be used by
// any number of threads at once without locks. Each thread keeps one PCRE2 match data block
// (with the interpreter's backtracking memory), created on the thread's first match and grown
// only for a pattern with more capture groups, or a match needing more backtracking memory, than
// the thread has seen before; in steady state matching and replacing allocate nothing.
//
// Matching never throws. A match that hits a PCRE2 resource limit (pathological backtracking)
// counts as no match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

// PCRE2's compiled-code type for 8-bit code units (pcre2_code in pcre2.h), declared here so
// that includers do not need pcre2.h and its code-unit-width macro.
struct pcre2_real_code_8;

namespace edgeflow {

class Regex {
public:
    /// Compiles `pattern`; fails with a message giving the pattern, PCRE2's reason and the
    /// offset in the pattern where it was found.
    static Result<Regex> compile(std::string_view pattern);

    /// True when the pattern matches anywhere in `subject` (a search, not a full match; anchor
    /// with `^...$` or `\A...\z` for that). A moved-from Regex matches nothing.
    bool matches(std::string_view subject) const noexcept;

    /// Writes `subject` with every non-overlapping match replaced into `out` and returns the
    /// length of the result. The result is followed by a NUL, so `capacity` must exceed the
    /// length by one. In `replacement`, `$1` or `${1}` inserts a group by number (`$0` is the
    /// whole match), `${name}` a named group, `$$` a dollar; a group that did not take part in
    /// the match inserts nothing; every other character, backslash included, is literal.
    /// Returns nullopt when the result does not fit, the replacement refers to a group the
    /// pattern does not have or is malformed or invalid UTF-8, or matching fails; `out` then
    /// holds unspecified bytes. When nothing matches the result is the subject.
    std::optional<std::size_t> replace_all(std::string_view subject, std::string_view replacement,
                                           char* out, std::size_t capacity) const noexcept;

    /// The source pattern.
    const std::string& pattern() const noexcept { return pattern_; }

private:
    struct CodeDeleter {
        void operator()(pcre2_real_code_8* code) const noexcept;
    };

    Regex() = default;

    std::string pattern_;
    std::unique_ptr<pcre2_real_code_8, CodeDeleter> code_;
    std::uint32_t groups_ = 0;  ///< capture groups in the pattern, not counting group 0
};

}  // namespace edgeflow
