#include "core/config/map_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace edgeflow {

MapReader::MapReader(const ConfigNode& node, ConfigErrors& errors, std::string what)
    : node_(node), errors_(errors), what_(std::move(what)), is_map_(node.is_map()) {
    if (!is_map_) {
        errors_.add(node_, what_ + " (a map of keys)");
    }
}

const ConfigNode* MapReader::get(std::string_view key) {
    known_.push_back(key);
    return is_map_ ? node_.find(key) : nullptr;
}

bool MapReader::required_string(std::string_view key, std::string& out, std::string expected) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        if (is_map_) {
            errors_.missing(node_, key, expected);
        }
        return false;
    }
    if (!value->is_scalar() || value->scalar.empty()) {
        errors_.add(*value, expected);
        return false;
    }
    out = value->scalar;
    return true;
}

void MapReader::optional_string(std::string_view key, std::string& out, std::string expected) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    if (!value->is_scalar()) {
        errors_.add(*value, expected);
        return;
    }
    out = value->scalar;
}

void MapReader::optional_bool(std::string_view key, bool& out) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    if (value->is_scalar() && !value->quoted) {
        if (value->scalar == "true") {
            out = true;
            return;
        }
        if (value->scalar == "false") {
            out = false;
            return;
        }
    }
    errors_.add(*value, "true or false");
}

void MapReader::optional_uint(std::string_view key, std::uint64_t& out, std::uint64_t min,
                              std::uint64_t max, std::string_view word, std::uint64_t word_value) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    if (!word.empty() && value->is_scalar() && value->scalar == word) {
        out = word_value;
        return;
    }
    std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    if (!word.empty()) {
        range += " or " + std::string(word);
    }
    if (!value->is_scalar() || value->quoted) {
        errors_.add(*value, range);
        return;
    }
    std::uint64_t parsed = 0;
    const auto* first = value->scalar.data();
    const auto* last = first + value->scalar.size();
    const auto [ptr, ec] = std::from_chars(first, last, parsed);
    if (ec != std::errc() || ptr != last || parsed < min || parsed > max) {
        errors_.add(*value, range);
        return;
    }
    out = parsed;
}

void MapReader::optional_double(std::string_view key, double& out, double min, double max) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    const std::string range = "a number from " + std::to_string(min) + " to " + std::to_string(max);
    if (!value->is_scalar() || value->quoted || value->scalar.empty()) {
        errors_.add(*value, range);
        return;
    }
    char* end = nullptr;
    const double parsed = std::strtod(value->scalar.c_str(), &end);
    if (end != value->scalar.c_str() + value->scalar.size() || !(parsed >= min && parsed <= max)) {
        errors_.add(*value, range);
        return;
    }
    out = parsed;
}

namespace {

// "250ms", "10s", "5m", "2h", "1d" → milliseconds; false for anything else.
bool parse_duration_ms(std::string_view text, std::int64_t& ms) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    if (digits == 0 || digits > 12) {
        return false;
    }
    std::int64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        value = value * 10 + (text[i] - '0');
    }
    const std::string_view unit = text.substr(digits);
    static constexpr std::pair<std::string_view, std::int64_t> units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
    for (const auto& [name, factor] : units) {
        if (unit == name) {
            ms = value * factor;
            return true;
        }
    }
    return false;
}

}  // namespace

void MapReader::optional_duration(std::string_view key, std::int64_t& out_ms, std::int64_t min_ms,
                                  std::int64_t max_ms) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    std::int64_t ms = 0;
    if (!value->is_scalar() || !parse_duration_ms(value->scalar, ms) || ms < min_ms ||
        ms > max_ms) {
        errors_.add(*value, "a duration from " + std::to_string(min_ms) + "ms to " +
                                std::to_string(max_ms) +
                                "ms, with a unit (250ms, 10s, 5m, 2h, 1d)");
        return;
    }
    out_ms = ms;
}

bool MapReader::required_duration(std::string_view key, std::int64_t& out_ms, std::int64_t min_ms,
                                  std::int64_t max_ms) {
    if (node_.find(key) == nullptr) {
        if (is_map_) {
            errors_.missing(node_, key, "a duration (250ms, 10s, 5m, 2h, 1d)");
        }
        get(key);
        return false;
    }
    const auto count = errors_.size();
    optional_duration(key, out_ms, min_ms, max_ms);
    return errors_.size() == count;
}

void MapReader::optional_string_list(std::string_view key, std::vector<std::string>& out) {
    const ConfigNode* value = get(key);
    if (value == nullptr) {
        return;
    }
    if (value->is_scalar() && !value->scalar.empty()) {
        out = {value->scalar};
        return;
    }
    if (!value->is_sequence() || value->items.empty()) {
        errors_.add(*value, "a list of text");
        return;
    }
    out.clear();
    for (const auto& item : value->items) {
        if (!item.is_scalar() || item.scalar.empty()) {
            errors_.add(item, "text");
            continue;
        }
        out.push_back(item.scalar);
    }
}

void MapReader::finish() {
    if (!is_map_) {
        return;
    }
    for (const auto& [key, value] : node_.members) {
        if (std::find(known_.begin(), known_.end(), key) != known_.end()) {
            continue;
        }
        std::string expected = "one of the keys of " + what_ + ":";
        std::vector<std::string_view> names = known_;
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        for (auto name : names) {
            expected += " ";
            expected += name;
        }
        // Point at the key itself: a block value starts on a later line than its key.
        ConfigNode at = value;
        if (value.key_line > 0) {
            at.line = value.key_line;
            at.column = value.key_column;
        }
        errors_.add(at, expected, "unknown key \"" + key + "\"");
    }
}

}  // namespace edgeflow
