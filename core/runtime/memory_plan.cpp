#include "core/runtime/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace edgeflow {
namespace {

// An event's record and its serialized text: a few hundred bytes each for the documented
// event record; counted generously.
constexpr std::uint64_t event_bytes = 1024;

std::optional<std::uint64_t> read_limit(const char* path) {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text) || text == "max") {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    // cgroup v1 writes "no limit" as a huge page-rounded number.
    if (value == 0 || value >= (std::uint64_t{1} << 62)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::size_t engine_egress_batches(const PipelineConfig& config) {
    const auto batch = config.runtime.batch_size;
    return std::max<std::size_t>(1, (config.runtime.egress_queue.capacity + batch - 1) / batch);
}

std::size_t engine_batches(const PipelineConfig& config) {
    return config.effective_in_flight_batches() + engine_egress_batches(config);
}

std::size_t engine_messages(const PipelineConfig& config, std::size_t sources) {
    return config.runtime.ingest_queue.capacity +
           engine_batches(config) * config.runtime.batch_size + sources + 1;
}

std::optional<std::uint64_t> cgroup_memory_limit() {
    if (auto v2 = read_limit("/sys/fs/cgroup/memory.max")) {
        return v2;
    }
    return read_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
}

MemoryBudget memory_budget(const RuntimeConfig& runtime) {
    if (runtime.memory_limit > 0) {
        return {runtime.memory_limit, "runtime.memory_limit"};
    }
    if (runtime.memory_limit_auto) {
        if (auto limit = cgroup_memory_limit()) {
            return {limit, "the cgroup limit"};
        }
    }
    return {};
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    if (unit == 0) {
        std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    } else {
        std::snprintf(text, sizeof text, value < 10 ? "%.2f %s" : "%.1f %s", value, units[unit]);
    }
    return text;
}

MemoryPlan MemoryPlan::of(const PipelineConfig& config,
                          const std::vector<std::unique_ptr<AnyStage>>& stages,
                          std::size_t sources) {
    MemoryPlan plan;
    const RuntimeConfig& runtime = config.runtime;
    const std::uint64_t destinations = config.destinations.size();
    const std::uint64_t message_bytes = sizeof(Message) + destinations * sizeof(std::string);
    // Payload, output and record buffers keep up to retained_capacity between uses.
    const std::uint64_t kept_bytes =
        3 * std::min<std::uint64_t>(runtime.max_payload_bytes, Message::retained_capacity);

    const std::uint64_t messages = engine_messages(config, sources);
    plan.items.push_back({"message pool: " + std::to_string(messages) + " messages of " +
                              format_bytes(message_bytes) + ", each keeping buffers of up to " +
                              format_bytes(kept_bytes),
                          messages * message_bytes, messages * (message_bytes + kept_bytes)});

    const std::uint64_t batches = engine_batches(config);
    const std::uint64_t batch_bytes =
        runtime.batch_size * (sizeof(Message*) + sizeof(PendingAck)) + sizeof(Batch);
    plan.items.push_back({"batches: " + std::to_string(batches) + " of " +
                              std::to_string(runtime.batch_size) + " messages",
                          batches * batch_bytes, batches * batch_bytes});

    const bool sharded = std::any_of(stages.begin(), stages.end(), [](const auto& stage) {
        return stage->shape() == StageShape::sharded;
    });
    if (sharded) {
        const std::uint64_t shards = config.effective_shards();
        const std::uint64_t room = batches * shards * runtime.max_emitted_per_batch;
        plan.items.push_back({"emitted-event room: " + std::to_string(batches) + " batches × " +
                                  std::to_string(shards) + " shard(s) × " +
                                  std::to_string(runtime.max_emitted_per_batch) +
                                  " (runtime.max_emitted_per_batch), allocated as it is used",
                              0, room * (message_bytes + event_bytes + sizeof(Message*))});
    }
    for (const auto& stage : stages) {
        const MemoryBound bound = stage->memory();
        if (bound.at_start == 0 && bound.at_most == 0) {
            continue;
        }
        const std::string name = stage->name.empty()
                                     ? std::string(stage->kind())
                                     : std::string(stage->kind()) + " '" + stage->name + "'";
        plan.items.push_back({name + ": " + bound.what, bound.at_start, bound.at_most});
    }
    for (const Item& item : plan.items) {
        plan.at_start += item.at_start;
        plan.at_most += item.at_most;
    }
    return plan;
}

std::vector<std::string> MemoryPlan::describe() const {
    std::vector<std::string> lines;
    for (const Item& item : items) {
        lines.push_back(item.what + " — " + format_bytes(item.at_start) + " at start, up to " +
                        format_bytes(item.at_most));
    }
    return lines;
}

}  // namespace edgeflow
