#include "stages/parse_stage.h"

#include "core/padded_json.h"

namespace edgeflow {
namespace {

using simdjson::error_code;
namespace od = simdjson::ondemand;

error_code add_number(od::number number, std::string_view key, Record& record) {
    switch (number.get_number_type()) {
        case od::number_type::signed_integer:
            record.add_int64(key, number.get_int64());
            break;
        case od::number_type::unsigned_integer:
            record.add_uint64(key, number.get_uint64());
            break;
        case od::number_type::floating_point_number:
            record.add_double(key, number.get_double());
            break;
    }
    return simdjson::SUCCESS;
}

// On-Demand does not bound nesting while the document is walked, and the walk below recurses
// once per level: depth is counted here so a deeply nested payload is rejected, not a crash.
struct Walk {
    Record& record;
    std::size_t max_depth;
    std::size_t depth = 0;
};

template <typename V>  // od::value or od::document: the same calls, not a common base
error_code add_value(V& value, std::string_view key, Walk& walk);

error_code add_object(od::object object, std::string_view key, Walk& walk) {
    Record& record = walk.record;
    const auto index = record.open_object(key);
    for (auto field : object) {
        std::string_view name;
        if (auto error = field.unescaped_key().get(name)) {
            return error;
        }
        od::value child;
        if (auto error = field.value().get(child)) {
            return error;
        }
        if (auto error = add_value(child, name, walk)) {
            return error;
        }
    }
    record.close(index);
    return simdjson::SUCCESS;
}

error_code add_array(od::array array, std::string_view key, Walk& walk) {
    Record& record = walk.record;
    const auto index = record.open_array(key);
    for (auto element : array) {
        od::value child;
        if (auto error = element.get(child)) {
            return error;
        }
        if (auto error = add_value(child, {}, walk)) {
            return error;
        }
    }
    record.close(index);
    return simdjson::SUCCESS;
}

template <typename V>
error_code add_value(V& value, std::string_view key, Walk& walk) {
    Record& record = walk.record;
    od::json_type type;
    if (auto error = value.type().get(type)) {
        return error;
    }
    switch (type) {
        case od::json_type::object:
        case od::json_type::array: {
            if (walk.depth >= walk.max_depth) {
                return simdjson::DEPTH_ERROR;
            }
            ++walk.depth;
            error_code error = simdjson::SUCCESS;
            if (type == od::json_type::object) {
                od::object object;
                error = value.get_object().get(object);
                if (!error) {
                    error = add_object(object, key, walk);
                }
            } else {
                od::array array;
                error = value.get_array().get(array);
                if (!error) {
                    error = add_array(array, key, walk);
                }
            }
            --walk.depth;
            return error;
        }
        case od::json_type::number: {
            od::number number;
            auto error = value.get_number().get(number);
            if (error == simdjson::NUMBER_ERROR) {
                // Integers beyond 64 bits keep their magnitude as a double.
                double approx = 0;
                if (value.get_double().get(approx) != simdjson::SUCCESS) {
                    return error;
                }
                record.add_double(key, approx);
                return simdjson::SUCCESS;
            }
            if (error) {
                return error;
            }
            return add_number(number, key, record);
        }
        case od::json_type::string: {
            std::string_view text;
            if (auto error = value.get_string().get(text)) {
                return error;
            }
            record.add_string(key, text);
            return simdjson::SUCCESS;
        }
        case od::json_type::boolean: {
            bool flag = false;
            if (auto error = value.get_bool().get(flag)) {
                return error;
            }
            record.add_bool(key, flag);
            return simdjson::SUCCESS;
        }
        case od::json_type::null: {
            bool is_null = false;
            if (auto error = value.is_null().get(is_null)) {
                return error;
            }
            if (!is_null) {
                return simdjson::N_ATOM_ERROR;
            }
            record.add_null(key);
            return simdjson::SUCCESS;
        }
    }
    return simdjson::INCORRECT_TYPE;
}

}  // namespace

ParseStage::ParseStage(ParseConfig config)
    : config_(config), scratch_([config](Scratch& scratch) {
          scratch.parser = od::parser(config.max_payload_bytes);
          // The parser counts the document itself as a level: one more than our containers,
          // so max_depth nested containers stay inside its bookkeeping (it does not check).
          if (scratch.parser.allocate(config.max_payload_bytes, config.max_depth + 1) !=
              simdjson::SUCCESS) {
              // Allocation failure at start-up: the stage would reject everything; fail loudly.
              std::abort();
          }
          scratch.padded.reserve(config.max_payload_bytes + simdjson::SIMDJSON_PADDING);
      }) {}

bool ParseStage::parse(Message& message, unsigned worker) noexcept {
    Scratch& scratch = scratch_[worker];
    message.record.clear();
    const std::string& payload = message.payload;
    if (payload.size() > config_.max_payload_bytes) {
        message.reject(DeadLetterReason::payload_too_large, kind,
                       "payload is larger than runtime.max_payload_bytes");
        return false;
    }
    // Parse in place when the buffer has simdjson's padding; otherwise copy to scratch.
    const char* data = payload.data();
    std::size_t capacity = payload.capacity();
    if (capacity - payload.size() < simdjson::SIMDJSON_PADDING) {
        scratch.padded.assign(payload);
        data = scratch.padded.data();
        capacity = scratch.padded.capacity();
    }
    od::document doc;
    auto error = scratch.parser.iterate(data, payload.size(), capacity).get(doc);
    if (!error) {
        Walk walk{message.record, config_.max_depth};
        error = add_value(doc, {}, walk);
    }
    if (!error && !document_at_end(doc)) {
        error = simdjson::TRAILING_CONTENT;
    }
    if (error) {
        message.record.clear();
        message.reject(DeadLetterReason::invalid_json, kind, simdjson::error_message(error));
        return false;
    }
    return true;
}

void ParseStage::process(Batch& batch, StageContext& ctx) noexcept {
    for_each_live(batch, ctx, [&](Message& message) {
        return parse(message, ctx.worker) ? Outcome::kept : Outcome::rejected;
    });
}

}  // namespace edgeflow
