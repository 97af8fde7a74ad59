#include "apps/edgeflow/output_diff.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <unordered_map>

#include "core/json_writer.h"

namespace edgeflow::app {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Past this many problems an expect file is clearly not one; the rest are only counted.
constexpr std::size_t max_problems = 20;
// Differences listed within one message before the rest are only counted.
constexpr std::size_t max_differences = 5;
// Longest value or message text quoted in the report, in bytes.
constexpr std::size_t max_value_text = 80;
constexpr std::size_t max_message_text = 240;
// The edit-distance alignment costs time and memory in the square of this; past it the
// streams are compared position by position.
constexpr long max_alignment_edits = 400;

/// The array or object inside an element whose type() said so.
simdjson::dom::array items_of(element value) {
    simdjson::dom::array items;
    if (value.get_array().get(items) != simdjson::SUCCESS) {
        return {};
    }
    return items;
}
simdjson::dom::object fields_of(element value) {
    simdjson::dom::object fields;
    if (value.get_object().get(fields) != simdjson::SUCCESS) {
        return {};
    }
    return fields;
}

/// Writes `value` as compact JSON; with `sorted`, object members are ordered by key (then by
/// value), which makes equal values write equal text. Integers stay integers and floats keep
/// their fraction, as the engine writes them.
void append_json(std::string& out, element value, bool sorted) {
    switch (value.type()) {
        case element_type::ARRAY: {
            out.push_back('[');
            bool first = true;
            for (element item : items_of(value)) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_json(out, item, sorted);
            }
            out.push_back(']');
            break;
        }
        case element_type::OBJECT: {
            out.push_back('{');
            if (!sorted) {
                bool first = true;
                for (auto field : fields_of(value)) {
                    if (!first) {
                        out.push_back(',');
                    }
                    first = false;
                    json::append_string(out, field.key);
                    out.push_back(':');
                    append_json(out, field.value, sorted);
                }
            } else {
                std::vector<std::pair<std::string, std::string>> members;
                for (auto field : fields_of(value)) {
                    auto& member = members.emplace_back();
                    json::append_string(member.first, field.key);
                    append_json(member.second, field.value, sorted);
                }
                std::sort(members.begin(), members.end());
                for (std::size_t i = 0; i < members.size(); ++i) {
                    if (i > 0) {
                        out.push_back(',');
                    }
                    out.append(members[i].first).push_back(':');
                    out.append(members[i].second);
                }
            }
            out.push_back('}');
            break;
        }
        case element_type::INT64:
            json::append_int(out, value.get_int64().value_unsafe());
            break;
        case element_type::UINT64:
            json::append_uint(out, value.get_uint64().value_unsafe());
            break;
        case element_type::DOUBLE:
            json::append_double(out, value.get_double().value_unsafe());
            break;
        case element_type::STRING:
            json::append_string(out, value.get_string().value_unsafe());
            break;
        case element_type::BOOL:
            out.append(value.get_bool().value_unsafe() ? "true" : "false");
            break;
        case element_type::NULL_VALUE:
            out.append("null");
            break;
    }
}

/// `text` cut to at most `max` bytes on a UTF-8 character boundary, with "…" when cut.
std::string clip(std::string text, std::size_t max) {
    if (text.size() <= max) {
        return text;
    }
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    text.resize(end);
    text.append("…");
    return text;
}

std::string show(element value) {
    std::string text;
    append_json(text, value, false);
    return clip(std::move(text), max_value_text);
}

std::string json_text(std::string_view text) {
    std::string out;
    json::append_string(out, text);
    return clip(std::move(out), max_value_text);
}

std::string show_message(const ComparedMessage& message) {
    std::string out = "{\"topic\":";
    json::append_string(out, message.topic);
    out.append(",\"payload\":").append(message.payload);
    json::append_properties_member(out, message.properties.size(), [&](std::size_t i) {
        return std::pair<std::string_view, std::string_view>(message.properties[i].first,
                                                             message.properties[i].second);
    });
    out.push_back('}');
    return clip(std::move(out), max_message_text);
}

/// A member name as a segment of a field path (lang/field_path.h): plain when it can be, else
/// in double quotes. A name of digits is quoted too, since a digit segment may be an index.
void append_segment(std::string& path, std::string_view key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    }) && !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    path.push_back('.');
    if (plain) {
        path.append(key);
    } else {
        json::append_string(path, key);
    }
}

enum class Kind { null, boolean, integer, floating, string, array, object };

Kind kind_of(element value) {
    switch (value.type()) {
        case element_type::ARRAY:
            return Kind::array;
        case element_type::OBJECT:
            return Kind::object;
        case element_type::INT64:
        case element_type::UINT64:
            return Kind::integer;
        case element_type::DOUBLE:
            return Kind::floating;
        case element_type::STRING:
            return Kind::string;
        case element_type::BOOL:
            return Kind::boolean;
        case element_type::NULL_VALUE:
            break;
    }
    return Kind::null;
}

double as_double(element value) {
    switch (value.type()) {
        case element_type::INT64:
            return static_cast<double>(value.get_int64().value_unsafe());
        case element_type::UINT64:
            return static_cast<double>(value.get_uint64().value_unsafe());
        default:
            return value.get_double().value_unsafe();
    }
}

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

enum class Step : std::uint8_t { same, missing, unexpected };

/// Myers' O((N+M)D) diff of expected[a0, a0+n) against received[b0, b0+m): the shortest edit
/// script as steps, or nullopt when it needs more than max_alignment_edits edits.
std::optional<std::vector<Step>> shortest_edits(const std::vector<ComparedMessage>& expected,
                                                std::size_t a0, long n,
                                                const std::vector<ComparedMessage>& received,
                                                std::size_t b0, long m) {
    const auto equal = [&](long x, long y) {
        return expected[a0 + static_cast<std::size_t>(x)].same_as(
            received[b0 + static_cast<std::size_t>(y)]);
    };
    const long limit = std::min(n + m, max_alignment_edits);
    const long offset = limit + 1;
    std::vector<long> v(static_cast<std::size_t>(2 * limit + 3), 0);
    const auto at = [&](std::vector<long>& row, long k) -> long& {
        return row[static_cast<std::size_t>(offset + k)];
    };
    std::vector<std::vector<long>> trace;
    long found = -1;
    for (long d = 0; d <= limit && found < 0; ++d) {
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && at(v, k - 1) < at(v, k + 1))) ? at(v, k + 1)
                                                                          : at(v, k - 1) + 1;
            long y = x - k;
            while (x < n && y < m && equal(x, y)) {
                ++x;
                ++y;
            }
            at(v, k) = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
        trace.push_back(v);
    }
    if (found < 0) {
        return std::nullopt;
    }
    std::vector<Step> steps;
    long x = n;
    long y = m;
    for (long d = found; d > 0; --d) {
        auto& row = trace[static_cast<std::size_t>(d - 1)];
        const long k = x - y;
        const long prev_k =
            (k == -d || (k != d && at(row, k - 1) < at(row, k + 1))) ? k + 1 : k - 1;
        const long prev_x = at(row, prev_k);
        const long prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) {
            steps.push_back(Step::same);
            --x;
            --y;
        }
        steps.push_back(prev_k == k + 1 ? Step::unexpected : Step::missing);
        x = prev_x;
        y = prev_y;
    }
    while (x > 0 && y > 0) {
        steps.push_back(Step::same);
        --x;
        --y;
    }
    std::reverse(steps.begin(), steps.end());
    return steps;
}

/// How the received stream lines up with the expected one.
std::vector<Step> align(const std::vector<ComparedMessage>& expected,
                        const std::vector<ComparedMessage>& received) {
    std::size_t prefix = 0;
    while (prefix < expected.size() && prefix < received.size() &&
           expected[prefix].same_as(received[prefix])) {
        ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix < expected.size() - prefix && suffix < received.size() - prefix &&
           expected[expected.size() - 1 - suffix].same_as(received[received.size() - 1 - suffix])) {
        ++suffix;
    }
    const std::size_t n = expected.size() - prefix - suffix;
    const std::size_t m = received.size() - prefix - suffix;
    std::vector<Step> steps(prefix, Step::same);
    auto middle = shortest_edits(expected, prefix, static_cast<long>(n), received, prefix,
                                 static_cast<long>(m));
    if (middle) {
        steps.insert(steps.end(), middle->begin(), middle->end());
    } else {
        for (std::size_t i = 0; i < std::min(n, m); ++i) {
            if (expected[prefix + i].same_as(received[prefix + i])) {
                steps.push_back(Step::same);
            } else {
                steps.push_back(Step::missing);
                steps.push_back(Step::unexpected);
            }
        }
        steps.insert(steps.end(), n - std::min(n, m), Step::missing);
        steps.insert(steps.end(), m - std::min(n, m), Step::unexpected);
    }
    steps.insert(steps.end(), suffix, Step::same);
    return steps;
}

class Report {
public:
    Report(std::string& out, std::size_t max_reported) : out_(out), max_reported_(max_reported) {}

    void changed(const std::string& destination, std::size_t index, const ComparedMessage& want,
                 const ComparedMessage& got) {
        if (!room()) {
            return;
        }
        Differences differences;
        if (want.topic != got.topic) {
            differences.leaf("topic", json_text(want.topic), json_text(got.topic));
        }
        std::vector<std::pair<std::string, std::string>> only;
        std::set_difference(want.properties.begin(), want.properties.end(), got.properties.begin(),
                            got.properties.end(), std::back_inserter(only));
        for (const auto& [key, value] : only) {
            differences.add("properties: missing " + json_text(key) + ":" + json_text(value));
        }
        only.clear();
        std::set_difference(got.properties.begin(), got.properties.end(), want.properties.begin(),
                            want.properties.end(), std::back_inserter(only));
        for (const auto& [key, value] : only) {
            differences.add("properties: unexpected " + json_text(key) + ":" + json_text(value));
        }
        element a;
        element b;
        const std::size_t before = differences.count();
        if (want_parser_.parse(want.payload).get(a) == simdjson::SUCCESS &&
            got_parser_.parse(got.payload).get(b) == simdjson::SUCCESS) {
            std::string path = "payload";
            differences.values(a, b, path);
        }
        if (differences.count() == before && want.payload != got.payload) {
            // Equal by field, unequal as a whole: repeated member names, say.
            differences.leaf("payload", clip(want.payload, max_value_text),
                             clip(got.payload, max_value_text));
        }
        const std::string prefix = "destination " + destination + ", message " +
                                   std::to_string(index + 1) + " (input line " +
                                   std::to_string(got.line) + "): ";
        for (const auto& line : differences.lines()) {
            out_.append(prefix).append(line).push_back('\n');
        }
        if (differences.count() > differences.lines().size()) {
            out_.append(prefix).append(
                "… and " + std::to_string(differences.count() - differences.lines().size()) +
                " more difference(s)\n");
        }
    }

    void missing(const std::string& destination, std::size_t index, const ComparedMessage& want) {
        if (room()) {
            out_.append("destination " + destination + ", message " + std::to_string(index + 1) +
                        " (expect line " + std::to_string(want.line) +
                        "): missing from the output: " + show_message(want) + "\n");
        }
    }

    void unexpected(const std::string& destination, const ComparedMessage& got) {
        if (room()) {
            out_.append("destination " + destination + ", unexpected message (input line " +
                        std::to_string(got.line) + "): " + show_message(got) + "\n");
        }
    }

    void unexpected_not_kept(const std::string& destination, std::uint64_t count) {
        if (room()) {
            out_.append("destination " + destination + ": … and " + std::to_string(count) +
                        " more unexpected message(s), not kept\n");
        }
    }

    void finish() {
        if (not_shown_ > 0) {
            out_.append("… and " + std::to_string(not_shown_) +
                        " more differing message(s) not shown\n");
        }
    }

private:
    bool room() {
        if (shown_ < max_reported_) {
            ++shown_;
            return true;
        }
        ++not_shown_;
        return false;
    }

    std::string& out_;
    std::size_t max_reported_;
    std::size_t shown_ = 0;
    std::uint64_t not_shown_ = 0;
    simdjson::dom::parser want_parser_;
    simdjson::dom::parser got_parser_;
};

std::string plural(std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

bool MessageCanonicalizer::canonicalize(ComparedMessage& message) {
    element root;
    if (parser_.parse(message.payload).get(root) != simdjson::SUCCESS) {
        return false;
    }
    std::string compact;
    append_json(compact, root, false);
    message.canonical.clear();
    json::append_string(message.canonical, message.topic);
    message.canonical.push_back('\n');
    for (const auto& [key, value] : message.properties) {
        json::append_string(message.canonical, key);
        message.canonical.push_back(':');
        json::append_string(message.canonical, value);
        message.canonical.push_back(',');
    }
    message.canonical.push_back('\n');
    append_json(message.canonical, root, true);
    message.hash = std::hash<std::string>{}(message.canonical);
    message.payload = std::move(compact);
    return true;
}

Result<std::vector<std::vector<ComparedMessage>>> read_expectations(const std::string& path,
                                                                    const ExpectTargets& targets) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::error("cannot open '" + path + "': " + std::strerror(errno));
    }
    const auto names = [&](bool outputs_only) {
        std::string list;
        for (std::size_t i = 0; i < targets.destinations.size(); ++i) {
            if (!outputs_only || !targets.dead_letter[i]) {
                list += (list.empty() ? "" : ", ") + targets.destinations[i];
            }
        }
        return list;
    };
    std::vector<std::vector<ComparedMessage>> expected(targets.destinations.size());
    simdjson::dom::parser parser;
    MessageCanonicalizer canonicalizer;
    std::string problems;
    std::size_t problem_count = 0;
    std::size_t line_number = 0;
    const auto problem = [&](const std::string& what) {
        if (problem_count < max_problems) {
            problems += path + ":" + std::to_string(line_number) + ": " + what + "\n";
        }
        ++problem_count;
    };
    for (std::string line; std::getline(in, line);) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find_first_not_of(" \t") == std::string::npos) {
            continue;
        }
        element document;
        simdjson::dom::object object;
        if (parser.parse(line).get(document) != simdjson::SUCCESS ||
            document.get_object().get(object) != simdjson::SUCCESS) {
            problem(
                "expected one JSON object per line: {\"topic\": ..., \"payload\": ..., "
                "\"properties\": {...}, \"destination\": ...}");
            continue;
        }
        ComparedMessage message;
        message.line = line_number;
        bool have_topic = false;
        bool have_payload = false;
        bool ok = true;
        std::optional<std::string> destination;
        for (auto field : object) {
            const std::string_view key = field.key;
            std::string_view text;
            if (key == "topic") {
                if (field.value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
                    problem("\"topic\" must be a non-empty string");
                    ok = false;
                }
                message.topic.assign(text);
                have_topic = true;
            } else if (key == "payload") {
                append_json(message.payload, field.value, false);
                have_payload = true;
            } else if (key == "payload_base64") {
                problem(
                    "\"payload_base64\" cannot match: destinations receive JSON, so write the "
                    "expected body as \"payload\"");
                ok = false;
                have_payload = true;  // reported: "no payload" would say it again
            } else if (key == "properties") {
                simdjson::dom::object properties;
                if (field.value.get_object().get(properties) != simdjson::SUCCESS) {
                    problem("\"properties\" must be an object of strings");
                    ok = false;
                    continue;
                }
                for (auto property : properties) {
                    if (property.value.get_string().get(text) != simdjson::SUCCESS) {
                        problem("property values must be strings");
                        ok = false;
                        break;
                    }
                    message.properties.emplace_back(std::string(property.key), std::string(text));
                }
            } else if (key == "destination") {
                if (field.value.get_string().get(text) != simdjson::SUCCESS) {
                    problem("\"destination\" must be a destination name");
                    ok = false;
                    continue;
                }
                destination.emplace(text);
            } else {
                problem("unknown key \"" + std::string(key) +
                        "\": expected topic, payload, properties and destination");
                ok = false;
            }
        }
        if (!have_topic) {
            problem("no \"topic\"");
        }
        if (!have_payload) {
            problem("no \"payload\"");
        }
        if (!ok || !have_topic || !have_payload) {
            continue;
        }
        std::size_t index = 0;
        if (destination) {
            const auto at =
                std::find(targets.destinations.begin(), targets.destinations.end(), *destination);
            if (at == targets.destinations.end()) {
                problem("the pipeline has no destination \"" + *destination +
                        "\" (it has: " + names(false) + ")");
                continue;
            }
            index = static_cast<std::size_t>(at - targets.destinations.begin());
            if (targets.only && index != *targets.only) {
                problem("names destination \"" + *destination + "\", but --destination chose \"" +
                        targets.destinations[*targets.only] + "\"");
                continue;
            }
        } else if (targets.default_destination) {
            index = *targets.default_destination;
        } else {
            problem("no \"destination\": the pipeline has several destinations (" + names(true) +
                    "), so each line must name the one it expects, or use --destination");
            continue;
        }
        std::sort(message.properties.begin(), message.properties.end());
        canonicalizer.canonicalize(message);
        expected[index].push_back(std::move(message));
    }
    if (in.bad()) {
        return Status::error("cannot read '" + path + "': " + std::strerror(errno));
    }
    if (problem_count > 0) {
        if (problem_count > max_problems) {
            problems += path + ": … and " + std::to_string(problem_count - max_problems) +
                        " more problem(s)\n";
        }
        problems.pop_back();
        return Status::error(std::move(problems));
    }
    return expected;
}

DiffTotals compare_outputs(const std::vector<DestinationOutputs>& destinations,
                           std::size_t max_reported, std::string& report) {
    DiffTotals totals;
    Report out(report, max_reported);
    for (const auto& destination : destinations) {
        const auto& expected = destination.expected;
        const auto& received = destination.received;
        totals.expected += expected.size();
        const auto steps = align(expected, received);
        std::size_t i = 0;
        std::size_t j = 0;
        for (std::size_t s = 0; s < steps.size();) {
            if (steps[s] == Step::same) {
                ++totals.matched;
                ++i;
                ++j;
                ++s;
                continue;
            }
            // One run of edits: pair what is missing with what came instead, in order; what is
            // left over was dropped or added.
            std::vector<std::size_t> gone;
            std::vector<std::size_t> added;
            for (; s < steps.size() && steps[s] != Step::same; ++s) {
                if (steps[s] == Step::missing) {
                    gone.push_back(i++);
                } else {
                    added.push_back(j++);
                }
            }
            const std::size_t pairs = std::min(gone.size(), added.size());
            for (std::size_t p = 0; p < pairs; ++p) {
                out.changed(destination.name, gone[p], expected[gone[p]], received[added[p]]);
            }
            for (std::size_t p = pairs; p < gone.size(); ++p) {
                out.missing(destination.name, gone[p], expected[gone[p]]);
            }
            for (std::size_t p = pairs; p < added.size(); ++p) {
                out.unexpected(destination.name, received[added[p]]);
            }
            totals.differing += pairs;
            totals.missing += gone.size() - pairs;
            totals.unexpected += added.size() - pairs;
        }
        if (destination.received_not_kept > 0) {
            out.unexpected_not_kept(destination.name, destination.received_not_kept);
            totals.unexpected += destination.received_not_kept;
        }
    }
    out.finish();
    report += std::to_string(totals.matched) + " of " + std::to_string(totals.expected) +
              " messages match";
    std::string details;
    const auto add = [&](std::uint64_t n, const std::string& text) {
        if (n > 0) {
            details += (details.empty() ? "" : ", ") + text;
        }
    };
    add(totals.differing, plural(totals.differing, "differs", "differ"));
    add(totals.missing, std::to_string(totals.missing) + " missing");
    add(totals.unexpected, std::to_string(totals.unexpected) + " unexpected");
    if (!details.empty()) {
        report += "; " + details;
    }
    report += "\n";
    return totals;
}

}  // namespace edgeflow::app
