// FieldPath: a compiled reference to a field inside a Record, written in dot notation.
//
// `a.b.c` names nested members; a segment that starts with `"` runs to the next `"`, so
// `Payload."Tag.10".Value` has three segments; a segment of digits indexes an array when the
// value there is an array (and names a member when it is an object). Compiling allocates;
// resolving does not.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/record.h"
#include "core/status.h"

namespace edgeflow {

class FieldPath {
public:
    /// Compiles a path; fails with a message naming the offending part.
    static Result<FieldPath> parse(std::string_view text);

    /// The value at this path, or an invalid ref when any segment is missing.
    ValueRef resolve(const Record& record) const noexcept;

    const std::string& text() const noexcept { return text_; }
    std::size_t size() const noexcept { return segments_.size(); }

private:
    struct Segment {
        std::string name;
        bool is_index = false;
        std::uint32_t index = 0;
    };
    std::string text_;
    std::vector<Segment> segments_;
};

}  // namespace edgeflow
