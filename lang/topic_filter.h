// MQTT topic filters: whether a topic name matches a filter with `+` (one level) and `#` (the
// rest, including the parent level), as MQTT 3.1.1 and 5 define them. Topics starting with `$`
// match no filter that starts with a wildcard.
#pragma once

#include <string_view>

namespace edgeflow {

/// Whether `filter` is well formed: `#` only as a whole last level, `+` only as a whole level.
bool valid_topic_filter(std::string_view filter) noexcept;

bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

}  // namespace edgeflow
