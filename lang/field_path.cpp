#include "lang/field_path.h"

#include <charconv>

namespace edgeflow {

Result<std::vector<PathSegment>> parse_path_segments(std::string_view text,
                                                     const PathSyntax& syntax,
                                                     std::size_t* wildcard) {
    // Every message names the path the same way: "<what> in <noun> '<text>'".
    const auto in_path = [&] {
        return " in " + std::string(syntax.noun) + " '" + std::string(text) + "'";
    };
    std::vector<PathSegment> segments;
    if (text.empty()) {
        return Status::error("empty " + std::string(syntax.noun));
    }
    std::size_t pos = 0;
    while (true) {
        PathSegment segment;
        bool quoted = false;
        if (text[pos] == '"') {
            const auto close = text.find('"', pos + 1);
            if (close == std::string_view::npos) {
                return Status::error("unterminated quote" + in_path());
            }
            segment.name = std::string(text.substr(pos + 1, close - pos - 1));
            quoted = true;
            pos = close + 1;
            if (pos < text.size() && text[pos] != '.') {
                return Status::error(std::string(syntax.after_quote) + in_path());
            }
        } else {
            const auto dot = text.find('.', pos);
            const auto end = dot == std::string_view::npos ? text.size() : dot;
            segment.name = std::string(text.substr(pos, end - pos));
            pos = end;
            const char* first = segment.name.data();
            const char* last = first + segment.name.size();
            const auto [ptr, ec] = std::from_chars(first, last, segment.index);
            segment.is_index = !segment.name.empty() && ec == std::errc() && ptr == last;
        }
        if (segment.name.empty() && !(quoted && syntax.empty_quoted)) {
            return Status::error("empty segment" + in_path());
        }
        if (syntax.wildcard && !quoted && segment.name.find('*') != std::string::npos) {
            if (segment.name != "*") {
                return Status::error("'*' must be a whole segment" + in_path());
            }
            if (wildcard == nullptr) {
                return Status::error("'*' is not allowed here: '" + std::string(text) + "'");
            }
            if (*wildcard != no_wildcard) {
                return Status::error("only one '*' per " + std::string(syntax.noun) + ": '" +
                                     std::string(text) + "'");
            }
            *wildcard = segments.size();
        }
        segments.push_back(std::move(segment));
        if (syntax.max_depth != 0 && segments.size() > syntax.max_depth) {
            return Status::error(std::string(syntax.noun) + " '" + std::string(text) +
                                 "' is deeper than " + std::to_string(syntax.max_depth) +
                                 " segments");
        }
        if (pos >= text.size()) {
            break;
        }
        ++pos;  // the '.'
        if (pos >= text.size()) {
            return Status::error(std::string(syntax.noun) + " '" + std::string(text) +
                                 "' ends with '.'");
        }
    }
    return segments;
}

// Out of line, with the callers' wrappers inline, so a resolve costs one call as it always has.
ValueRef resolve_path(ValueRef at, std::span<const PathSegment> segments) noexcept {
    for (std::size_t i = 0; i < segments.size() && at.valid(); ++i) {
        const PathSegment& s = segments[i];
        if (at.type() == ValueType::array && s.is_index) {
            at = at.element(s.index);
        } else {
            at = at.member(s.name);
        }
    }
    return at;
}

Result<FieldPath> FieldPath::parse(std::string_view text) {
    auto segments = parse_path_segments(text, field_path_syntax);
    if (!segments) {
        return segments.status();
    }
    FieldPath path;
    path.text_ = std::string(text);
    path.segments_ = std::move(segments).value();
    return path;
}

}  // namespace edgeflow
