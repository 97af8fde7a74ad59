// What `edgeflow test`'s comparison is made of, shared by its parts: JSON written canonically
// (object members sorted) or compactly, the differences between two JSON values as field-path
// lines, and the texts the report quotes. Single-threaded; allocates per call.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "apps/edgeflow/output_diff.h"

namespace edgeflow::app::diff {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Past this many problems an expect file is clearly not one; the rest are only counted.
inline constexpr std::size_t max_problems = 20;
// Differences listed within one message before the rest are only counted.
inline constexpr std::size_t max_differences = 5;
// Longest value or message text quoted in the report, in bytes.
inline constexpr std::size_t max_value_text = 80;
inline constexpr std::size_t max_message_text = 240;
// The edit-distance alignment costs time and memory in the square of this; past it the
// streams are compared position by position.
inline constexpr long max_alignment_edits = 400;

enum class Kind { null, boolean, integer, floating, string, array, object };

/// The array or object inside an element whose type() said so.
simdjson::dom::array items_of(element value);

simdjson::dom::object fields_of(element value);

/// Writes `value` as compact JSON; with `sorted`, object members are ordered by key (then by
/// value), which makes equal values write equal text. Integers stay integers and floats keep
/// their fraction, as the engine writes them.
void append_json(std::string& out, element value, bool sorted);

/// `text` cut to at most `max` bytes on a UTF-8 character boundary, with "…" when cut.
std::string clip(std::string text, std::size_t max);

std::string show(element value);

std::string json_text(std::string_view text);

std::string show_message(const ComparedMessage& message);

/// A member name as a segment of a field path (lang/field_path.h): plain when it can be, else
/// in double quotes. A name of digits is quoted too, since a digit segment may be an index.
void append_segment(std::string& path, std::string_view key);

Kind kind_of(element value);

double as_double(element value);

/// The differences inside one pair of messages, as "PATH: expected X, got Y" lines: the first
/// few kept, all counted.
class Differences {
public:
    void add(std::string line) {
        if (lines_.size() < max_differences) {
            lines_.push_back(std::move(line));
        }
        ++count_;
    }
    void leaf(const std::string& path, const std::string& expected, const std::string& got) {
        add(path + ": expected " + expected + ", got " + got);
    }

    void values(element expected, element got, std::string& path) {
        const Kind want = kind_of(expected);
        const Kind have = kind_of(got);
        if (want != have) {
            const bool numbers = (want == Kind::integer || want == Kind::floating) &&
                                 (have == Kind::integer || have == Kind::floating);
            if (numbers && as_double(expected) == as_double(got)) {
                const auto name = [](Kind k) {
                    return k == Kind::integer ? " (an integer)" : " (a float)";
                };
                leaf(path, show(expected) + name(want), show(got) + name(have));
            } else {
                leaf(path, show(expected), show(got));
            }
            return;
        }
        const std::size_t length = path.size();
        if (want == Kind::array) {
            const auto want_items = items_of(expected);
            const auto have_items = items_of(got);
            auto a = want_items.begin();
            auto b = have_items.begin();
            for (std::size_t i = 0; a != want_items.end() || b != have_items.end(); ++i) {
                path.append(".").append(std::to_string(i));
                if (a != want_items.end() && b != have_items.end()) {
                    values(*a, *b, path);
                } else if (a != want_items.end()) {
                    leaf(path, show(*a), "nothing");
                } else {
                    leaf(path, "nothing", show(*b));
                }
                path.resize(length);
                if (a != want_items.end()) {
                    ++a;
                }
                if (b != have_items.end()) {
                    ++b;
                }
            }
            return;
        }
        if (want == Kind::object) {
            const auto want_fields = fields_of(expected);
            const auto have_fields = fields_of(got);
            // By name, first occurrence: at_key() scans, which is quadratic in a wide object.
            std::unordered_map<std::string_view, element> want_by_name;
            std::unordered_map<std::string_view, element> have_by_name;
            for (auto field : want_fields) {
                want_by_name.emplace(field.key, field.value);
            }
            for (auto field : have_fields) {
                have_by_name.emplace(field.key, field.value);
            }
            for (auto field : want_fields) {
                append_segment(path, field.key);
                if (const auto other = have_by_name.find(field.key); other != have_by_name.end()) {
                    values(field.value, other->second, path);
                } else {
                    leaf(path, show(field.value), "nothing");
                }
                path.resize(length);
            }
            for (auto field : have_fields) {
                if (want_by_name.count(field.key) == 0) {
                    append_segment(path, field.key);
                    leaf(path, "nothing", show(field.value));
                    path.resize(length);
                }
            }
            return;
        }
        std::string a;
        std::string b;
        append_json(a, expected, false);
        append_json(b, got, false);
        if (a != b) {
            leaf(path, clip(std::move(a), max_value_text), clip(std::move(b), max_value_text));
        }
    }

    const std::vector<std::string>& lines() const noexcept { return lines_; }
    std::size_t count() const noexcept { return count_; }

private:
    std::vector<std::string> lines_;
    std::size_t count_ = 0;
};

}  // namespace edgeflow::app::diff
