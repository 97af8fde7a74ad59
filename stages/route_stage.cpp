#include "stages/route_stage.h"

#include <charconv>

namespace edgeflow {
namespace {

// A topic MQTT does not allow would make the broker refuse the publish or close the connection
// on it (and the publish would be sent again on every reconnect): it is rejected here instead.
// The detail names the problem and where it is, never the topic itself (it may be 64 KiB).
bool reject_invalid(Message& message, std::string_view topic, std::string_view kind) noexcept {
    TopicNameProblem problem;
    if (check_topic_name(topic, problem)) {
        return false;
    }
    char at[40] = "";
    std::size_t at_size = 0;
    if (problem.offset != TopicNameProblem::nowhere) {
        constexpr std::string_view prefix = " at byte ";
        prefix.copy(at, prefix.size());
        at_size = static_cast<std::size_t>(
            std::to_chars(at + prefix.size(), at + sizeof at, problem.offset).ptr - at);
    }
    char code[16] = "";
    std::size_t code_size = 0;
    if (problem.has_code_point) {
        // U+0009: four hex digits at least, as Unicode writes them.
        char hex[8];
        const auto hex_end = std::to_chars(hex, hex + sizeof hex, problem.code_point, 16).ptr;
        const auto digits = static_cast<std::size_t>(hex_end - hex);
        code[0] = ' ';
        code[1] = 'U';
        code[2] = '+';
        code_size = 3;
        for (std::size_t pad = digits; pad < 4; ++pad) {
            code[code_size++] = '0';
        }
        for (std::size_t i = 0; i < digits; ++i) {
            const char c = hex[i];
            code[code_size++] = c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c;
        }
    }
    char size[24];
    const auto size_end = std::to_chars(size, size + sizeof size, topic.size()).ptr;
    message.reject_with(DeadLetterReason::topic_invalid, kind, "the destination topic (",
                        std::string_view(size, static_cast<std::size_t>(size_end - size)),
                        " bytes) ", problem.what, std::string_view(code, code_size),
                        std::string_view(at, at_size));
    message.routes = 0;
    return true;
}

}  // namespace

Outcome RouteStage::route(Message& message) const noexcept {
    message.routes = 0;
    for (const auto& target : targets_) {
        if (message.target != Message::all_destinations) {
            if (static_cast<std::size_t>(message.target) != target.destination) {
                continue;
            }
            if (message.output_topic_set) {
                message.destination_topics[target.destination].assign(message.output_topic);
                if (reject_invalid(message, message.output_topic, kind)) {
                    message.routes = dead_letter_routes_;
                    return Outcome::rejected;
                }
                message.routes |= std::uint64_t{1} << target.destination;
                continue;
            }
        } else if (target.emitted_only) {
            continue;
        }
        std::string_view why;
        if (!target.topic.render(message, message.destination_topics[target.destination], why)) {
            message.reject(DeadLetterReason::topic_unresolved, kind, why);
            message.routes = dead_letter_routes_;
            return Outcome::rejected;
        }
        if (reject_invalid(message, message.destination_topics[target.destination], kind)) {
            message.routes = dead_letter_routes_;
            return Outcome::rejected;
        }
        message.routes |= std::uint64_t{1} << target.destination;
    }
    return Outcome::kept;
}

void RouteStage::process(Batch& batch, StageContext& ctx) noexcept {
    for (Message* message : batch) {
        if (message->dead()) {
            message->routes = dead_letter_routes_;  // emitted ones too: nothing is lost
        } else if (message->dropped) {
            message->routes = 0;
        }
    }
    for_each_live(batch, ctx, [this](Message& message) { return route(message); });
}

}  // namespace edgeflow
