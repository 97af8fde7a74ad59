// Driving the stateful stages (order, lkv, heuristics) without a graph: messages built from JSON
// text with their partition key, key hash, event time and processing clock set as the partition
// and order stages would, run one batch at a time through a section with
// run_sharded_section(), and what the shards emitted copied out of the batch.
//
// Header-only; single-threaded (the shards of a section run one after another).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stages/keyed/partition_stage.h"

#include "core/batch.h"
#include "core/config/yaml_loader.h"
#include "core/graph/flow_graph.h"
#include "core/json_writer.h"
#include "core/message.h"
#include "core/stage.h"
#include "lang/transform/dataset.h"

namespace edgeflow::test {

/// Parses YAML text into a node, failing the test when it does not parse.
inline ConfigNode yaml(std::string_view text) {
    ConfigErrors errors("test.yaml");
    auto node = load_yaml_text(std::string(text), errors);
    EXPECT_TRUE(node.has_value()) << errors.to_string();
    return node ? *node : ConfigNode{};
}

/// A record parsed from a JSON object, failing the test when it does not parse.
inline Record record_of(std::string_view json) {
    Record r;
    const Status s = transform::parse_json_object(json, r);
    EXPECT_TRUE(s.is_ok()) << s.message() << ": " << json;
    return r;
}

/// The record as compact JSON text.
inline std::string json_of(const Record& record) {
    std::string out;
    json::append_record(out, record);
    return out;
}

/// The first key `<prefix><n>` (n = 0, 1, ...) whose hash falls on `shard` of `shards`.
inline std::string key_on_shard(std::string_view prefix, unsigned shard, unsigned shards) {
    for (int n = 0;; ++n) {
        std::string key = std::string(prefix) + std::to_string(n);
        if (key_hash(key) % shards == shard) {
            return key;
        }
    }
}

/// What a stage emitted, copied out of its batch.
struct Emitted {
    Record record;
    std::string topic;
    std::string output_topic;
    std::string key;
    std::int32_t target = 0;
    std::uint32_t trigger = 0;
    std::int64_t event_time_ms = 0;

    ValueRef operator[](std::string_view member) const { return record.root().member(member); }
    ValueRef values(std::string_view member) const { return (*this)["values"].member(member); }
    std::string text(std::string_view member) const {
        const ValueRef v = (*this)[member];
        return v.valid() && v.type() == ValueType::string ? std::string(v.as_string())
                                                          : std::string("<not a string>");
    }
};

/// Runs batches through one section of sharded stages.
class SectionRun {
public:
    SectionRun(std::vector<AnyStage*> section, unsigned shards, std::size_t destinations = 4,
               std::size_t emit_per_shard = 256)
        : section_(std::move(section)),
          shards_(shards),
          destinations_(destinations),
          emit_per_shard_(emit_per_shard) {}

    /// Queues a message for the next batch; its clock is the batch's unless given.
    Message& add(std::string_view topic, std::string_view json, std::string_view key,
                 std::int64_t event_ms, std::int64_t clock_ms = no_clock) {
        auto m = std::make_unique<Message>();
        m->topic.assign(topic);
        m->payload.assign(json);
        m->record = record_of(json);
        m->key.assign(key);
        m->key_hash = key_hash(key);
        m->event_time_ms = event_ms;
        m->clock_ms = clock_ms;
        m->destination_topics.resize(destinations_);
        pending_.push_back(m.get());
        messages_.push_back(std::move(m));
        return *messages_.back();
    }

    /// Runs the queued messages as one batch at processing time `clock_ms` (an empty batch when
    /// none are queued) and returns what was emitted, in batch order.
    std::vector<Emitted> run(std::int64_t clock_ms) {
        Batch batch(std::max<std::size_t>(1, pending_.size()), destinations_, shards_,
                    emit_per_shard_);
        batch.clock_ms = clock_ms;
        for (Message* m : pending_) {
            if (m->clock_ms == no_clock) {
                m->clock_ms = clock_ms;
            }
            batch.push(m);
        }
        last_ = pending_;
        pending_.clear();
        run_sharded_section(section_, batch, 0, shards_);
        std::vector<Emitted> out;
        for (std::size_t i = last_.size(); i < batch.size(); ++i) {
            const Message& e = batch[i];
            EXPECT_TRUE(e.emitted);
            out.push_back(
                {e.record, e.topic, e.output_topic, e.key, e.target, e.trigger, e.event_time_ms});
        }
        EXPECT_EQ(batch.size(), last_.size() + batch.emitted_count());
        return out;
    }

    /// The messages of the last batch, in order.
    const std::vector<Message*>& last() const noexcept { return last_; }

    static constexpr std::int64_t no_clock = INT64_MIN;

private:
    std::vector<AnyStage*> section_;
    unsigned shards_;
    std::size_t destinations_;
    std::size_t emit_per_shard_;
    std::deque<std::unique_ptr<Message>> messages_;
    std::vector<Message*> pending_;
    std::vector<Message*> last_;
};

}  // namespace edgeflow::test
