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
#include "core/worker_local.h"
#include "lang/transform/transform.h"
#include "stages/build_context.h"

namespace edgeflow {

template <StageShape Shape>
class BasicTransformStage {
public:
    static constexpr std::string_view kind = "transform";
    static constexpr StageShape shape = Shape;

    explicit BasicTransformStage(std::shared_ptr<transform::Transform> transform)
        : transform_(std::move(transform)) {}

    void prepare(std::size_t worker_slots) { scratch_.grow(worker_slots); }
    void process(Batch& batch, StageContext& ctx) noexcept {
        auto& scratch = scratch_[ctx.worker];
        for_each_live(batch, ctx, [&](Message& message) {
            switch (transform_->apply(message, scratch)) {
                case transform::Outcome::kept:
                    return Outcome::kept;
                case transform::Outcome::dropped:
                    return Outcome::dropped;
                case transform::Outcome::rejected:
                    break;
            }
            return Outcome::rejected;
        });
    }

    const transform::Transform& transform() const noexcept { return *transform_; }
    std::string describe() const { return transform_->describe(); }
    /// Read after the graph stopped (the scratch counters are the workers').
    std::string state() const {
        std::uint64_t misses = 0;
        scratch_.for_each(
            [&](const transform::TransformScratch& s) { misses += s.dataset_misses; });
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
    std::shared_ptr<transform::Transform> transform_;
    WorkerLocal<transform::TransformScratch> scratch_;
};

using TransformStage = BasicTransformStage<StageShape::stateless>;
using KeyedTransformStage = BasicTransformStage<StageShape::keyed>;

static_assert(Stage<TransformStage>);
static_assert(Stage<KeyedTransformStage>);

/// The `transform` row of the stage table: a keyed stage when the transform keeps `? $last`
/// values per key, else a stateless one.
std::unique_ptr<AnyStage> build_transform_stage(const ConfigNode& block, BuildContext& ctx);

}  // namespace edgeflow
