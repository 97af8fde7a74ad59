#include "lang/transform/rule_path.h"

namespace edgeflow::transform {

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
            auto key = parse_path_segments(rest, rule_path_syntax);
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
    auto segments =
        parse_path_segments(rest, rule_path_syntax, allow_wildcard ? &path.wildcard : nullptr);
    if (!segments) {
        return segments.status();
    }
    path.segments = std::move(segments).value();
    return path;
}

}  // namespace edgeflow::transform
