// RulePath: a path as map, filter and dataset rules write it — where a rule reads an input or
// writes its output.
//
//   temperature                         a payload field (dot notation, "quoted.segments",
//   Payload."Tag.10".Value              array elements by index)
//   Sensors.*.Reading                   at most one `*`: one or more whole segments
//   $metadata.topic                     the message topic
//   $metadata.user_property.<key>       an MQTT v5 user property
//   $metadata.system_property.content_type
//   $context(alias).field               a field of the dataset record matched for `alias`
//   $source.field / $context.field      in dataset inputs: the message / the dataset record
//
// The segments after the root are read by parse_path_segments (lang/field_path.h) under
// rule_path_syntax. Parsing allocates; resolving against a Record does not. There is no shared
// state: any thread may parse, and any number may resolve one path at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.h"
#include "core/status.h"
#include "lang/field_path.h"

namespace edgeflow::transform {

using edgeflow::no_wildcard;
using edgeflow::PathSegment;

enum class PathRoot : std::uint8_t {
    payload,
    topic,          ///< $metadata.topic
    user_property,  ///< $metadata.user_property.<key>
    content_type,   ///< $metadata.system_property.content_type
    context,        ///< $context(alias).<path> (or $context.<path> in dataset inputs)
    source,         ///< $source.<path> (dataset inputs)
};

/// Deepest path a wildcard may capture, and deepest path a rule may name.
inline constexpr std::size_t max_path_depth = 32;

/// The syntax of rule paths below their root: `*` wildcards, `""` for an empty key, at most
/// max_path_depth segments.
inline constexpr PathSyntax rule_path_syntax{.noun = "path",
                                             .after_quote = "expected '.' after a quoted segment",
                                             .empty_quoted = true,
                                             .wildcard = true,
                                             .max_depth = max_path_depth};

struct RulePath {
    std::string text;
    PathRoot root = PathRoot::payload;
    std::string context_alias;  ///< PathRoot::context with an alias
    std::string property;       ///< PathRoot::user_property: the key
    std::vector<PathSegment> segments;
    std::size_t wildcard = no_wildcard;  ///< index of `*` in segments

    bool has_wildcard() const noexcept { return wildcard != no_wildcard; }
    bool is_metadata() const noexcept {
        return root == PathRoot::topic || root == PathRoot::user_property ||
               root == PathRoot::content_type;
    }

    /// Parses a path; `*` is allowed only when `allow_wildcard`.
    static Result<RulePath> parse(std::string_view text, bool allow_wildcard);

    /// The node at segments [from, to) below `start`, or an invalid ref.
    ValueRef resolve(ValueRef start, std::size_t from, std::size_t to) const noexcept {
        return resolve_path(start, std::span<const PathSegment>(segments.data() + from, to - from));
    }
    /// The node at the whole path below `start` (no wildcard).
    ValueRef resolve(ValueRef start) const noexcept { return resolve(start, 0, segments.size()); }
};

}  // namespace edgeflow::transform
