// Source and Sink: the two ends of a pipeline, implemented by io/ kinds (mqtt, file, null).
//
// A Source delivers messages into the engine through an IngestPort, from a thread of its own
// (file) or its connection's event-loop thread (MQTT). A Sink receives whole batches in
// dispatch order, one batch at a time: from the engine's egress thread, or from a source's
// thread running a burst to completion (never both at once), and picks out the messages meant
// for it.
// Virtual calls here are per batch or per lifecycle step, never per message inside the graph.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/counters.h"
#include "core/message.h"
#include "core/metrics/metrics_writer.h"
#include "core/runtime/readiness.h"
#include "core/status.h"

namespace edgeflow {

/// How a source hands messages to the engine. Safe to call from any number of source threads.
class IngestPort {
public:
    virtual ~IngestPort() = default;
    /// A clean message to fill, after waiting for room in the ingest queue as the queue's
    /// full-policy says. Returns nullptr only when the engine is aborting.
    virtual Message* acquire() noexcept = 0;
    /// Queues a filled message (from acquire) for the flow graph.
    virtual void submit(Message* message) noexcept = 0;
    /// Returns an acquired message that will not be submitted.
    virtual void give_back(Message* message) noexcept = 0;
    /// Hands over the messages a source read in one burst (acquired, filled, in arrival order).
    /// The engine may run a small burst to completion on the calling thread, through the stages
    /// and into the destinations, when nothing else is in flight; otherwise each is submitted.
    /// Either way the engine owns them afterwards.
    virtual void submit_burst(std::span<Message* const> messages) noexcept {
        for (Message* message : messages) {
            submit(message);
        }
    }
    /// The most messages submit_burst() may run to completion at once (0: it never does), so a
    /// source holds back no more than that before handing them over.
    virtual std::size_t burst_limit() const noexcept { return 0; }
};

struct SourceCounters {
    std::atomic<std::uint64_t> received{0};  ///< submitted to the engine
    std::atomic<std::uint64_t> rejected{0};  ///< unreadable input the source could not frame
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reconnects{0};
};

class Source {
public:
    virtual ~Source() = default;
    virtual std::string_view kind() const noexcept = 0;
    const std::string& name() const noexcept { return name_; }
    /// Begins delivering. Fails when the source cannot start (file missing, bad TLS files...).
    virtual Status start(IngestPort& port) = 0;
    /// Stops taking new input, at the start of a graceful stop, while what it delivered is
    /// still on its way through the engine: its acknowledgements (acknowledge) can still reach
    /// the broker. When it returns, no thread will call the port again. By default, stop().
    virtual void pause() noexcept { stop(); }
    /// Stops delivering; when it returns, no thread will call the port again.
    virtual void stop() noexcept = 0;
    /// Everything the messages with these tokens produced is safe (Message::ack_token): the
    /// source may now acknowledge them. Called once per delivered batch, from whichever thread
    /// completed its delivery (the egress thread, a source's thread, a destination's
    /// connection), in no particular order between batches; any time until stop() returns.
    virtual void acknowledge(std::span<const PendingAck> acks) noexcept { static_cast<void>(acks); }
    /// True for a source that ends by itself (a file without loop).
    virtual bool finite() const noexcept = 0;
    /// True once a finite source has delivered everything it will.
    virtual bool exhausted() const noexcept = 0;
    /// One line for the summary, e.g. "connected" or "eof after 500 lines".
    virtual std::string state() const { return {}; }
    /// Adds the conditions this source needs before the pipeline is ready (an MQTT source:
    /// connected, subscribed) and keeps them up to date. Called once, before start().
    virtual void add_readiness(Readiness& readiness) { static_cast<void>(readiness); }
    /// Adds kind-specific metrics (connection state...) to a scrape, from the HTTP thread.
    virtual void metrics(MetricsWriter& writer) const { static_cast<void>(writer); }

    SourceCounters counters;

protected:
    explicit Source(std::string name) : name_(std::move(name)) {}

private:
    std::string name_;
};

/// What the engine tells sinks about the rest of the pipeline while it runs.
struct EngineSignals {
    /// Set when the engine begins a graceful stop: sinks that cannot deliver give up after
    /// their drain timeout instead of waiting for ever.
    std::atomic<bool> stopping{false};
};

struct SinkCounters {
    std::atomic<std::uint64_t> written{0};  ///< handed to the file or broker
    std::atomic<std::uint64_t> failed{0};   ///< could not be written (and were logged)
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reconnects{0};
};

class Sink {
public:
    virtual ~Sink() = default;
    virtual std::string_view kind() const noexcept = 0;
    const std::string& name() const noexcept { return name_; }
    /// Opens the file or connects; called before any source starts. `signals` outlives the sink.
    virtual Status start(const EngineSignals& signals) = 0;
    /// Writes the batch's messages meant for this destination: live messages for an output,
    /// dead ones for the dead-letter destination. Topic: message.destination_topics[index];
    /// body: message.output. May block (backpressure), never throws. An output that is safe
    /// only later (a publish awaiting its broker's acknowledgement) holds the batch
    /// (Batch::hold) until then; one safe when write() returns (a file) needs nothing.
    virtual void write(const Batch& batch) noexcept = 0;
    /// Flushes and closes, waiting for acknowledgements still outstanding.
    virtual Status close() = 0;
    virtual std::string state() const { return {}; }
    /// Adds the conditions this destination needs before the pipeline is ready (an MQTT
    /// destination: connected). Called once, before start().
    virtual void add_readiness(Readiness& readiness) { static_cast<void>(readiness); }
    /// Adds kind-specific metrics (connection state, publishes in flight) to a scrape, from
    /// the HTTP thread.
    virtual void metrics(MetricsWriter& writer) const { static_cast<void>(writer); }

    SinkCounters counters;

protected:
    Sink(std::string name, std::size_t index, bool dead_letter)
        : name_(std::move(name)), index_(index), dead_letter_(dead_letter) {}

    /// Whether `message` goes to this destination, as the route stage decided.
    bool wants(const Message& message) const noexcept { return message.routed_to(index_); }
    std::size_t index() const noexcept { return index_; }
    bool dead_letter() const noexcept { return dead_letter_; }

private:
    std::string name_;
    std::size_t index_;
    bool dead_letter_;
};

}  // namespace edgeflow
