// LkvStage: last known values per key — the store a data flow's custom pod used to keep.
//
//   - kind: lkv
//     name: last-values
//     fields: [temperature, {path: humidity, expiration: 30s}]   # omitted: every leaf field
//     expiration: 10m            # default per field; omitted: values never expire
//     fill_missing: true         # a tracked field absent from a message is filled in place
//     write: {temperature: previous.temperature}   # the value held before this message
//     timestamp_suffix: Time     # beside each value written, `<path><suffix>` = its time
//     max_keys: 100000           # least recently updated key evicted beyond this (counted)
//     persist:                   # durable: retained MQTT snapshots, read back at start
//       destination: lkv-store   # an mqtt destination (the snapshots set their own topic)
//       topic_prefix: edgeflow/lkv/line-1
//       interval: 1s             # a changed key is written at most once per interval
//       max_per_interval: 10000  # per shard; the rest wait for the next interval
//       hydrate_timeout: 30s     # reading them back at start; longer is a start-up error
//
// Per key and field the store holds the value and its event time; a message never overwrites a
// value with an older one (out-of-order input within the allowed lateness). A value older than
// its field's expiration (against the processing clock) is not used. The store is sharded like
// every stateful stage; LkvStore::read serves `$lkv(key).field` to later stages of the same
// stateful section, which run only when no shard of this stage is writing. A read sees the
// value as of the reading message (its batch position), whichever shard holds the key: each
// shard logs what a batch's messages overwrote (the old value, swapped out, so the log keeps
// its buffers), and a read undoes what messages after the reader wrote. Nothing is logged when
// no rule reads the store. Results therefore do not depend on where batches fall.
//
// Hot path: a key-table lookup, a path lookup per tracked field, and copies of the changed
// values into buffers that keep their capacity; a message is rebuilt (OutputTree) only when a
// value is written into it. No lock; no allocation once the store's buffers are warm.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config/config_errors.h"
#include "core/config/config_node.h"
#include "core/metrics/metrics_writer.h"
#include "core/stage.h"
#include "lang/transform/dataset.h"
#include "lang/transform/formula.h"
#include "lang/transform/output_tree.h"
#include "lang/transform/rule_path.h"
#include "stages/build_context.h"
#include "stages/keyed/key_table.h"

namespace edgeflow {

struct LkvFieldConfig {
    std::string path;
    std::int64_t expiration_ms = 0;  ///< 0: never
};

struct LkvPersistConfig {
    std::string destination;
    std::size_t destination_index = 0;  ///< set by build_lkv_stage
    std::string topic_prefix;
    std::int64_t interval_ms = 1000;
    std::uint64_t max_per_interval = 10'000;
    std::int64_t hydrate_timeout_ms = 30'000;  ///< to read the snapshots back at start
    ConfigNode node;
};

struct LkvConfig {
    std::string name = "lkv";
    std::vector<LkvFieldConfig> fields;  ///< empty: every leaf field
    std::int64_t expiration_ms = 0;
    bool fill_missing = false;
    std::vector<std::pair<std::string, std::string>> write;  ///< field path → output path
    std::string timestamp_suffix;
    std::uint64_t max_keys = 100'000;
    std::uint64_t max_fields = 64;  ///< every-leaf mode: distinct fields per shard
    std::optional<LkvPersistConfig> persist;
    ConfigNode node;

    static LkvConfig parse(const ConfigNode& node, ConfigErrors& errors);
};

/// The values themselves, shared by the stage, `$lkv` readers and the start-up hydration.
class LkvStore final : public transform::LkvLookup {
public:
    LkvStore(LkvConfig config, std::size_t shards);
    ~LkvStore() override;

    std::optional<std::uint32_t> field(std::string_view path) const override;
    expr::Value read(std::string_view key, std::uint32_t field, std::int64_t now_ms,
                     std::uint32_t as_of = UINT32_MAX) const noexcept override;

    /// One shard's work on a batch (the stage's process()).
    void process(Batch& batch, StageContext& ctx) noexcept;

    /// Loads one snapshot (as persist writes them) before the engine starts. Single-threaded.
    Status hydrate(std::string_view payload);
    std::uint64_t hydrated() const noexcept { return hydrated_; }

    const LkvConfig& config() const noexcept { return config_; }
    /// Message::emit_rank of its snapshots (set at build, from the pipeline's order).
    void set_snapshot_rank(std::uint32_t rank) noexcept { snapshot_rank_ = rank; }
    std::size_t keys() const noexcept;
    /// Key tables at start; with every key's row, and the overwrites one batch of
    /// `batch_size` may log, at most.
    MemoryBound memory(std::size_t batch_size) const;
    std::string describe() const;
    /// Keys, evictions, snapshots: for the run summary, read after the graph stopped.
    std::string state() const;
    /// The same as Prometheus samples, from figures each shard publishes after each batch (so
    /// they may be read while the graph runs).
    void metrics(MetricsWriter& writer, std::string_view stage) const;

    struct Shard;

private:
    Shard& shard_of(std::uint64_t hash) const noexcept;

    LkvConfig config_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::uint64_t hydrated_ = 0;
    std::uint32_t snapshot_rank_ = 0;
    mutable bool read_by_rules_ = false;  // set at build by field(): batches log overwrites
};

class LkvStage {
public:
    static constexpr std::string_view kind = "lkv";
    static constexpr StageShape shape = StageShape::sharded;

    explicit LkvStage(std::shared_ptr<LkvStore> store) : store_(std::move(store)) {}
    void process(Batch& batch, StageContext& ctx) noexcept { store_->process(batch, ctx); }
    std::string describe() const { return store_->describe(); }
    std::string state() const { return store_->state(); }
    MemoryBound memory() const { return store_->memory(batch_size_); }
    void set_batch_size(std::size_t batch_size) noexcept { batch_size_ = batch_size; }
    void metrics(MetricsWriter& writer, std::string_view stage) const {
        store_->metrics(writer, stage);
    }
    const std::shared_ptr<LkvStore>& store() const noexcept { return store_; }

private:
    std::shared_ptr<LkvStore> store_;
    std::size_t batch_size_ = 64;
};

static_assert(Stage<LkvStage>);

/// The `lkv` row of the stage table. The store becomes the section's `$lkv` source and is
/// kept in ctx.lkv_stores (hydrated at start); a persist destination is reserved for its
/// snapshots.
std::unique_ptr<AnyStage> build_lkv_stage(const ConfigNode& block, BuildContext& ctx);

}  // namespace edgeflow
