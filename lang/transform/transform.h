// Transform: one compiled set of data-flow rules — datasets (contextualize), then filter, then
// map, the order Azure IoT Operations applies them in whatever order they are written.
//
// A TransformSpec is the rules as text (spec.h: from a native pipeline file or a Dataflow
// resource); compile() checks every path, expression, function and dataset reference, reporting
// each problem against the rule's place in the file, and builds a Transform that apply() runs
// per message with no allocation once its TransformScratch is warm. This header is the entry
// callers include; the work is in spec.cpp (reading), compile.cpp (checking and building),
// apply.cpp (running) and last_value.cpp (the per-key `? $last` state).
//
// Threads: compile() runs on the loading thread. Any number of workers may apply() one
// stateless transform at once, each with its own TransformScratch; a keyed one (uses_last())
// runs one instance per shard, applied by that shard's worker only.
//
// Map semantics (docs/transforms.md has the long form):
// - The output holds only what rules write; `inputs: ['*'], output: '*'` copies everything.
// - A `*` in the first input matches one or more whole segments (leaves when it ends the path);
//   the captured segments replace the `*` of the other inputs and of the output. A capture for
//   which another input does not resolve is skipped.
// - Rank: the number of segments a wildcard captured (0 without one). When a later rule reads
//   the same input fields with a lower rank, it replaces the earlier rule for those fields
//   (specialization); with an equal or higher rank both apply.
// - `output: ''` deletes the input fields from the output.
// - A rule whose inputs are all missing (and without `? $last` or `??` to fall back on) writes
//   nothing; a rule reading `$context(alias)` is skipped when the dataset had no match.
// Filter: rules are OR'ed; a rule that is true under `drop_when` (false under `keep_when`)
// removes the message. A missing input or a non-boolean result is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/message.h"
#include "lang/expr/program.h"
#include "lang/transform/dataset.h"
#include "lang/transform/formula.h"
#include "lang/transform/output_tree.h"
#include "lang/transform/rule_path.h"
#include "lang/transform/spec.h"

namespace edgeflow::transform {

class Transform;

/// Per-worker memory for apply(); reused message after message.
struct TransformScratch {
    expr::EvalScratch eval;
    OutputTree tree;
    Record record;
    std::string key;
    std::vector<expr::Value> values;
    std::vector<expr::Value> key_values;
    std::vector<expr::Value> slots;  ///< one per map rule, under a static plan
    std::vector<std::string_view> path;
    struct Match;
    std::vector<Match> matches;
    std::vector<std::string_view> captures;
    std::vector<ValueRef> match_inputs;
    std::vector<std::shared_ptr<const Dataset::Snapshot>> snapshots;
    std::vector<const Record*> context;  ///< matched record per dataset binding, or null
    std::uint64_t dataset_misses = 0;    ///< bindings that found no record (summed for the summary)
    bool key_selected = false;           ///< the key is looked up on the first `? $last` read
    void* last_values = nullptr;         ///< that key's last values (keyed transforms only)
    TransformScratch();
    ~TransformScratch();
};

/// What apply() did with a message.
enum class Outcome { kept, dropped, rejected };

class Transform {
public:
    static std::optional<Transform> compile(const TransformSpec& spec, const PartitionKeySpec& key,
                                            const DatasetRegistry& datasets, ConfigErrors& errors);
    Transform(Transform&&) noexcept;
    Transform& operator=(Transform&&) noexcept;
    ~Transform();

    /// Runs the rules on a parsed message. Keyed transforms (uses_last()) must see each key's
    /// messages one at a time, in order.
    Outcome apply(Message& message, TransformScratch& scratch) noexcept;

    const std::string& name() const noexcept;
    /// "transform 'x': 1 dataset binding (index lookup), 2 filter rules, 7 map rules, ..."
    std::string describe() const;
    /// Whether any rule reads `? $last`, which makes the transform stateful per key.
    bool uses_last() const noexcept;
    /// Whether the transform looks records up in datasets.
    bool binds_datasets() const noexcept;
    /// Keys with last values, and keys not remembered because max_keys was reached.
    std::size_t last_value_keys() const noexcept;
    std::uint64_t last_value_keys_refused() const noexcept;
    /// Messages whose partition key was missing or not a scalar when `? $last` needed it.
    std::uint64_t last_value_keys_missing() const noexcept;

    struct Impl;

private:
    explicit Transform(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace edgeflow::transform
