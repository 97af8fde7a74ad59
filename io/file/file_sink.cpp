#include "io/file/file_sink.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/config/map_reader.h"
#include "core/log.h"
#include "io/envelope.h"

namespace edgeflow {

FileSinkConfig FileSinkConfig::parse(const EndpointConfig& endpoint, ConfigErrors& errors) {
    FileSinkConfig config;
    MapReader reader(endpoint.node, errors, "a file destination");
    mark_destination_keys(reader);
    if (reader.required_string("path", config.path,
                               "the path of the JSON Lines file to write, or -")) {
        config.path = endpoint.resolve_path(config.path);
    }
    reader.optional_bool("append", config.append);
    reader.finish();
    return config;
}

FileSink::FileSink(std::string name, std::size_t index, bool dead_letter, FileSinkConfig config)
    : Sink(std::move(name), index, dead_letter), config_(std::move(config)) {
    line_.reserve(4096);
}

FileSink::~FileSink() {
    static_cast<void>(close());
}

Status FileSink::start(const EngineSignals&) {
    if (config_.path == "-") {
        file_ = stdout;
        return Status::ok();
    }
    const auto parent = std::filesystem::path(config_.path).parent_path();
    std::error_code ignored;  // fopen below reports the real problem if this fails
    if (!parent.empty()) {
        std::filesystem::create_directories(parent, ignored);
    }
    file_ = std::fopen(config_.path.c_str(), config_.append ? "ab" : "wb");
    if (file_ == nullptr) {
        return Status::error("cannot open '" + config_.path +
                             "' for writing: " + std::strerror(errno));
    }
    owns_file_ = true;
    std::setvbuf(file_, nullptr, _IOFBF, 64 * 1024);
    return Status::ok();
}

void FileSink::write(const Batch& batch) noexcept {
    std::uint64_t written = 0;
    std::uint64_t failed = 0;
    for (const Message* message : batch) {
        if (!wants(*message)) {
            continue;
        }
        if (failed_) {
            ++failed;
            continue;
        }
        line_.clear();
        append_envelope(line_, message->destination_topics[index()], message->output, true,
                        {message->properties.data(), message->property_count});
        line_.push_back('\n');
        if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
            log_error("file-sink",
                      name() + ": write to '" + config_.path + "' failed: " + std::strerror(errno));
            failed_ = true;
            ++failed;
            continue;
        }
        ++written;
    }
    if (written > 0 && std::fflush(file_) != 0 && !failed_) {
        log_error("file-sink",
                  name() + ": flush of '" + config_.path + "' failed: " + std::strerror(errno));
        failed_ = true;
    }
    counters.written.fetch_add(written, std::memory_order_relaxed);
    counters.failed.fetch_add(failed, std::memory_order_relaxed);
}

Status FileSink::close() {
    if (file_ == nullptr) {
        return Status::ok();
    }
    Status result;
    if (std::fflush(file_) != 0) {
        result = Status::error("flush of '" + config_.path + "' failed: " + std::strerror(errno));
    }
    if (owns_file_ && std::fclose(file_) != 0 && result) {
        result = Status::error("close of '" + config_.path + "' failed: " + std::strerror(errno));
    }
    file_ = nullptr;
    if (failed_ && result) {
        result = Status::error("some writes to '" + config_.path + "' failed");
    }
    return result;
}

void NullSink::write(const Batch& batch) noexcept {
    std::uint64_t count = 0;
    for (const Message* message : batch) {
        count += wants(*message) ? 1 : 0;
    }
    counters.written.fetch_add(count, std::memory_order_relaxed);
}

}  // namespace edgeflow
