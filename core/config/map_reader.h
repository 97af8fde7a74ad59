// MapReader: reads the keys of one config map, checks their types and ranges, and reports
// every key it was never asked for as unknown — so a typo is an error, not a silent default.
//
// Usage: construct on a map node, call the typed getters, then finish(). Each getter leaves
// its output untouched (the default) when the key is absent and records an error when the
// value is malformed.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"

namespace edgeflow {

class MapReader {
public:
    /// `what` names the block in messages, e.g. "a source".
    MapReader(const ConfigNode& node, ConfigErrors& errors, std::string what);

    bool ok() const noexcept { return is_map_; }
    const ConfigNode& node() const noexcept { return node_; }

    /// The raw node for `key` (marking it known), or nullptr when absent.
    const ConfigNode* get(std::string_view key);

    bool required_string(std::string_view key, std::string& out, std::string expected = "text");
    void optional_string(std::string_view key, std::string& out, std::string expected = "text");
    void optional_bool(std::string_view key, bool& out);
    /// A whole number in [min, max]; `word`, when given, is also accepted and means `word_value`
    /// (e.g. `workers: auto`).
    void optional_uint(std::string_view key, std::uint64_t& out, std::uint64_t min,
                       std::uint64_t max, std::string_view word = {}, std::uint64_t word_value = 0);
    void optional_double(std::string_view key, double& out, double min, double max);
    /// A duration: a whole number with a unit (`250ms`, `10s`, `5m`, `2h`, `1d`), in
    /// milliseconds, within [min_ms, max_ms].
    void optional_duration(std::string_view key, std::int64_t& out_ms, std::int64_t min_ms,
                           std::int64_t max_ms);
    bool required_duration(std::string_view key, std::int64_t& out_ms, std::int64_t min_ms,
                           std::int64_t max_ms);
    /// A list of strings, or a single string taken as a list of one.
    void optional_string_list(std::string_view key, std::vector<std::string>& out);

    /// One of a fixed set of words, mapped to values.
    template <typename E>
    void optional_choice(std::string_view key, E& out,
                         std::initializer_list<std::pair<std::string_view, E>> choices) {
        const ConfigNode* value = get(key);
        if (value == nullptr) {
            return;
        }
        if (value->is_scalar()) {
            for (const auto& [name, e] : choices) {
                if (value->scalar == name) {
                    out = e;
                    return;
                }
            }
        }
        std::string expected = "one of";
        for (const auto& [name, e] : choices) {
            expected += " ";
            expected += name;
        }
        errors_.add(*value, expected);
    }

    /// Reports each key that no getter asked for. Call once, after the getters.
    void finish();

private:
    const ConfigNode& node_;
    ConfigErrors& errors_;
    std::string what_;
    bool is_map_ = false;
    std::vector<std::string_view> known_;
};

}  // namespace edgeflow
