// Helpers for reading JSON in place with simdjson On-Demand: buffers that carry simdjson's
// padding after the bytes, and the end-of-document check every strict reader needs.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace edgeflow {

/// True when an On-Demand document has been consumed to its end (nothing trails the value).
inline bool document_at_end(simdjson::ondemand::document& doc) noexcept {
    return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

/// Copies `bytes` into `out` with simdjson's padding reserved after it, so a parser can read
/// it in place. Does not allocate once `out` has grown to the largest body seen.
inline void assign_padded(std::string& out, std::string_view bytes) {
    if (out.capacity() < bytes.size() + simdjson::SIMDJSON_PADDING) {
        out.reserve(bytes.size() + simdjson::SIMDJSON_PADDING);
    }
    out.assign(bytes);
}

}  // namespace edgeflow
