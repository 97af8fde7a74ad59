#include "apps/edgeflow/capture_sink.h"

#include <new>

#include "core/log.h"

namespace edgeflow::app {

CaptureSink::CaptureSink(std::string name, std::size_t index, bool dead_letter, std::size_t keep)
    : Sink(std::move(name), index, dead_letter), keep_(keep) {}

void CaptureSink::write(const Batch& batch) noexcept {
    std::uint64_t written = 0;
    std::uint64_t failed = 0;
    for (const Message* message : batch) {
        if (!wants(*message)) {
            continue;
        }
        ++written;
        if (messages_.size() >= keep_) {
            ++not_kept_;
            continue;
        }
        // write() must not throw; a test run that cannot hold its output fails the comparison
        // through the failed count rather than cancelling the graph.
        try {
            CapturedMessage captured{message->destination_topics[index()],
                                     message->output,
                                     {message->properties.begin(),
                                      message->properties.begin() +
                                          static_cast<std::ptrdiff_t>(message->property_count)},
                                     message->source_line};
            messages_.push_back(std::move(captured));
        } catch (const std::bad_alloc&) {
            --written;
            ++failed;
        }
    }
    if (failed > 0) {
        log_error("capture", name() + ": out of memory keeping the output");
    }
    counters.written.fetch_add(written, std::memory_order_relaxed);
    counters.failed.fetch_add(failed, std::memory_order_relaxed);
}

}  // namespace edgeflow::app
