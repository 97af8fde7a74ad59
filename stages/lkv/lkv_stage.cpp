#include "stages/lkv/lkv_stage.h"

#include "stages/keyed/partition_stage.h"

#include <atomic>

#include "core/config/map_reader.h"
#include "core/log.h"
#include "lang/text/datetime.h"

namespace edgeflow {

using expr::Kind;
using expr::Value;

// ---- Config ---------------------------------------------------------------------------------

LkvConfig LkvConfig::parse(const ConfigNode& node, ConfigErrors& errors) {
    LkvConfig config;
    config.node = node;
    MapReader reader(node, errors, "an lkv stage");
    if (!reader.ok()) {
        return config;
    }
    reader.get("kind");
    reader.optional_string("name", config.name);
    reader.optional_duration("expiration", config.expiration_ms, 1, 3650LL * 86'400'000);
    if (const ConfigNode* fields = reader.get("fields")) {
        if (!fields->is_sequence() || fields->items.empty()) {
            errors.add(*fields, "a list of field paths (or {path, expiration})");
        } else {
            for (const ConfigNode& item : fields->items) {
                LkvFieldConfig field;
                field.expiration_ms = -1;  // the stage default, resolved below
                if (item.is_scalar()) {
                    field.path = item.scalar;
                } else {
                    MapReader f(item, errors, "an lkv field");
                    if (!f.ok()) {
                        continue;
                    }
                    f.required_string("path", field.path, "a field path");
                    f.optional_duration("expiration", field.expiration_ms, 1, 3650LL * 86'400'000);
                    f.finish();
                }
                if (auto path = transform::RulePath::parse(field.path, false);
                    !path || path->root != transform::PathRoot::payload) {
                    errors.add(item, "a payload field path",
                               path ? "\"" + field.path + "\"" : path.error());
                    continue;
                }
                config.fields.push_back(std::move(field));
            }
        }
    }
    for (auto& field : config.fields) {
        if (field.expiration_ms < 0) {
            field.expiration_ms = config.expiration_ms;
        }
    }
    reader.optional_bool("fill_missing", config.fill_missing);
    if (const ConfigNode* write = reader.get("write")) {
        if (!write->is_map()) {
            errors.add(*write, "a map of tracked field → output path");
        } else {
            for (const auto& [from, to] : write->members) {
                if (!to.is_scalar() || !transform::RulePath::parse(to.scalar, false)) {
                    errors.add(to, "an output path");
                    continue;
                }
                const bool tracked =
                    config.fields.empty() ||
                    std::any_of(config.fields.begin(), config.fields.end(),
                                [&](const LkvFieldConfig& f) { return f.path == from; });
                if (!tracked) {
                    errors.add(to, "a field listed in `fields`", "\"" + from + "\"");
                    continue;
                }
                // Without `fields` the key is the path of a field to track from the start.
                if (config.fields.empty() && !transform::RulePath::parse(from, false)) {
                    errors.add(to, "a write keyed by a field path", "\"" + from + "\"");
                    continue;
                }
                config.write.emplace_back(from, to.scalar);
            }
        }
    }
    reader.optional_string("timestamp_suffix", config.timestamp_suffix);
    reader.optional_uint("max_keys", config.max_keys, 1, 100'000'000);
    reader.optional_uint("max_fields", config.max_fields, 1, 4096);
    if (const ConfigNode* persist = reader.get("persist")) {
        MapReader p(*persist, errors, "the lkv persist block");
        if (p.ok()) {
            LkvPersistConfig pc;
            pc.node = *persist;
            p.required_string("destination", pc.destination, "an mqtt destination's name");
            p.required_string("topic_prefix", pc.topic_prefix, "a topic prefix, e.g. edgeflow/lkv");
            p.optional_duration("interval", pc.interval_ms, 0, 3'600'000);
            p.optional_uint("max_per_interval", pc.max_per_interval, 1, 10'000'000);
            p.optional_duration("hydrate_timeout", pc.hydrate_timeout_ms, 1, 3'600'000);
            p.finish();
            if (pc.topic_prefix.find_first_of("+#") != std::string::npos) {
                errors.add(*persist->find("topic_prefix"), "a topic prefix without + or #");
            }
            config.persist = std::move(pc);
        }
    }
    reader.finish();
    return config;
}

// ---- Stored values --------------------------------------------------------------------------

namespace {

struct Stored {
    Kind kind = Kind::missing;
    bool boolean = false;
    std::int64_t integer = 0;
    double floating = 0;
    std::string text;
    std::unique_ptr<Record> tree;  // objects and arrays
    std::int64_t time_ms = 0;

    Value value() const noexcept {
        switch (kind) {
            case Kind::null:
                return Value::null();
            case Kind::boolean:
                return Value::of_bool(boolean);
            case Kind::integer:
                return Value::of_int(integer);
            case Kind::floating:
                return Value::of_float(floating);
            case Kind::string:
                return Value::of_string(text);
            case Kind::object:
            case Kind::array:
                return Value::from(tree->root());
            default:
                return Value::missing();
        }
    }

    void assign(ValueRef ref, std::int64_t time) {
        time_ms = time;
        switch (ref.type()) {
            case ValueType::null:
                kind = Kind::null;
                return;
            case ValueType::boolean:
                kind = Kind::boolean;
                boolean = ref.as_bool();
                return;
            case ValueType::int64:
                kind = Kind::integer;
                integer = ref.as_int64();
                return;
            case ValueType::uint64:
                if (ref.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
                    kind = Kind::integer;
                    integer = static_cast<std::int64_t>(ref.as_uint64());
                } else {
                    kind = Kind::floating;
                    floating = ref.as_double();
                }
                return;
            case ValueType::float64:
                kind = Kind::floating;
                floating = ref.as_double();
                return;
            case ValueType::string:
                kind = Kind::string;
                text.assign(ref.as_string());
                return;
            case ValueType::array:
            case ValueType::object:
                kind = ref.type() == ValueType::array ? Kind::array : Kind::object;
                if (!tree) {
                    tree = std::make_unique<Record>();
                }
                tree->clear();
                transform::append_ref(*tree, {}, ref);
                return;
        }
    }
};

// A tracked field: where it is read, where it is written back, and for how long it is good.
struct Field {
    std::string text;
    transform::RulePath path;
    std::vector<std::string_view> segments;     // the path, for OutputTree::set
    std::vector<std::string_view> ts_segments;  // `<path><suffix>`
    std::string ts_last;                        // storage of the last timestamp segment
    std::int64_t expiration_ms = 0;
};

std::unique_ptr<Field> make_field(std::string text, transform::RulePath path,
                                  std::int64_t expiration_ms, const std::string& suffix) {
    auto f = std::make_unique<Field>();
    f->text = std::move(text);
    f->path = std::move(path);
    f->expiration_ms = expiration_ms;
    for (const auto& s : f->path.segments) {
        f->segments.push_back(s.name);
    }
    if (!suffix.empty()) {
        f->ts_last = f->path.segments.back().name + suffix;
        f->ts_segments = f->segments;
        f->ts_segments.back() = f->ts_last;
    }
    return f;
}

bool usable(const Stored& st, const Field& f, std::int64_t now_ms) noexcept {
    return st.kind != Kind::missing &&
           (f.expiration_ms == 0 || now_ms - st.time_ms <= f.expiration_ms);
}

struct Write {
    std::uint32_t field;         // whose stored value
    std::unique_ptr<Field> out;  // where it goes (and its timestamp)
};

}  // namespace

struct LkvStore::Shard {
    Shard(std::size_t max_keys, std::size_t stride_) : keys(max_keys), stride(stride_) {}

    KeyTable keys;
    std::size_t stride;
    std::vector<Stored> values;  // slot * stride + field
    std::vector<std::unique_ptr<Field>> catalog;
    std::unordered_map<std::string, std::uint32_t, transform::StringHash, std::equal_to<>> ids;
    std::vector<Write> writes;  // configured writes, by field id

    // Write-behind of changed keys.
    std::vector<std::uint8_t> dirty;  // by slot
    std::vector<std::uint32_t> dirty_queue;
    std::size_t dirty_head = 0;
    std::int64_t last_flush_ms = INT64_MIN / 4;  // far in the past, with room to subtract

    // What this batch's messages overwrote, for reads as of an earlier message (LkvStore::read).
    // Each slot's entries are chained newest first from first_undo[slot]; a slot (re)inserted
    // in the batch starts a new chain, so a reused slot never shows its former key's values.
    struct Undo {
        std::uint32_t field = 0;
        std::uint32_t position = 0;  // the message whose value replaced `before`
        std::uint32_t next = KeyTable::none;
        Stored before;
    };
    std::vector<Undo> undo;  // [0, undo_used) this batch's; the rest keep their buffers
    std::size_t undo_used = 0;
    std::vector<std::uint32_t> first_undo;  // by slot
    std::vector<std::uint32_t> undo_slots;  // slots whose first_undo is set

    void begin_undo() noexcept {
        for (const std::uint32_t slot : undo_slots) {
            first_undo[slot] = KeyTable::none;
        }
        undo_slots.clear();
        undo_used = 0;
    }
    // Stores the value the message at `position` overwrites in `st`, leaving `st` to be assigned.
    void log_overwrite(std::uint32_t slot, std::uint32_t field, std::uint32_t position,
                       Stored& st) {
        if (undo_used == undo.size()) {
            undo.emplace_back();
        }
        if (first_undo.size() <= slot) {
            first_undo.resize(slot + 1, KeyTable::none);
        }
        Undo& u = undo[undo_used];
        u.field = field;
        u.position = position;
        if (first_undo[slot] == KeyTable::none) {
            undo_slots.push_back(slot);
        }
        u.next = first_undo[slot];
        first_undo[slot] = static_cast<std::uint32_t>(undo_used);
        ++undo_used;
        std::swap(u.before, st);
    }
    void forget_undo(std::uint32_t slot) noexcept {
        if (slot < first_undo.size()) {
            first_undo[slot] = KeyTable::none;
        }
    }
    // The value `field` of `slot` had once the message at `as_of` was taken: the oldest value
    // overwritten after it, or the current one.
    const Stored& as_of(std::uint32_t slot, std::uint32_t field, std::uint32_t as_of,
                        const Stored& current) const noexcept {
        const Stored* found = &current;
        if (slot < first_undo.size()) {
            for (std::uint32_t i = first_undo[slot]; i != KeyTable::none; i = undo[i].next) {
                if (undo[i].field == field && undo[i].position > as_of) {
                    found = &undo[i].before;  // older entries come later in the chain
                }
            }
        }
        return *found;
    }

    // Scratch, reused message after message.
    struct Update {
        std::uint32_t field;
        ValueRef ref;
    };
    std::vector<Update> updates;
    std::vector<std::uint8_t> seen;  // every-leaf mode: fields present in this message
    std::string path_buffer;
    std::vector<std::string_view> segment_buffer;
    transform::OutputTree tree;
    Record out;
    expr::EvalScratch eval;

    std::uint64_t evictions = 0;
    std::uint64_t snapshots = 0;
    std::uint64_t snapshots_deferred = 0;
    std::uint64_t fields_refused = 0;
    // Published after each batch for /metrics, which reads while the shard writes.
    std::atomic<std::uint64_t> published_keys{0};
    std::atomic<std::uint64_t> published_evictions{0};
    std::atomic<std::uint64_t> published_snapshots{0};

    Stored* row(std::uint32_t slot) {
        if ((slot + 1) * stride > values.size()) {
            values.resize((slot + 1) * stride);
            dirty.resize(slot + 1);
        }
        return &values[slot * stride];
    }
    const Stored* row(std::uint32_t slot) const noexcept {
        return (slot + 1) * stride > values.size() ? nullptr : &values[slot * stride];
    }

    // Every-leaf mode: the id of a field path, adding it while there is room.
    std::uint32_t field_id(std::string_view text, const std::string& suffix,
                           std::uint64_t max_fields) {
        if (auto it = ids.find(text); it != ids.end()) {
            return it->second;
        }
        if (catalog.size() >= max_fields) {
            ++fields_refused;
            return KeyTable::none;
        }
        transform::RulePath path;
        path.text = std::string(text);
        for (std::string_view s : segment_buffer) {
            path.segments.push_back({std::string(s)});
        }
        const auto id = static_cast<std::uint32_t>(catalog.size());
        catalog.push_back(make_field(std::string(text), std::move(path), 0, suffix));
        ids.emplace(std::string(text), id);
        seen.resize(catalog.size());
        return id;
    }

    void mark_dirty(std::uint32_t slot) {
        if (!dirty[slot]) {
            dirty[slot] = 1;
            if (dirty_head > 0 && dirty_head == dirty_queue.size()) {
                dirty_queue.clear();
                dirty_head = 0;
            }
            dirty_queue.push_back(slot);
        }
    }
};

LkvStore::LkvStore(LkvConfig config, std::size_t shards) : config_(std::move(config)) {
    const bool every_leaf = config_.fields.empty();
    const std::size_t stride = every_leaf ? config_.max_fields : config_.fields.size();
    const std::size_t per_shard =
        std::max<std::size_t>(1, (config_.max_keys + shards - 1) / shards);
    for (std::size_t i = 0; i < shards; ++i) {
        auto shard = std::make_unique<Shard>(per_shard, stride);
        for (const auto& f : config_.fields) {
            shard->catalog.push_back(make_field(f.path,
                                                transform::RulePath::parse(f.path, false).value(),
                                                f.expiration_ms, config_.timestamp_suffix));
            shard->ids.emplace(f.path, static_cast<std::uint32_t>(shard->catalog.size() - 1));
        }
        shard->seen.resize(shard->catalog.size());
        for (const auto& [from, to] : config_.write) {
            std::uint32_t id = KeyTable::none;
            if (auto it = shard->ids.find(from); it != shard->ids.end()) {
                id = it->second;
            } else {  // every-leaf mode: written fields are tracked from the start
                auto path = transform::RulePath::parse(from, false).value();
                shard->segment_buffer.clear();
                for (const auto& s : path.segments) {
                    shard->segment_buffer.push_back(s.name);
                }
                id = shard->field_id(from, config_.timestamp_suffix, config_.max_fields);
            }
            shard->writes.push_back(
                {id, make_field(to, transform::RulePath::parse(to, false).value(), 0,
                                config_.timestamp_suffix)});
        }
        shards_.push_back(std::move(shard));
    }
}

LkvStore::~LkvStore() = default;

LkvStore::Shard& LkvStore::shard_of(std::uint64_t hash) const noexcept {
    return *shards_[hash % shards_.size()];
}

std::optional<std::uint32_t> LkvStore::field(std::string_view path) const {
    if (config_.fields.empty()) {
        return std::nullopt;  // every-leaf mode: ids differ per shard
    }
    const auto& ids = shards_.front()->ids;
    if (auto it = ids.find(path); it != ids.end()) {
        read_by_rules_ = true;
        return it->second;
    }
    return std::nullopt;
}

Value LkvStore::read(std::string_view key, std::uint32_t field, std::int64_t now_ms,
                     std::uint32_t as_of) const noexcept {
    const std::uint64_t hash = key_hash(key);
    const Shard& shard = shard_of(hash);
    const std::uint32_t slot = shard.keys.find(key, hash);
    if (slot == KeyTable::none) {
        return Value::missing();
    }
    const Stored* row = shard.row(slot);
    if (row == nullptr) {
        return Value::missing();
    }
    const Stored& st = shard.as_of(slot, field, as_of, row[field]);
    if (!usable(st, *shard.catalog[field], now_ms)) {
        return Value::missing();
    }
    return st.value();
}

namespace {

// Every-leaf mode: the leaves below `object`, as dotted paths, with their field ids.
void collect_leaves(LkvStore::Shard& shard, ValueRef object, const LkvConfig& config);

}  // namespace

void LkvStore::process(Batch& batch, StageContext& ctx) noexcept {
    Shard& shard = *shards_[ctx.shard];
    const bool every_leaf = config_.fields.empty();
    const bool log_overwrites = read_by_rules_;
    if (log_overwrites) {
        shard.begin_undo();
    }
    std::uint64_t in = 0;
    for (std::uint32_t position = 0; position < batch.size(); ++position) {
        Message& m = batch[position];
        if (!m.live() || !ctx.owns(m)) {
            continue;
        }
        ++in;
        const auto found = shard.keys.insert(m.key, m.key_hash);
        const std::uint32_t slot = found.slot;
        Stored* row = shard.row(slot);
        if (found.inserted) {
            for (std::size_t f = 0; f < shard.stride; ++f) {
                row[f].kind = Kind::missing;
            }
            shard.evictions += found.evicted ? 1 : 0;
            if (log_overwrites) {
                shard.forget_undo(slot);
            }
        }
        shard.keys.touch(slot);
        const std::int64_t now = m.clock_ms;
        const ValueRef root = m.record.root();

        // What the message holds of the tracked fields.
        shard.updates.clear();
        if (every_leaf) {
            std::fill(shard.seen.begin(), shard.seen.end(), 0);
            if (root.valid() && root.type() == ValueType::object) {
                collect_leaves(shard, root, config_);
            }
        } else if (root.valid()) {
            for (std::uint32_t f = 0; f < shard.catalog.size(); ++f) {
                const ValueRef ref = shard.catalog[f]->path.resolve(root);
                if (ref.valid()) {
                    shard.updates.push_back({f, ref});
                }
            }
        }

        // What goes into the message: stored values for missing fields, and the write targets.
        shard.eval.reset();
        bool rebuild = false;
        const auto begin_rebuild = [&] {
            if (!rebuild) {
                rebuild = true;
                shard.tree.reset();
                if (root.valid() && root.type() == ValueType::object) {
                    shard.tree.copy_members(root);
                }
            }
        };
        const auto put = [&](const Field& where, const Stored& st) {
            begin_rebuild();
            shard.tree.set(where.segments, st.value());
            if (!where.ts_segments.empty()) {
                char* dst = shard.eval.arena.reserve(32);
                if (dst != nullptr) {
                    const auto n = dt::format(st.time_ms, "iso", dst, 32);
                    shard.tree.set(where.ts_segments, Value::of_string(shard.eval.arena.commit(n)));
                }
            }
        };
        for (const Write& w : shard.writes) {
            if (w.field != KeyTable::none && usable(row[w.field], *shard.catalog[w.field], now)) {
                put(*w.out, row[w.field]);
            }
        }
        if (config_.fill_missing) {
            std::size_t next_update = 0;
            for (std::uint32_t f = 0; f < shard.catalog.size(); ++f) {
                bool present;
                if (every_leaf) {
                    present = shard.seen[f] != 0;
                } else {
                    present =
                        next_update < shard.updates.size() && shard.updates[next_update].field == f;
                    next_update += present ? 1 : 0;
                }
                if (!present && usable(row[f], *shard.catalog[f], now)) {
                    put(*shard.catalog[f], row[f]);
                }
            }
        }
        if (rebuild) {
            shard.tree.build(shard.out, shard.eval.tuples);
        }

        // Then the store takes the message's values, unless it holds newer ones.
        bool changed = false;
        for (const auto& u : shard.updates) {
            Stored& st = row[u.field];
            if (st.kind == Kind::missing || m.event_time_ms >= st.time_ms) {
                if (log_overwrites) {
                    shard.log_overwrite(slot, u.field, position, st);
                }
                st.assign(u.ref, m.event_time_ms);
                changed = true;
            }
        }
        if (rebuild) {
            m.record.swap(shard.out);
        }
        if (changed && config_.persist) {
            shard.mark_dirty(slot);
        }
    }
    ctx.counters.add(in, in, 0);
    if (config_.persist && shard.dirty_head < shard.dirty_queue.size() &&
        (shard.last_flush_ms == INT64_MIN ||  // never flushed: the subtraction would overflow
         batch.clock_ms - shard.last_flush_ms >= config_.persist->interval_ms)) {
        // Write-behind: each changed key once, as one retained snapshot, at most
        // max_per_interval per shard and interval.
        shard.last_flush_ms = batch.clock_ms;
        std::uint64_t written = 0;
        while (shard.dirty_head < shard.dirty_queue.size() &&
               written < config_.persist->max_per_interval) {
            const std::uint32_t slot = shard.dirty_queue[shard.dirty_head];
            if (!shard.dirty[slot] || !shard.keys.used(slot)) {
                shard.dirty[slot] = 0;
                ++shard.dirty_head;
                continue;
            }
            Message* e =
                batch.emit(ctx.shard, static_cast<std::uint32_t>(batch.size()), snapshot_rank_);
            if (e == nullptr) {
                ++shard.snapshots_deferred;  // the outbox is full: next interval
                break;
            }
            ++shard.dirty_head;
            shard.dirty[slot] = 0;
            ++written;
            const std::string_view key = shard.keys.key(slot);
            e->target = static_cast<std::int32_t>(config_.persist->destination_index);
            e->output_topic.assign(config_.persist->topic_prefix);
            e->output_topic.push_back('/');
            for (const char c : key) {
                e->output_topic.push_back(c == '+' || c == '#' || c == '\0' ? '_' : c);
            }
            e->output_topic_set = true;
            e->topic.assign(e->output_topic);
            e->key.assign(key);
            Record& r = e->record;
            r.clear();
            const auto top = r.open_object({});
            r.add_string("key", key);
            const auto fields = r.open_object("fields");
            const Stored* row = shard.row(slot);
            for (std::uint32_t f = 0; f < shard.catalog.size(); ++f) {
                if (row[f].kind == Kind::missing) {
                    continue;
                }
                const auto entry = r.open_object(shard.catalog[f]->text);
                transform::append_value(r, "value", row[f].value(), {});
                r.add_int64("time", row[f].time_ms);
                r.close(entry);
            }
            r.close(fields);
            r.close(top);
        }
        shard.snapshots += written;
    }
    if (config_.persist && shard.dirty_head < shard.dirty_queue.size()) {
        // Changes wait for the next interval: the messages behind them are not yet safe.
        batch.mark_state_unsaved();
    }
    shard.published_keys.store(shard.keys.size(), std::memory_order_relaxed);
    shard.published_evictions.store(shard.evictions, std::memory_order_relaxed);
    shard.published_snapshots.store(shard.snapshots, std::memory_order_relaxed);
}

void LkvStore::metrics(MetricsWriter& writer, std::string_view stage) const {
    std::uint64_t keys = 0;
    std::uint64_t evictions = 0;
    std::uint64_t snapshots = 0;
    for (const auto& s : shards_) {
        keys += s->published_keys.load(std::memory_order_relaxed);
        evictions += s->published_evictions.load(std::memory_order_relaxed);
        snapshots += s->published_snapshots.load(std::memory_order_relaxed);
    }
    writer.gauge("edgeflow_lkv_keys", "Keys with last known values", {{"stage", stage}},
                 static_cast<double>(keys));
    writer.counter("edgeflow_lkv_evictions_total", "Keys evicted past max_keys", {{"stage", stage}},
                   static_cast<double>(evictions));
    writer.counter("edgeflow_lkv_snapshots_total", "Snapshots written to the persist destination",
                   {{"stage", stage}}, static_cast<double>(snapshots));
}

namespace {

void collect_leaves_below(LkvStore::Shard& shard, ValueRef object, const LkvConfig& config) {
    for (ValueRef member : object) {
        const std::size_t mark = shard.path_buffer.size();
        if (mark > 0) {
            shard.path_buffer.push_back('.');
        }
        shard.path_buffer.append(member.key());
        shard.segment_buffer.push_back(member.key());
        if (member.type() == ValueType::object && member.size() > 0) {
            collect_leaves_below(shard, member, config);
        } else {
            const auto id =
                shard.field_id(shard.path_buffer, config.timestamp_suffix, config.max_fields);
            if (id != KeyTable::none) {
                shard.seen[id] = 1;
                shard.updates.push_back({id, member});
            }
        }
        shard.segment_buffer.pop_back();
        shard.path_buffer.resize(mark);
    }
}

void collect_leaves(LkvStore::Shard& shard, ValueRef object, const LkvConfig& config) {
    shard.path_buffer.clear();
    shard.segment_buffer.clear();
    collect_leaves_below(shard, object, config);
}

}  // namespace

Status LkvStore::hydrate(std::string_view payload) {
    Record snapshot;
    if (Status s = transform::parse_json_object(payload, snapshot); !s) {
        return s;
    }
    const ValueRef key = snapshot.root().member("key");
    const ValueRef fields = snapshot.root().member("fields");
    if (!key.valid() || key.type() != ValueType::string || !fields.valid() ||
        fields.type() != ValueType::object) {
        return Status::error("not an lkv snapshot ({\"key\": ..., \"fields\": {...}})");
    }
    const std::uint64_t hash = key_hash(key.as_string());
    Shard& shard = shard_of(hash);
    const auto found = shard.keys.insert(key.as_string(), hash);
    Stored* row = shard.row(found.slot);
    if (found.inserted) {
        for (std::size_t f = 0; f < shard.stride; ++f) {
            row[f].kind = Kind::missing;
        }
        shard.evictions += found.evicted ? 1 : 0;
    }
    for (ValueRef entry : fields) {
        const ValueRef value = entry.member("value");
        const ValueRef time = entry.member("time");
        if (!value.valid() || !time.valid() || time.type() != ValueType::int64) {
            continue;
        }
        std::uint32_t id = KeyTable::none;
        if (auto it = shard.ids.find(entry.key()); it != shard.ids.end()) {
            id = it->second;
        } else if (config_.fields.empty()) {
            auto path = transform::RulePath::parse(entry.key(), false);
            if (!path) {
                continue;
            }
            shard.segment_buffer.clear();
            for (const auto& s : path->segments) {
                shard.segment_buffer.push_back(s.name);
            }
            id = shard.field_id(entry.key(), config_.timestamp_suffix, config_.max_fields);
        }
        if (id == KeyTable::none) {
            continue;  // a field no longer tracked
        }
        Stored& st = row[id];
        if (st.kind == Kind::missing || time.as_int64() >= st.time_ms) {
            st.assign(value, time.as_int64());
        }
    }
    ++hydrated_;
    return Status::ok();
}

std::size_t LkvStore::keys() const noexcept {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        n += s->keys.size();
    }
    return n;
}

std::string LkvStore::describe() const {
    std::string text = "lkv '" + config_.name + "': ";
    if (config_.fields.empty()) {
        text += "every leaf field (at most " + std::to_string(config_.max_fields) + ")";
    } else {
        text += std::to_string(config_.fields.size()) + " field(s)";
    }
    if (config_.fill_missing) {
        text += ", fills missing fields";
    }
    if (!config_.write.empty()) {
        text += ", writes " + std::to_string(config_.write.size()) + " previous value(s)";
    }
    text += ", at most " + std::to_string(config_.max_keys) + " keys over " +
            std::to_string(shards_.size()) + " shard(s)";
    if (config_.persist) {
        text += ", persisted to '" + config_.persist->destination + "' under " +
                config_.persist->topic_prefix + "/<key> every " +
                std::to_string(config_.persist->interval_ms) + " ms";
    }
    return text;
}

std::string LkvStore::state() const {
    std::size_t keys = 0;
    std::uint64_t evicted = 0;
    std::uint64_t snapshots = 0;
    std::uint64_t deferred = 0;
    std::uint64_t refused = 0;
    for (const auto& s : shards_) {
        keys += s->keys.size();
        evicted += s->evictions;
        snapshots += s->snapshots;
        deferred += s->snapshots_deferred;
        refused += s->fields_refused;
    }
    std::string text = "keys: " + std::to_string(keys) + ", evicted: " + std::to_string(evicted);
    if (config_.persist) {
        text += ", snapshots written: " + std::to_string(snapshots) +
                ", deferred (outbox full): " + std::to_string(deferred) +
                ", hydrated at start: " + std::to_string(hydrated_);
    }
    if (config_.fields.empty()) {
        text += ", leaf fields past max_fields: " + std::to_string(refused);
    }
    return text;
}

MemoryBound LkvStore::memory(std::size_t batch_size) const {
    const Shard& first = *shards_.front();
    const std::size_t per_shard = first.keys.capacity();
    const std::uint64_t tables = shards_.size() * KeyTable::reserved_bytes(per_shard);
    const std::uint64_t keys = shards_.size() * per_shard;
    const std::uint64_t row = first.stride * sizeof(Stored) + 1;  // values, dirty flag
    const std::uint64_t undo =
        read_by_rules_ ? shards_.size() * batch_size * first.stride * sizeof(Shard::Undo) : 0;
    return {tables, tables + keys * (KeyTable::assumed_key_bytes + row) + undo,
            std::to_string(keys) + " keys × " + std::to_string(first.stride) +
                " field(s) (max_keys" + (config_.fields.empty() ? ", max_fields" : "") +
                "), text values beyond 15 bytes and objects not counted"};
}

std::unique_ptr<AnyStage> build_lkv_stage(const ConfigNode& block, BuildContext& ctx) {
    auto config = LkvConfig::parse(block, ctx.errors);
    if (config.persist) {
        const int index = ctx.destination(config.persist->destination);
        if (index < 0) {
            ctx.errors.add(*config.persist->node.find("destination"),
                           "the name of a destination (not the dead-letter one)",
                           "\"" + config.persist->destination + "\"");
        } else {
            config.persist->destination_index = static_cast<std::size_t>(index);
            ctx.declare_emitted(static_cast<std::size_t>(index));
        }
    }
    auto store = std::make_shared<LkvStore>(std::move(config), ctx.shards);
    store->set_snapshot_rank(ctx.reserve_emit_ranks(1));
    ctx.section_lkv = store.get();
    ctx.lkv_stores.push_back(store);
    LkvStage stage(std::move(store));
    stage.set_batch_size(ctx.config.runtime.batch_size);
    return make_stage(std::move(stage));
}

}  // namespace edgeflow
