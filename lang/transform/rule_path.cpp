#include "lang/transform/rule_path.h"

#include <charconv>

namespace edgeflow::transform {

Result<std::vector<PathSegment>> split_path(std::string_view text, std::size_t* wildcard) {
    std::vector<PathSegment> segments;
    if (text.empty()) {
        return Status::error("empty path");
    }
    std::size_t pos = 0;
    while (true) {
        PathSegment segment;
        bool quoted = false;
        if (text[pos] == '"') {
            const auto close = text.find('"', pos + 1);
            if (close == std::string_view::npos) {
                return Status::error("unterminated quote in path '" + std::string(text) + "'");
            }
            segment.name = std::string(text.substr(pos + 1, close - pos - 1));
            quoted = true;
            pos = close + 1;
            if (pos < text.size() && text[pos] != '.') {
                return Status::error("expected '.' after a quoted segment in path '" +
                                     std::string(text) + "'");
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
        if (segment.name.empty() && !quoted) {
            return Status::error("empty segment in path '" + std::string(text) + "'");
        }
        if (!quoted && segment.name.find('*') != std::string::npos) {
            if (segment.name != "*") {
                return Status::error("'*' must be a whole segment in path '" + std::string(text) +
                                     "'");
            }
            if (wildcard == nullptr) {
                return Status::error("'*' is not allowed here: '" + std::string(text) + "'");
            }
            if (*wildcard != no_wildcard) {
                return Status::error("only one '*' per path: '" + std::string(text) + "'");
            }
            *wildcard = segments.size();
        }
        segments.push_back(std::move(segment));
        if (segments.size() > max_path_depth) {
            return Status::error("path '" + std::string(text) + "' is deeper than " +
                                 std::to_string(max_path_depth) + " segments");
        }
        if (pos >= text.size()) {
            break;
        }
        ++pos;  // the '.'
        if (pos >= text.size()) {
            return Status::error("path '" + std::string(text) + "' ends with '.'");
        }
    }
    return segments;
}

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<RulePath> RulePath::parse(std::string_view text, bool allow_wildcard) {
    RulePath path;
    path.text = std::string(text);
    std::string_view rest = text;
    if (starts_with(rest, "$metadata.")) {
        rest.remove_prefix(10);
        if (rest == "topic") {
            path.root = PathRoot::topic;
            return path;
        }
        if (rest == "system_property.content_type") {
            path.root = PathRoot::content_type;
            return path;
        }
        if (starts_with(rest, "user_property.")) {
            rest.remove_prefix(14);
            auto key = split_path(rest, nullptr);
            if (!key || key->size() != 1) {
                return Status::error("'" + path.text +
                                     "': a user property is one key; quote a key with dots "
                                     "($metadata.user_property.\"a.b\")");
            }
            path.root = PathRoot::user_property;
            path.property = (*key)[0].name;
            return path;
        }
        return Status::error("'" + path.text +
                             "': metadata is $metadata.topic, $metadata.user_property.<key> or "
                             "$metadata.system_property.content_type");
    }
    if (starts_with(rest, "$context(")) {
        const auto close = rest.find(')');
        if (close == std::string_view::npos) {
            return Status::error("'" + path.text + "': missing ')' after $context(alias");
        }
        path.context_alias = std::string(rest.substr(9, close - 9));
        if (path.context_alias.empty()) {
            return Status::error("'" + path.text + "': $context() needs a dataset alias");
        }
        path.root = PathRoot::context;
        rest.remove_prefix(close + 1);
        if (rest.empty()) {
            return Status::error("'" + path.text + "': name a field, e.g. $context(" +
                                 path.context_alias + ").field or .*");
        }
        if (rest[0] != '.') {
            return Status::error("'" + path.text + "': expected '.' after $context(" +
                                 path.context_alias + ")");
        }
        rest.remove_prefix(1);
    } else if (starts_with(rest, "$context.")) {
        path.root = PathRoot::context;
        rest.remove_prefix(9);
    } else if (starts_with(rest, "$source.")) {
        path.root = PathRoot::source;
        rest.remove_prefix(8);
    } else if (!rest.empty() && rest[0] == '$') {
        return Status::error("'" + path.text +
                             "': unknown root; paths start with a field name, $metadata., "
                             "$context(alias). or (in datasets) $source. / $context.");
    }
    auto segments = split_path(rest, allow_wildcard ? &path.wildcard : nullptr);
    if (!segments) {
        return segments.status();
    }
    path.segments = std::move(segments).value();
    return path;
}

ValueRef RulePath::resolve(ValueRef start, std::size_t from, std::size_t to) const noexcept {
    ValueRef at = start;
    for (std::size_t i = from; i < to && at.valid(); ++i) {
        const PathSegment& s = segments[i];
        if (at.type() == ValueType::array && s.is_index) {
            at = at.element(s.index);
        } else {
            at = at.member(s.name);
        }
    }
    return at;
}

}  // namespace edgeflow::transform
