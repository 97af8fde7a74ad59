#include "lang/field_path.h"

#include <charconv>

namespace edgeflow {

Result<FieldPath> FieldPath::parse(std::string_view text) {
    FieldPath path;
    path.text_ = std::string(text);
    if (text.empty()) {
        return Status::error("empty field path");
    }
    std::size_t pos = 0;
    while (true) {
        Segment segment;
        if (pos < text.size() && text[pos] == '"') {
            const auto close = text.find('"', pos + 1);
            if (close == std::string_view::npos) {
                return Status::error("unterminated quote in field path '" + std::string(text) +
                                     "'");
            }
            segment.name = std::string(text.substr(pos + 1, close - pos - 1));
            pos = close + 1;
            if (pos < text.size() && text[pos] != '.') {
                return Status::error("expected '.' after quoted segment in field path '" +
                                     std::string(text) + "'");
            }
        } else {
            const auto dot = text.find('.', pos);
            const auto end = dot == std::string_view::npos ? text.size() : dot;
            segment.name = std::string(text.substr(pos, end - pos));
            pos = end;
            const auto* first = segment.name.data();
            const auto* last = first + segment.name.size();
            const auto [ptr, ec] = std::from_chars(first, last, segment.index);
            segment.is_index = !segment.name.empty() && ec == std::errc() && ptr == last;
        }
        if (segment.name.empty()) {
            return Status::error("empty segment in field path '" + std::string(text) + "'");
        }
        path.segments_.push_back(std::move(segment));
        if (pos >= text.size()) {
            break;
        }
        ++pos;  // the '.'
        if (pos >= text.size()) {
            return Status::error("field path '" + std::string(text) + "' ends with '.'");
        }
    }
    return path;
}

ValueRef FieldPath::resolve(const Record& record) const noexcept {
    ValueRef at = record.root();
    for (const auto& segment : segments_) {
        if (!at.valid()) {
            return {};
        }
        if (at.type() == ValueType::array && segment.is_index) {
            at = at.element(segment.index);
        } else {
            at = at.member(segment.name);
        }
    }
    return at;
}

}  // namespace edgeflow
