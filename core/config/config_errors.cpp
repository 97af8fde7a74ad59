#include "core/config/config_errors.h"

#include <algorithm>

namespace edgeflow {

std::string ConfigError::to_string() const {
    std::string text = file;
    if (line > 0) {
        text += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    text += ": ";
    if (!key.empty()) {
        text += key + ": ";
    }
    text += "expected " + expected + ", found " + found;
    return text;
}

void ConfigErrors::add(const ConfigNode& node, std::string expected, std::string found) {
    errors_.push_back(
        {file_, node.line, node.column, node.path, std::move(expected), std::move(found)});
}

void ConfigErrors::missing(const ConfigNode& parent, std::string_view key, std::string expected) {
    std::string path =
        parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key);
    errors_.push_back(
        {file_, parent.line, parent.column, std::move(path), std::move(expected), "no such key"});
}

void ConfigErrors::add_global(std::string key, std::string expected, std::string found) {
    errors_.push_back({file_, 0, 0, std::move(key), std::move(expected), std::move(found)});
}

std::string ConfigErrors::to_string() const {
    // In file order, however the parsers happened to visit the blocks.
    std::vector<ConfigError> sorted = errors_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    std::string text;
    for (const auto& e : sorted) {
        text += e.to_string();
        text += '\n';
    }
    return text;
}

}  // namespace edgeflow
