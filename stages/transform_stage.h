// TransformStage: runs one compiled Transform (datasets → filter → map) over every live message.
//
// A transform without `? $last` is stateless: one instance shared by all workers, each with its
// own TransformScratch. A transform that remembers last values per key is keyed: the graph runs
// it serially, in dispatch order, so each key's values follow its messages in arrival order.
// Filtered messages are counted as dropped; messages a rule fails on are rejected (dead letter)
// or dropped as the transform's on_error says.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/stage.h"
#include "lang/transform/transform.h"

namespace edgeflow {

template <StageShape Shape>
class BasicTransformStage {
public:
    static constexpr std::string_view kind = "transform";
    static constexpr StageShape shape = Shape;

    BasicTransformStage(std::shared_ptr<transform::Transform> transform, std::size_t worker_slots)
        : transform_(std::move(transform)) {
        for (std::size_t i = 0; i < worker_slots; ++i) {
            scratch_.push_back(std::make_unique<Scratch>());
        }
    }

    void process(Batch& batch, StageContext& ctx) noexcept {
        std::uint64_t in = 0;
        std::uint64_t kept = 0;
        std::uint64_t rejected = 0;
        std::uint64_t dropped = 0;
        auto& scratch = scratch_[ctx.worker]->state;
        for (Message* message : batch) {
            if (!message->live()) {
                continue;
            }
            ++in;
            switch (transform_->apply(*message, scratch)) {
                case transform::Outcome::kept:
                    ++kept;
                    break;
                case transform::Outcome::dropped:
                    ++dropped;
                    break;
                case transform::Outcome::rejected:
                    ++rejected;
                    break;
            }
        }
        ctx.counters.add(in, kept, rejected, dropped);
    }

    const transform::Transform& transform() const noexcept { return *transform_; }
    std::string describe() const { return transform_->describe(); }
    /// Read after the graph stopped (the scratch counters are the workers').
    std::string state() const {
        std::uint64_t misses = 0;
        for (const auto& scratch : scratch_) {
            misses += scratch->state.dataset_misses;
        }
        std::string text;
        if (transform_->binds_datasets()) {
            text = "dataset lookups without a match: " + std::to_string(misses);
        }
        if (!transform_->uses_last()) {
            return text;
        }
        return text + (text.empty() ? "" : "; ") +
               "last values: " + std::to_string(transform_->last_value_keys()) + " key(s), " +
               std::to_string(transform_->last_value_keys_refused()) +
               " message(s) of keys past last_values.max_keys, " +
               std::to_string(transform_->last_value_keys_missing()) +
               " message(s) without a partition key";
    }

private:
    struct alignas(64) Scratch {
        transform::TransformScratch state;
    };
    std::shared_ptr<transform::Transform> transform_;
    std::vector<std::unique_ptr<Scratch>> scratch_;
};

using TransformStage = BasicTransformStage<StageShape::stateless>;
using KeyedTransformStage = BasicTransformStage<StageShape::keyed>;

static_assert(Stage<TransformStage>);
static_assert(Stage<KeyedTransformStage>);

}  // namespace edgeflow
