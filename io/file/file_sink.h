// FileSink (kind `file`): writes messages as JSON Lines envelopes.
//
//   - kind: file
//     path: out/enriched.jsonl    # `-` writes to standard output
//     topic: enriched/{topic}     # topic template (see lang/topic_template.h)
//     append: false               # true appends instead of truncating
//
// Each message becomes {"topic": <destination topic>, "payload": <JSON>, "properties": {...}}.
// Writes go through a 64 KiB stdio buffer, flushed after every batch so the file can be tailed,
// and on close. Called only from the engine's egress thread; a write error is logged once and
// every message it affects counted as failed.
#pragma once

#include <cstdio>
#include <string>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"
#include "core/endpoint.h"

namespace edgeflow {

struct FileSinkConfig {
    std::string path;
    bool append = false;

    static FileSinkConfig parse(const EndpointConfig& endpoint, ConfigErrors& errors);
};

class FileSink final : public Sink {
public:
    FileSink(std::string name, std::size_t index, bool dead_letter, FileSinkConfig config);
    ~FileSink() override;

    std::string_view kind() const noexcept override { return "file"; }
    Status start(const EngineSignals& signals) override;
    void write(const Batch& batch) noexcept override;
    Status close() override;
    std::string state() const override { return config_.path == "-" ? "stdout" : config_.path; }

private:
    FileSinkConfig config_;
    std::FILE* file_ = nullptr;
    bool owns_file_ = false;
    bool failed_ = false;
    std::string line_;
};

/// NullSink (kind `null`): counts and discards. For benchmarks and dry runs.
class NullSink final : public Sink {
public:
    NullSink(std::string name, std::size_t index, bool dead_letter)
        : Sink(std::move(name), index, dead_letter) {}
    std::string_view kind() const noexcept override { return "null"; }
    Status start(const EngineSignals&) override { return Status::ok(); }
    void write(const Batch& batch) noexcept override;
    Status close() override { return Status::ok(); }
};

}  // namespace edgeflow
