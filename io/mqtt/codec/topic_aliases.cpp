// OutboundTopicAliases: aliases are handed out in first-use order, 1 up to the broker's
// maximum, and never reassigned during a connection, so a topic's alias stays valid until reset.
#include "io/mqtt/codec/codec.h"

namespace edgeflow::mqtt {

void OutboundTopicAliases::reset(std::uint16_t maximum) {
    maximum_ = maximum;
    aliases_.clear();
}

OutboundTopicAliases::Use OutboundTopicAliases::use(std::string_view topic) {
    if (maximum_ == 0 || topic.empty()) {
        return {};
    }
    if (const auto found = aliases_.find(topic); found != aliases_.end()) {
        return {found->second, false};
    }
    if (aliases_.size() >= maximum_) {
        return {};
    }
    const auto alias = static_cast<std::uint16_t>(aliases_.size() + 1);
    aliases_.emplace(std::string(topic), alias);
    return {alias, true};
}

}  // namespace edgeflow::mqtt
