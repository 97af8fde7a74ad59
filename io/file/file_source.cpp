#include "io/file/file_source.h"

#include <pthread.h>

#include <chrono>

#include "core/config/map_reader.h"
#include "core/log.h"
#include "io/envelope.h"
#include "io/file/line_reader.h"

namespace edgeflow {
namespace {

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

bool blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Envelope framing adds a little around the payload; allow for it in the line limit.
constexpr std::size_t envelope_overhead = 64 * 1024;

}  // namespace

FileSourceConfig FileSourceConfig::parse(const EndpointConfig& endpoint, ConfigErrors& errors) {
    FileSourceConfig config;
    MapReader reader(endpoint.node, errors, "a file source");
    mark_source_keys(reader);
    if (reader.required_string("path", config.path, "the path of a JSON Lines file")) {
        config.path = endpoint.resolve_path(config.path);
    }
    reader.optional_choice("format", config.format,
                           {{"envelope", Format::envelope}, {"payload", Format::payload}});
    reader.optional_string("topic", config.topic, "an MQTT topic");
    reader.optional_double("rate", config.rate, 0, 1e9);
    reader.optional_bool("loop", config.loop);
    if (config.format == Format::payload && config.topic.empty() && reader.ok()) {
        errors.missing(endpoint.node, "topic", "the topic given to each line (format: payload)");
    }
    if (config.format == Format::envelope && !config.topic.empty()) {
        errors.add(*endpoint.node.find("topic"),
                   "no topic with format: envelope (each line carries its own)",
                   "\"" + config.topic + "\"");
    }
    if (!config.topic.empty() && config.topic.find_first_of("+#") != std::string::npos) {
        errors.add(*endpoint.node.find("topic"), "a topic without wildcards",
                   "\"" + config.topic + "\"");
    }
    reader.finish();
    return config;
}

FileSource::FileSource(std::string name, std::uint32_t index, FileSourceConfig config,
                       std::size_t max_payload_bytes)
    : Source(std::move(name)),
      config_(std::move(config)),
      index_(index),
      max_payload_bytes_(max_payload_bytes) {}

FileSource::~FileSource() {
    stop();
}

Status FileSource::start(IngestPort& port) {
    // Opened here so that a missing file fails start-up, not the thread.
    reader_ = std::make_unique<LineReader>(max_payload_bytes_ + envelope_overhead);
    if (auto status = reader_->open(config_.path); !status) {
        return status;
    }
    thread_ = std::thread([this, &port] { run(port); });
    const std::string thread_name = "ef-file-" + std::to_string(index_);
    pthread_setname_np(thread_.native_handle(), thread_name.c_str());
    return Status::ok();
}

void FileSource::stop() noexcept {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void FileSource::fail(std::string error) {
    log_error("file-source", name() + ": " + error);
    std::lock_guard lock(error_mutex_);
    error_ = std::move(error);
}

std::string FileSource::state() const {
    {
        std::lock_guard lock(error_mutex_);
        if (!error_.empty()) {
            return error_;
        }
    }
    if (config_.loop) {
        return "looping, pass " + std::to_string(passes_.load() + 1);
    }
    return exhausted_ ? "end of file" : "reading";
}

void FileSource::run(IngestPort& port) {
    LineReader& reader = *reader_;
    EnvelopeDecoder decoder(max_payload_bytes_ + envelope_overhead);
    const auto start = std::chrono::steady_clock::now();
    const double interval_ns = config_.rate > 0 ? 1e9 / config_.rate : 0;
    std::uint64_t sent = 0;
    std::uint64_t sent_this_pass = 0;
    std::string_view line;
    bool truncated = false;

    while (!stopping_.load(std::memory_order_relaxed)) {
        if (!reader.next(line, truncated)) {
            if (!config_.loop) {
                break;
            }
            if (sent_this_pass == 0) {
                fail("no messages in '" + config_.path + "' to loop over");
                break;
            }
            reader.rewind();
            passes_.fetch_add(1, std::memory_order_relaxed);
            sent_this_pass = 0;
            continue;
        }
        if (!truncated && blank(line)) {
            continue;
        }
        if (interval_ns > 0) {
            const auto due =
                start + std::chrono::nanoseconds(static_cast<std::int64_t>(sent * interval_ns));
            while (!stopping_.load(std::memory_order_relaxed) &&
                   std::chrono::steady_clock::now() < due) {
                const auto left = due - std::chrono::steady_clock::now();
                std::this_thread::sleep_for(
                    std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(50)));
            }
        }
        Message* message = port.acquire();
        if (message == nullptr) {
            break;
        }
        message->source = index_;
        message->source_line = reader.line_number();
        message->ingest_ns = now_ns();
        std::string_view why;
        bool ok = !truncated;
        if (truncated) {
            why = "line is longer than runtime.max_payload_bytes allows";
        } else if (config_.format == FileSourceConfig::Format::envelope) {
            ok = decoder.decode(line, *message, why);
        } else {
            message->topic.assign(config_.topic);
            assign_padded(message->payload, line);
        }
        if (!ok) {
            // Keep what was read, so the dead-letter record shows the offending line; it has
            // no topic of its own.
            message->topic.clear();
            message->property_count = 0;
            assign_padded(message->payload, line.substr(0, max_payload_bytes_));
            message->reject(DeadLetterReason::invalid_envelope, "source", why);
            counters.rejected.fetch_add(1, std::memory_order_relaxed);
        }
        port.submit(message);
        counters.received.fetch_add(1, std::memory_order_relaxed);
        ++sent;
        ++sent_this_pass;
    }
    exhausted_ = true;
}

}  // namespace edgeflow
