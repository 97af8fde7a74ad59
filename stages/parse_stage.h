// ParseStage: raw payload bytes → Record, with simdjson On-Demand.
//
// Every live message's payload is parsed completely into its Record (all JSON types, any
// nesting up to max_depth). A payload over max_payload_bytes, or one that is not exactly one
// valid JSON value in UTF-8, is rejected with the reason and simdjson's explanation; the batch
// goes on. Each worker has its own parser, allocated (by prepare) for the largest payload, and
// a padded copy buffer for payloads whose buffer lacks simdjson's padding, so a warm worker
// parses without allocating.
#pragma once

#include <simdjson.h>

#include <memory>
#include <vector>

#include "core/stage.h"
#include "core/worker_local.h"

namespace edgeflow {

struct ParseConfig {
    std::size_t max_payload_bytes = 1 << 20;
    std::size_t max_depth = 128;
};

class ParseStage {
public:
    static constexpr std::string_view kind = "parse";
    static constexpr StageShape shape = StageShape::stateless;

    explicit ParseStage(ParseConfig config);
    void prepare(std::size_t worker_slots) { scratch_.grow(worker_slots); }
    void process(Batch& batch, StageContext& ctx) noexcept;

    /// Parses one payload into `message.record`; false (and the message rejected) on failure.
    bool parse(Message& message, unsigned worker) noexcept;

private:
    struct Scratch {
        simdjson::ondemand::parser parser;
        std::string padded;
    };
    ParseConfig config_;
    WorkerLocal<Scratch> scratch_;
};

static_assert(Stage<ParseStage>);

}  // namespace edgeflow
