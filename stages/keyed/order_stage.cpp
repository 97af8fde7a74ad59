#include "stages/keyed/order_stage.h"

#include "lang/text/datetime.h"

namespace edgeflow {

OrderStage::OrderStage(const EventTimeConfig& config, std::size_t shards)
    : allowed_lateness_ms_(config.allowed_lateness_ms),
      late_policy_(config.late),
      clock_(config.clock) {
    const std::size_t per_shard = std::max<std::size_t>(1, (config.max_keys + shards - 1) / shards);
    for (std::size_t i = 0; i < shards; ++i) {
        shards_.push_back(std::make_unique<Shard>(per_shard));
    }
}

void OrderStage::begin_batch(Batch& batch) noexcept {
    if (clock_ == ClockMode::wall) {
        batch.clock_ms = dt::now_ms();
        for (Message* m : batch) {
            m->clock_ms = batch.clock_ms;
        }
        return;
    }
    for (Message* m : batch) {
        if (m->live() && m->event_time_ms > watermark_ms_) {
            watermark_ms_ = m->event_time_ms;
        }
        m->clock_ms = watermark_ms_;
    }
    batch.clock_ms = watermark_ms_;
}

void OrderStage::process(Batch& batch, StageContext& ctx) noexcept {
    Shard& shard = *shards_[ctx.shard];
    std::uint64_t in = 0;
    std::uint64_t late = 0;
    for (Message* m : batch) {
        if (!m->live() || !ctx.owns(*m)) {
            continue;
        }
        ++in;
        const auto found = shard.keys.insert(m->key, m->key_hash);
        if (found.slot >= shard.newest.size()) {
            shard.newest.resize(found.slot + 1);
        }
        std::int64_t& newest = shard.newest[found.slot];
        if (found.inserted) {
            newest = m->event_time_ms;
            shard.evictions += found.evicted ? 1 : 0;
        } else if (m->event_time_ms < newest - allowed_lateness_ms_) {
            ++late;
            if (late_policy_ == LatePolicy::dead_letter) {
                m->reject(DeadLetterReason::late_data, kind,
                          "older than its key's newest event time minus allowed_lateness");
            } else {
                m->dropped = true;
            }
            continue;
        } else if (m->event_time_ms > newest) {
            newest = m->event_time_ms;
        }
        shard.keys.touch(found.slot);
    }
    shard.late += late;
    if (late_policy_ == LatePolicy::dead_letter) {
        ctx.counters.add(in, in - late, late);
    } else {
        ctx.counters.add(in, in - late, 0, late);
    }
}

std::uint64_t OrderStage::late() const noexcept {
    std::uint64_t n = 0;
    for (const auto& shard : shards_) {
        n += shard->late;
    }
    return n;
}

std::string OrderStage::describe() const {
    return "event-time order: allowed lateness " + std::to_string(allowed_lateness_ms_) +
           " ms, late data " +
           (late_policy_ == LatePolicy::dead_letter ? "to dead letter" : "dropped") + ", clock " +
           (clock_ == ClockMode::wall ? "wall" : "event time") + ", " +
           std::to_string(shards_.size()) + " shard(s)";
}

std::string OrderStage::state() const {
    std::size_t keys = 0;
    std::uint64_t evictions = 0;
    for (const auto& shard : shards_) {
        keys += shard->keys.size();
        evictions += shard->evictions;
    }
    return "keys: " + std::to_string(keys) + ", late: " + std::to_string(late()) +
           ", evicted keys: " + std::to_string(evictions);
}

MemoryBound OrderStage::memory() const {
    const std::size_t per_shard = shards_.front()->keys.capacity();
    const std::uint64_t tables = shards_.size() * KeyTable::reserved_bytes(per_shard);
    const std::uint64_t keys = shards_.size() * per_shard;
    return {tables, tables + keys * (KeyTable::assumed_key_bytes + sizeof(std::int64_t)),
            std::to_string(keys) + " keys' newest event times (event_time.max_keys)"};
}

}  // namespace edgeflow
