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
// Parsing allocates; matching against a Record does not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace edgeflow::transform {

struct PathSegment {
    std::string name;
    bool is_index = false;  ///< all digits: an array element when the value is an array
    std::uint32_t index = 0;
};

enum class PathRoot : std::uint8_t {
    payload,
    topic,          ///< $metadata.topic
    user_property,  ///< $metadata.user_property.<key>
    content_type,   ///< $metadata.system_property.content_type
    context,        ///< $context(alias).<path> (or $context.<path> in dataset inputs)
    source,         ///< $source.<path> (dataset inputs)
};

/// Where a wildcard path has no `*`.
inline constexpr std::size_t no_wildcard = static_cast<std::size_t>(-1);

/// Deepest path a wildcard may capture, and deepest path a rule may name.
inline constexpr std::size_t max_path_depth = 32;

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
    ValueRef resolve(ValueRef start, std::size_t from, std::size_t to) const noexcept;
    /// The node at the whole path below `start` (no wildcard).
    ValueRef resolve(ValueRef start) const noexcept { return resolve(start, 0, segments.size()); }
};

/// Splits dot-notation text into segments ("quoted" segments keep their dots); `*` unquoted
/// becomes a segment named "*" with `*wildcard` set to its index.
Result<std::vector<PathSegment>> split_path(std::string_view text, std::size_t* wildcard);

}  // namespace edgeflow::transform
