// FileSource (kind `file`): replays a JSON Lines file into the pipeline.
//
//   - kind: file
//     path: examples/factory/telemetry.jsonl
//     format: envelope        # envelope (default): {"topic", "payload", "properties"} per line
//                             # payload: each line is a bare payload published on `topic`
//     topic: plant/line1/t    # required with format: payload
//     rate: 0                 # messages per second on an open-loop schedule; 0 = full speed
//     loop: false             # start again at the end (a load generator); else stop at EOF
//
// Runs one thread (`ef-file-N`). Blank lines are skipped. A line that is not a readable
// envelope, or longer than the largest allowed payload, is sent on as a dead letter with the
// reason and line number, and counted as rejected. With `rate`, message i is due at
// start + i / rate; a late reader catches up rather than drifting.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/config/config_errors.h"
#include "core/config/pipeline_config.h"
#include "core/endpoint.h"
#include "io/file/line_reader.h"

namespace edgeflow {

struct FileSourceConfig {
    enum class Format { envelope, payload };
    std::string path;
    Format format = Format::envelope;
    std::string topic;
    double rate = 0;
    bool loop = false;

    static FileSourceConfig parse(const EndpointConfig& endpoint, ConfigErrors& errors);
};

class FileSource final : public Source {
public:
    FileSource(std::string name, std::uint32_t index, FileSourceConfig config,
               std::size_t max_payload_bytes);
    ~FileSource() override;

    std::string_view kind() const noexcept override { return "file"; }
    Status start(IngestPort& port) override;
    void stop() noexcept override;
    bool finite() const noexcept override { return !config_.loop; }
    bool exhausted() const noexcept override { return exhausted_.load(); }
    std::string state() const override;

private:
    void run(IngestPort& port);
    void fail(std::string error);

    FileSourceConfig config_;
    std::uint32_t index_;
    std::size_t max_payload_bytes_;
    std::unique_ptr<LineReader> reader_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> exhausted_{false};
    std::atomic<std::uint64_t> passes_{0};
    mutable std::mutex error_mutex_;
    std::string error_;
};

}  // namespace edgeflow
