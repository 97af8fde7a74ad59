// Dataset: reference records a transform contextualizes messages with (assets, sites, limits),
// loaded from an NDJSON file or a retained MQTT message, and looked up through indexes built at
// load time — never a scan per message when the match is an equality.
//
// Each transform binding that equates message fields with record fields registers an index on
// its record fields (add_index) before the first load. A load builds a new Snapshot — the
// records and every index — and publishes it; readers pick it up between batches by comparing
// version() with the version of the snapshot they hold, so a reload takes a lock once per worker
// and the per-message path takes none.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/record.h"
#include "core/status.h"
#include "lang/expr/value.h"
#include "lang/transform/rule_path.h"

namespace edgeflow::transform {

/// Hash and equality that let an unordered_map<std::string, ...> be searched with a string_view.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

/// Appends a typed encoding of a scalar to `out`, so that equal values (1 and 1.0 included)
/// give equal keys and different types never collide. False for missing values and containers.
bool append_key(std::string& out, const expr::Value& value);

/// Parses one JSON object into `out` (cleared first). Allocates: for loading, not per message.
Status parse_json_object(std::string_view text, Record& out);

class Dataset {
public:
    struct Snapshot {
        std::vector<Record> records;
        /// indexes[i]: key of index i's fields → first record (in file order) with those values.
        std::vector<std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>>>
            indexes;
        std::uint64_t version = 0;
    };

    Dataset(std::string name, std::size_t max_records);

    const std::string& name() const noexcept { return name_; }
    /// Registers an index over these record fields; returns its number. Before the first load.
    std::size_t add_index(std::vector<RulePath> fields);

    /// Replaces the records with the NDJSON `text` (one JSON object per line; blank lines and
    /// lines starting with # are skipped). A JSON array of objects is accepted too. On error
    /// nothing changes and the message names the line.
    Status load(std::string_view text);
    Status load_file(const std::string& path);

    std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
    std::shared_ptr<const Snapshot> snapshot() const;
    std::size_t record_count() const;

private:
    std::string name_;
    std::size_t max_records_;
    std::vector<std::vector<RulePath>> index_fields_;
    mutable std::mutex mutex_;  // guards current_ (taken on load and when a reader refreshes)
    std::shared_ptr<const Snapshot> current_;
    std::atomic<std::uint64_t> version_{0};
};

/// Datasets by name, as the pipeline's `datasets:` block defines them.
using DatasetRegistry = std::unordered_map<std::string, std::shared_ptr<Dataset>>;

}  // namespace edgeflow::transform
