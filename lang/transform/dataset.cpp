#include "lang/transform/dataset.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace edgeflow::transform {

bool append_key(std::string& out, const expr::Value& value) {
    using expr::Kind;
    switch (value.kind) {
        case Kind::null:
            out.push_back('z');
            return true;
        case Kind::boolean:
            out.push_back(value.boolean ? 'T' : 'F');
            return true;
        case Kind::integer: {
            out.push_back('n');
            char buffer[24];
            const auto r = std::to_chars(buffer, buffer + sizeof buffer, value.integer);
            out.append(buffer, r.ptr);
            out.push_back(';');
            return true;
        }
        case Kind::floating: {
            // An integral float keys like the int it equals, so 7 and 7.0 find each other.
            const double d = value.floating;
            if (std::trunc(d) == d && std::fabs(d) < 9.0e15) {
                expr::Value as_int = expr::Value::of_int(static_cast<std::int64_t>(d));
                return append_key(out, as_int);
            }
            out.push_back('f');
            char bytes[sizeof d];
            std::memcpy(bytes, &d, sizeof d);
            out.append(bytes, sizeof d);
            return true;
        }
        case Kind::string: {
            out.push_back('s');
            char buffer[24];
            const auto r = std::to_chars(buffer, buffer + sizeof buffer, value.text.size());
            out.append(buffer, r.ptr);
            out.push_back(':');
            out.append(value.text);
            return true;
        }
        default:
            return false;
    }
}

Dataset::Dataset(std::string name, std::size_t max_records)
    : name_(std::move(name)), max_records_(max_records) {}

std::size_t Dataset::add_index(std::vector<RulePath> fields) {
    index_fields_.push_back(std::move(fields));
    return index_fields_.size() - 1;
}

namespace {

void append_element(Record& out, std::string_view key, simdjson::dom::element e) {
    using simdjson::dom::element_type;
    switch (e.type()) {
        case element_type::OBJECT: {
            const auto index = out.open_object(key);
            simdjson::dom::object object;
            if (e.get_object().get(object) != simdjson::SUCCESS) {
                return;
            }
            for (auto field : object) {
                append_element(out, field.key, field.value);
            }
            out.close(index);
            return;
        }
        case element_type::ARRAY: {
            const auto index = out.open_array(key);
            simdjson::dom::array array;
            if (e.get_array().get(array) != simdjson::SUCCESS) {
                return;
            }
            for (auto item : array) {
                append_element(out, {}, item);
            }
            out.close(index);
            return;
        }
        case element_type::INT64:
            out.add_int64(key, std::int64_t(e));
            return;
        case element_type::UINT64:
            out.add_uint64(key, std::uint64_t(e));
            return;
        case element_type::DOUBLE:
            out.add_double(key, double(e));
            return;
        case element_type::STRING:
            out.add_string(key, std::string_view(e));
            return;
        case element_type::BOOL:
            out.add_bool(key, bool(e));
            return;
        case element_type::NULL_VALUE:
            out.add_null(key);
            return;
    }
}

}  // namespace

Status parse_json_object(std::string_view text, Record& out) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto error = parser.parse(text.data(), text.size()).get(doc); error) {
        return Status::error(simdjson::error_message(error));
    }
    if (!doc.is_object()) {
        return Status::error("not a JSON object");
    }
    out.clear();
    append_element(out, {}, doc);
    return Status::ok();
}

Status Dataset::load(std::string_view text) {
    auto next = std::make_shared<Snapshot>();
    simdjson::dom::parser parser;
    const auto add = [&](simdjson::dom::element e, std::size_t line) -> Status {
        if (!e.is_object()) {
            return Status::error("dataset '" + name_ + "' line " + std::to_string(line) +
                                 ": a record must be a JSON object");
        }
        if (next->records.size() >= max_records_) {
            return Status::error("dataset '" + name_ + "' has more than " +
                                 std::to_string(max_records_) + " records (max_records)");
        }
        next->records.emplace_back();
        append_element(next->records.back(), {}, e);
        return Status::ok();
    };
    std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '[') {
        simdjson::dom::element doc;
        if (auto error = parser.parse(text.data(), text.size()).get(doc); error) {
            return Status::error("dataset '" + name_ + "': " + simdjson::error_message(error));
        }
        simdjson::dom::array items;
        if (doc.get_array().get(items) != simdjson::SUCCESS) {
            return Status::error("dataset '" + name_ + "': not an array");
        }
        for (auto item : items) {
            if (Status s = add(item, 1); !s) {
                return s;
            }
        }
    } else {
        std::size_t line_number = 0;
        std::size_t pos = 0;
        while (pos <= text.size()) {
            const auto end = std::min(text.find('\n', pos), text.size());
            std::string_view line = text.substr(pos, end - pos);
            ++line_number;
            pos = end + 1;
            const auto start = line.find_first_not_of(" \t\r");
            if (start == std::string_view::npos || line[start] == '#') {
                if (end == text.size()) {
                    break;
                }
                continue;
            }
            simdjson::dom::element doc;
            if (auto error = parser.parse(line.data(), line.size()).get(doc); error) {
                return Status::error("dataset '" + name_ + "' line " + std::to_string(line_number) +
                                     ": " + simdjson::error_message(error));
            }
            if (Status s = add(doc, line_number); !s) {
                return s;
            }
            if (end == text.size()) {
                break;
            }
        }
    }
    next->indexes.resize(index_fields_.size());
    for (std::size_t i = 0; i < index_fields_.size(); ++i) {
        auto& index = next->indexes[i];
        for (std::uint32_t r = 0; r < next->records.size(); ++r) {
            std::string key;
            bool complete = true;
            for (const RulePath& field : index_fields_[i]) {
                const expr::Value v = expr::Value::from(field.resolve(next->records[r].root()));
                complete = complete && append_key(key, v);
            }
            if (complete) {
                index.try_emplace(std::move(key), r);  // the first record with a key wins
            }
        }
    }
    std::lock_guard lock(mutex_);
    next->version = version_.load(std::memory_order_relaxed) + 1;
    current_ = std::move(next);
    version_.store(current_->version, std::memory_order_release);
    return Status::ok();
}

Status Dataset::load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::error("cannot read dataset file '" + path + "': " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load(text.str());
}

std::shared_ptr<const Dataset::Snapshot> Dataset::snapshot() const {
    std::lock_guard lock(mutex_);
    return current_;
}

std::size_t Dataset::record_count() const {
    auto s = snapshot();
    return s ? s->records.size() : 0;
}

}  // namespace edgeflow::transform
