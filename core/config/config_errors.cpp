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

void ConfigErrors::push(ConfigError error) {
    const auto same = [&](const ConfigError& e) {
        return e.line == error.line && e.column == error.column && e.file == error.file &&
               e.key == error.key && e.expected == error.expected && e.found == error.found;
    };
    if (std::find_if(errors_.begin(), errors_.end(), same) == errors_.end()) {
        errors_.push_back(std::move(error));
    }
}

void ConfigErrors::add(const ConfigNode& node, std::string expected, std::string found) {
    push({file_name(node.file), node.line, node.column, node.path, std::move(expected),
          std::move(found)});
}

void ConfigErrors::missing(const ConfigNode& parent, std::string_view key, std::string expected) {
    std::string path =
        parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key);
    push({file_name(parent.file), parent.line, parent.column, std::move(path), std::move(expected),
          "no such key"});
}

void ConfigErrors::add_global(std::string key, std::string expected, std::string found) {
    push({file(), 0, 0, std::move(key), std::move(expected), std::move(found)});
}

std::uint32_t ConfigErrors::file_index(const std::string& file) {
    const auto it = std::find(files_.begin(), files_.end(), file);
    if (it != files_.end()) {
        return static_cast<std::uint32_t>(it - files_.begin());
    }
    files_.push_back(file);
    return static_cast<std::uint32_t>(files_.size() - 1);
}

const std::string& ConfigErrors::file_name(std::uint32_t index) const noexcept {
    return index < files_.size() ? files_[index] : files_.front();
}

std::string ConfigErrors::to_string() const {
    // In file order, however the parsers happened to visit the blocks.
    const auto rank = [this](const ConfigError& e) {
        return static_cast<std::size_t>(std::find(files_.begin(), files_.end(), e.file) -
                                        files_.begin());
    };
    std::vector<ConfigError> sorted = errors_;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
        if (rank(a) != rank(b)) {
            return rank(a) < rank(b);
        }
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
