// Field paths: dot notation for a field inside a Record, and the one parser of it that every
// path in the rule language goes through (FieldPath here; RulePath in lang/transform/rule_path.h
// adds roots such as $metadata. and the `*` wildcard on top).
//
// `a.b.c` names nested members; a segment that starts with `"` runs to the next `"`, so
// `Payload."Tag.10".Value` has three segments; a segment of digits indexes an array when the
// value there is an array (and names a member when it is an object). The few rules on which
// callers differ, and the wording of their messages, are a PathSyntax.
//
// Parsing allocates (the segment names); resolving does not. There is no shared state: any
// thread may parse, and any number may resolve one path at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace edgeflow {

/// One segment of a path: a member name, or an array position when the name is all digits.
struct PathSegment {
    std::string name;
    bool is_index = false;  ///< all digits: an array element when the value is an array
    std::uint32_t index = 0;
};

/// Where the callers of parse_path_segments differ. Each keeps the inputs it has always
/// accepted and the messages it has always given.
struct PathSyntax {
    std::string_view noun;         ///< how messages name the path: "field path", "path"
    std::string_view after_quote;  ///< the message when a quoted segment is not followed by '.'
    bool empty_quoted = false;     ///< `""` names the member whose key is empty
    bool wildcard = false;         ///< an unquoted `*` is a wildcard segment, not part of a name
    std::size_t max_depth = 0;     ///< most segments a path may have; 0 for no limit
};

/// The syntax of FieldPath: no wildcard, no depth limit, no empty segments.
inline constexpr PathSyntax field_path_syntax{.noun = "field path",
                                              .after_quote = "expected '.' after quoted segment"};

/// Where a path has no `*`.
inline constexpr std::size_t no_wildcard = static_cast<std::size_t>(-1);

/// Splits dot-notation text into segments ("quoted" segments keep their dots). Under a syntax
/// with `wildcard`, an unquoted `*` must be a whole segment: it is named "*" and its index is
/// stored in `*wildcard` (which must hold no_wildcard), and it is an error when `wildcard` is
/// null. Fails with a message naming the offending part.
Result<std::vector<PathSegment>> parse_path_segments(std::string_view text,
                                                     const PathSyntax& syntax,
                                                     std::size_t* wildcard = nullptr);

/// The node `segments` lead to below `at`, or an invalid ref when one is missing. A digit
/// segment indexes an array and names a member of an object.
ValueRef resolve_path(ValueRef at, std::span<const PathSegment> segments) noexcept;

/// A compiled reference to a payload field, in field_path_syntax.
class FieldPath {
public:
    /// Compiles a path; fails with a message naming the offending part.
    static Result<FieldPath> parse(std::string_view text);

    /// The value at this path, or an invalid ref when any segment is missing.
    ValueRef resolve(const Record& record) const noexcept {
        return resolve_path(record.root(), segments_);
    }

    const std::string& text() const noexcept { return text_; }
    std::size_t size() const noexcept { return segments_.size(); }

private:
    std::string text_;
    std::vector<PathSegment> segments_;
};

}  // namespace edgeflow
