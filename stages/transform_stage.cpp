#include "stages/transform_stage.h"

namespace edgeflow {

std::unique_ptr<AnyStage> build_transform_stage(const ConfigNode& block, BuildContext& ctx) {
    const auto spec = transform::parse_transform_spec(block, ctx.errors);
    auto compiled = transform::Transform::compile(spec, ctx.key, ctx.datasets, ctx.errors);
    if (!compiled) {
        return nullptr;
    }
    auto shared = std::make_shared<transform::Transform>(std::move(*compiled));
    if (shared->uses_last()) {
        return make_stage(KeyedTransformStage(std::move(shared)));
    }
    return make_stage(TransformStage(std::move(shared)));
}

}  // namespace edgeflow
