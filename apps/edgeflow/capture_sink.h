// CaptureSink: the in-memory destination `edgeflow test` puts in place of each of a pipeline's
// destinations. It keeps the destination's name, index and dead-letter role, so the route and
// serialize stages compute its topics and bodies exactly as for the real endpoint, and keeps
// what it receives — topic, body, user properties and the input line it came from — instead
// of writing it anywhere.
//
// Called only from the engine's egress thread; read its messages after Engine::stop(). It keeps
// at most `keep` messages (the expected count plus a margin) and only counts the rest, so a
// pipeline that floods one destination cannot make the test grow without bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/endpoint.h"

namespace edgeflow::app {

struct CapturedMessage {
    std::string topic;
    std::string body;
    std::vector<UserProperty> properties;
    std::uint64_t source_line = 0;  ///< line of the input file (1-based)
};

class CaptureSink final : public Sink {
public:
    CaptureSink(std::string name, std::size_t index, bool dead_letter, std::size_t keep);

    std::string_view kind() const noexcept override { return "capture"; }
    Status start(const EngineSignals&) override { return Status::ok(); }
    void write(const Batch& batch) noexcept override;
    Status close() override { return Status::ok(); }

    /// What was kept, in arrival order; only after the engine stopped.
    std::vector<CapturedMessage> take_messages() noexcept { return std::move(messages_); }
    /// Messages received beyond `keep`: counted, not kept.
    std::uint64_t not_kept() const noexcept { return not_kept_; }

private:
    std::size_t keep_;
    std::vector<CapturedMessage> messages_;
    std::uint64_t not_kept_ = 0;
};

}  // namespace edgeflow::app
