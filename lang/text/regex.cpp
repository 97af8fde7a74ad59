#include "lang/text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <type_traits>

static_assert(std::is_same_v<pcre2_code, pcre2_real_code_8>,
              "regex.h declares pcre2_real_code_8 as PCRE2's 8-bit compiled-code type");

namespace edgeflow {
namespace {

// Ovector pairs in a thread's first match data block: more groups than rule patterns use, so a
// thread normally creates its block once and never grows it.
constexpr std::uint32_t initial_pairs = 32;

// \C matches one code unit and can stop inside a UTF-8 character, which PCRE2 documents as
// unpredictable in UTF mode; patterns come from configuration, so it is locked out.
constexpr std::uint32_t compile_options =
    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;

// Unset groups insert nothing, as in JavaScript and .NET replacements; an unknown group stays
// an error because it is a typo in the rule, not a property of the message.
constexpr std::uint32_t substitute_options = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_UNSET_EMPTY;

// One match data block per thread. Since PCRE2 10.41 the block also keeps the interpreter's
// backtracking frames between matches, so reusing it is what makes steady-state matching
// allocation-free; a block per call would allocate twice per match.
class ThreadMatchData {
public:
    ThreadMatchData() = default;
    ThreadMatchData(const ThreadMatchData&) = delete;
    ThreadMatchData& operator=(const ThreadMatchData&) = delete;
    ~ThreadMatchData() { pcre2_match_data_free(data_); }

    /// A block with at least `pairs` ovector pairs, or null when memory ran out.
    pcre2_match_data* get(std::uint32_t pairs) noexcept {
        if (data_ != nullptr && pairs <= pairs_) {
            return data_;
        }
        const std::uint32_t size = std::max(pairs, initial_pairs);
        pcre2_match_data* grown = pcre2_match_data_create(size, nullptr);
        if (grown == nullptr) {
            return nullptr;
        }
        pcre2_match_data_free(data_);
        data_ = grown;
        pairs_ = size;
        return data_;
    }

private:
    pcre2_match_data* data_ = nullptr;
    std::uint32_t pairs_ = 0;
};

thread_local ThreadMatchData t_match_data;

PCRE2_SPTR code_units(std::string_view text) noexcept {
    return reinterpret_cast<PCRE2_SPTR>(text.data());
}

}  // namespace

void Regex::CodeDeleter::operator()(pcre2_real_code_8* code) const noexcept {
    pcre2_code_free(code);
}

Result<Regex> Regex::compile(std::string_view pattern) {
    Regex regex;
    regex.pattern_ = std::string(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(code_units(regex.pattern_), regex.pattern_.size(),
                                     compile_options, &error, &offset, nullptr);
    if (code == nullptr) {
        std::array<PCRE2_UCHAR, 256> text{};
        const int length = pcre2_get_error_message(error, text.data(), text.size());
        const std::string reason = length < 0
                                       ? "error " + std::to_string(error)
                                       : std::string(reinterpret_cast<const char*>(text.data()),
                                                     static_cast<std::size_t>(length));
        return Status::error("invalid regular expression '" + regex.pattern_ + "': " + reason +
                             " at offset " + std::to_string(offset));
    }
    regex.code_.reset(code);
    // JIT only makes matching faster: when it is unavailable (no JIT support for this CPU, no
    // executable memory) the interpreter gives the same answers, so the result is ignored.
    static_cast<void>(pcre2_jit_compile(code, PCRE2_JIT_COMPLETE));
    std::uint32_t groups = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups) == 0) {
        regex.groups_ = groups;
    }
    return regex;
}

bool Regex::matches(std::string_view subject) const noexcept {
    if (!code_) {
        return false;
    }
    pcre2_match_data* data = t_match_data.get(1);
    if (data == nullptr) {
        return false;
    }
    int rc = pcre2_match(code_.get(), code_units(subject), subject.size(), 0, 0, data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        // The JIT's fixed 32 KiB stack is too small for this subject; the interpreter keeps its
        // frames on the heap (in the thread's block) and can go deeper.
        rc = pcre2_match(code_.get(), code_units(subject), subject.size(), 0, PCRE2_NO_JIT, data,
                         nullptr);
    }
    // 0 means a match whose groups did not all fit in the block, still a match.
    return rc >= 0;
}

std::optional<std::size_t> Regex::replace_all(std::string_view subject,
                                              std::string_view replacement, char* out,
                                              std::size_t capacity) const noexcept {
    if (!code_ || out == nullptr) {
        return std::nullopt;
    }
    // Substitution reads groups from the block, so it must hold all of them.
    pcre2_match_data* data = t_match_data.get(groups_ + 1);
    if (data == nullptr) {
        return std::nullopt;
    }
    auto* buffer = reinterpret_cast<PCRE2_UCHAR*>(out);
    PCRE2_SIZE length = capacity;
    int rc = pcre2_substitute(code_.get(), code_units(subject), subject.size(), 0,
                              substitute_options, data, nullptr, code_units(replacement),
                              replacement.size(), buffer, &length);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        length = capacity;
        rc = pcre2_substitute(code_.get(), code_units(subject), subject.size(), 0,
                              substitute_options | PCRE2_NO_JIT, data, nullptr,
                              code_units(replacement), replacement.size(), buffer, &length);
    }
    if (rc < 0) {
        return std::nullopt;
    }
    return length;
}

}  // namespace edgeflow
