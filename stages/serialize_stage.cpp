#include "stages/serialize_stage.h"

#include <simdjson.h>

#include "core/json_writer.h"

namespace edgeflow {

SerializeStage::SerializeStage(std::optional<DeadLetterTarget> dead_letter,
                               std::vector<std::string> source_names,
                               std::shared_ptr<DeadLetterCounts> counts)
    : dead_letter_(std::move(dead_letter)),
      source_names_(std::move(source_names)),
      counts_(std::move(counts)) {}

void SerializeStage::write_dead_letter(Message& message) const noexcept {
    counts_->by_reason[static_cast<std::size_t>(message.dead_letter)].fetch_add(
        1, std::memory_order_relaxed);
    if (!dead_letter_) {
        counts_->discarded.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    std::string_view why;
    auto& topic = message.destination_topics[dead_letter_->destination];
    TopicNameProblem problem;
    if (message.topic.empty() || !dead_letter_->topic.render(message, topic, why) ||
        !check_topic_name(topic, problem)) {
        // Only input-topic parts are allowed here, but a message may have no topic (an
        // unreadable file line), fewer levels than `{topic.N}` asks for, or a topic no broker
        // takes (the dead letter of a topic_invalid one, through `{topic}`).
        topic.assign(fallback_topic);
    }
    std::string& out = message.output;
    out.clear();
    out.append("{\"reason\":");
    json::append_string(out, to_string(message.dead_letter));
    out.append(",\"stage\":");
    json::append_string(out, message.dead_letter_stage);
    out.append(",\"detail\":");
    json::append_string(out, message.dead_letter_detail);
    out.append(",\"source\":");
    json::append_string(out, message.source < source_names_.size()
                                 ? std::string_view(source_names_[message.source])
                                 : std::string_view("unknown"));
    out.append(",\"source_topic\":");
    json::append_string(out, message.topic);
    if (message.source_line > 0) {
        out.append(",\"source_line\":");
        json::append_uint(out, message.source_line);
    }
    json::append_properties_member(out, message.property_count, [&](std::size_t i) {
        return std::pair<std::string_view, std::string_view>(message.properties[i].key,
                                                             message.properties[i].value);
    });
    if (message.emitted) {
        // An event or snapshot a stage built: it has no input bytes, only its record.
        out.append(",\"emitted\":");
        json::append_record(out, message.record);
    } else if (simdjson::validate_utf8(message.payload.data(), message.payload.size())) {
        out.append(",\"payload\":");
        json::append_string(out, message.payload);
    } else {
        out.append(",\"payload_base64\":\"");
        json::append_base64(out, message.payload);
        out.push_back('"');
    }
    out.push_back('}');
}

void SerializeStage::process(Batch& batch, StageContext& ctx) noexcept {
    std::uint64_t in = 0;
    for (Message* message : batch) {
        if (message->dead()) {
            write_dead_letter(*message);
            continue;
        }
        if (message->dropped) {
            continue;
        }
        ++in;
        message->output.clear();
        json::append_record(message->output, message->record);
    }
    ctx.counters.add(in, in, 0);
}

}  // namespace edgeflow
