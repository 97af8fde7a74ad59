#include "core/message.h"

namespace edgeflow {

std::string_view to_string(DeadLetterReason reason) noexcept {
    switch (reason) {
        case DeadLetterReason::none:
            return "none";
        case DeadLetterReason::payload_too_large:
            return "payload_too_large";
        case DeadLetterReason::invalid_json:
            return "invalid_json";
        case DeadLetterReason::topic_unresolved:
            return "topic_unresolved";
        case DeadLetterReason::invalid_envelope:
            return "invalid_envelope";
        case DeadLetterReason::transform_error:
            return "transform_error";
        case DeadLetterReason::filter_error:
            return "filter_error";
        case DeadLetterReason::key_missing:
            return "key_missing";
        case DeadLetterReason::event_time_invalid:
            return "event_time_invalid";
        case DeadLetterReason::late_data:
            return "late_data";
        case DeadLetterReason::topic_invalid:
            return "topic_invalid";
        case DeadLetterReason::publish_refused:
            return "publish_refused";
    }
    return "unknown";
}

}  // namespace edgeflow
