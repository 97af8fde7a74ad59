// Message: one MQTT-shaped message on its way through the engine, from a source to the sinks.
//
// Messages live in a MessagePool (core/runtime/message_pool.h) and are reused: every buffer here
// keeps its capacity from one use to the next, so a warm engine fills and drains messages without
// allocating. A message is owned by exactly one thread at a time: the source that fills it,
// the graph worker processing its batch, then the egress thread that hands it to the sinks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "core/record.h"

namespace edgeflow {

/// Why a message left the normal path for the dead-letter destination.
enum class DeadLetterReason : std::uint8_t {
    none,
    payload_too_large,
    invalid_json,
    topic_unresolved,
    invalid_envelope,    ///< a file line that is not a readable envelope
    transform_error,     ///< a map rule could not be evaluated (detail names the rule and path)
    filter_error,        ///< a filter rule had a missing input or a non-boolean result
    key_missing,         ///< the partition key could not be computed (missing or not a scalar)
    event_time_invalid,  ///< the event-time field is missing or not a timestamp
    late_data,           ///< older than its key's newest event time minus allowed_lateness
    topic_invalid,       ///< a destination topic MQTT does not allow (wildcard, control char...)
    publish_refused,     ///< a destination's broker refused the publish, or closed on it
};

/// Stable snake_case name of a reason, used in dead-letter records and summaries.
std::string_view to_string(DeadLetterReason reason) noexcept;
inline constexpr std::size_t dead_letter_reason_count = 12;
static_assert(dead_letter_reason_count <= max_dead_letter_reasons);

struct UserProperty {
    std::string key;
    std::string value;
};

struct Message {
    // Filled by the source.
    std::string topic;
    std::string payload;  ///< raw bytes as received
    std::vector<UserProperty> properties;
    std::size_t property_count = 0;  ///< properties[0, property_count) are in use
    std::uint64_t ingest_ns = 0;     ///< steady-clock time the source received it
    std::uint32_t source = 0;        ///< index of the source in the pipeline
    std::uint64_t source_line = 0;   ///< line in a file source (1-based), 0 when not from a file
    std::uint8_t qos = 0;
    std::string content_type;  ///< MQTT v5 content type; empty when none
    /// MQTT v5 Message Expiry Interval as received, seconds; none when the message never expires.
    std::optional<std::uint32_t> message_expiry_s;
    /// Set by a source that acknowledges this message only once everything it produced is safe
    /// (an MQTT QoS 1 source): `ack_token` goes back to Source::acknowledge then.
    bool ack_pending = false;
    std::uint64_t ack_token = 0;

    // Filled by the stages.
    Record record;
    DeadLetterReason dead_letter = DeadLetterReason::none;
    std::string_view dead_letter_stage;           ///< stage that rejected it (static storage)
    std::string_view dead_letter_detail;          ///< static or config-owned text
    std::string output;                           ///< serialized payload for the sinks
    std::vector<std::string> destination_topics;  ///< one per destination, by index
    std::string output_topic;                     ///< topic a transform wrote to $metadata.topic
    bool output_topic_set = false;                ///< whether output_topic holds a value
    bool dropped = false;                         ///< removed by a filter: goes to no destination
    /// Destinations this message goes to, one bit per destination index (set by the route
    /// stage, the one place routing is decided; sinks only read it).
    std::uint64_t routes = 0;
    std::string detail_buffer;  ///< per-message dead-letter detail (dead_letter_detail)

    // Filled by the partition stage, for the stateful stages (lkv, heuristics).
    std::string key;                 ///< partition key as text
    std::uint64_t key_hash = 0;      ///< hash of `key`; the shard is key_hash % shards
    std::int64_t event_time_ms = 0;  ///< event time (or arrival time), epoch milliseconds
    std::int64_t clock_ms = 0;       ///< processing time the stateful stages saw it at

    // Messages a stateful stage emits (events, state snapshots) live in their Batch, not the
    // pool; they go only to the destination `target` names.
    static constexpr std::int32_t all_destinations = -1;
    std::int32_t target = all_destinations;
    bool emitted = false;       ///< owned by a Batch (see Batch::emit)
    std::uint32_t trigger = 0;  ///< emitted: position in the batch of the message that caused it
    /// Emitted: orders what one trigger caused, independently of shards — the emitting stage's
    /// and rule's place in the pipeline, timers before what the message itself raised.
    std::uint32_t emit_rank = 0;
    /// Set in emit_rank for what a message raised itself, so that at one trigger the timers
    /// that came due before the message come out first.
    static constexpr std::uint32_t raised_by_message = 1U << 31;
    std::uint64_t emit_sequence = 0;  ///< emitted: (shard << 32) | place in the shard's outbox

    bool dead() const noexcept { return dead_letter != DeadLetterReason::none; }
    /// Still on the normal path: neither rejected nor filtered out.
    bool live() const noexcept { return !dead() && !dropped; }
    /// Whether the route stage sent this message to destination `index`.
    bool routed_to(std::size_t index) const noexcept { return ((routes >> index) & 1U) != 0; }

    void reject(DeadLetterReason reason, std::string_view stage, std::string_view detail) noexcept {
        dead_letter = reason;
        dead_letter_stage = stage;
        dead_letter_detail = detail;
    }

    /// Rejects with a detail built for this message: the parts are joined into detail_buffer
    /// (which keeps its capacity, so a warm message does not allocate for it).
    template <typename... Parts>
    void reject_with(DeadLetterReason reason, std::string_view stage, const Parts&... parts) {
        detail_buffer.clear();
        (detail_buffer.append(parts), ...);
        reject(reason, stage, detail_buffer);
    }

    /// Appends a user property, reusing a slot (and its string capacity) when one is free.
    void add_property(std::string_view name, std::string_view value) {
        if (property_count == properties.size()) {
            properties.emplace_back();
        }
        properties[property_count].key.assign(name);
        properties[property_count].value.assign(value);
        ++property_count;
    }

    /// Buffers larger than this are released on reset rather than kept warm, so one burst of
    /// huge payloads does not pin memory in every pooled message.
    static constexpr std::size_t retained_capacity = 16 * 1024;

    /// Returns the message to its empty state, keeping buffer capacity up to retained_capacity.
    void reset() noexcept {
        if (payload.capacity() > retained_capacity) {
            std::string().swap(payload);
        }
        if (output.capacity() > retained_capacity) {
            std::string().swap(output);
        }
        record.shrink_if_larger(retained_capacity);
        topic.clear();
        payload.clear();
        property_count = 0;
        ingest_ns = 0;
        source = 0;
        source_line = 0;
        qos = 0;
        content_type.clear();
        message_expiry_s.reset();
        ack_pending = false;
        ack_token = 0;
        record.clear();
        dead_letter = DeadLetterReason::none;
        dead_letter_stage = {};
        dead_letter_detail = {};
        output.clear();
        output_topic.clear();
        output_topic_set = false;
        dropped = false;
        routes = 0;
        detail_buffer.clear();
        key.clear();
        key_hash = 0;
        event_time_ms = 0;
        clock_ms = 0;
        target = all_destinations;
        trigger = 0;
        emit_rank = 0;
        emit_sequence = 0;
        for (auto& t : destination_topics) {
            t.clear();
        }
    }
};

}  // namespace edgeflow
