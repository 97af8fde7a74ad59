#include "lang/topic_filter.h"

namespace edgeflow {

bool valid_topic_filter(std::string_view filter) noexcept {
    if (filter.empty()) {
        return false;
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t end = filter.find('/', start);
        const std::string_view level = filter.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        const bool last = end == std::string_view::npos;
        if (level.find('#') != std::string_view::npos && (level != "#" || !last)) {
            return false;
        }
        if (level.find('+') != std::string_view::npos && level != "+") {
            return false;
        }
        if (last) {
            return true;
        }
        start = end + 1;
    }
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    std::size_t f = 0;
    std::size_t t = 0;
    while (true) {
        const std::size_t f_end = filter.find('/', f);
        const std::string_view level =
            filter.substr(f, f_end == std::string_view::npos ? std::string_view::npos : f_end - f);
        if (level == "#") {
            return true;  // the rest, and the parent level itself
        }
        if (t > topic.size()) {
            return false;  // the topic ended before the filter
        }
        const std::size_t t_end = topic.find('/', t);
        const std::string_view name =
            topic.substr(t, t_end == std::string_view::npos ? std::string_view::npos : t_end - t);
        if (level != "+" && level != name) {
            return false;
        }
        if (f_end == std::string_view::npos) {
            return t_end == std::string_view::npos;
        }
        if (t_end == std::string_view::npos) {
            // The topic has no more levels: only a trailing "/#" still matches.
            return filter.substr(f_end + 1) == "#";
        }
        f = f_end + 1;
        t = t_end + 1;
    }
}

}  // namespace edgeflow
