#include "core/config/runtime_config.h"

#include <charconv>

#include "core/log.h"
#include "core/runtime/cpu_layout.h"

namespace edgeflow {
namespace {

constexpr std::uint64_t max_capacity = std::uint64_t{1} << 24;

// `host:port`, `[v6]:port` or `off`.
void parse_listen(const ConfigNode& node, HttpConfig& http, ConfigErrors& errors) {
    const std::string expected =
        "an address to listen on, host:port (127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464), or off";
    if (!node.is_scalar() || node.scalar.empty()) {
        errors.add(node, expected);
        return;
    }
    const std::string& text = node.scalar;
    // Quoted or not: a YAML-cautious user writes "off" so that it stays a string.
    if (text == "off") {
        http.enabled = false;
        return;
    }
    const auto colon = text.rfind(':');
    std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = 0;
    const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
        errors.add(node, expected);
        return;
    }
    http.host = host;
    http.port = port;
    http.explicit_listen = true;
}

// ---- Readers and writers the rows share -----------------------------------------------------

// `auto` (the cgroup's limit), `none`, or bytes: a whole number with an optional K, M, G or T
// suffix (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), as Kubernetes writes them.
void read_memory_limit(MapReader& reader, std::string_view key, RuntimeConfig& r,
                       ConfigErrors& errors) {
    const ConfigNode* node = reader.get(key);
    if (node == nullptr) {
        return;
    }
    const std::string expected =
        "auto, none, or a size in bytes such as 2Gi or 512Mi (at least 1Mi)";
    if (!node->is_scalar()) {
        errors.add(*node, expected);
        return;
    }
    const std::string& text = node->scalar;
    if (text == "auto" || text == "none") {
        r.memory_limit = 0;
        r.memory_limit_auto = text == "auto";
        return;
    }
    std::size_t digits = 0;
    std::uint64_t value = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9' && digits < 16) {
        value = value * 10 + static_cast<std::uint64_t>(text[digits] - '0');
        ++digits;
    }
    static constexpr std::pair<std::string_view, std::uint64_t> suffixes[] = {
        {"", 1},
        {"K", 1000ULL},
        {"M", 1000ULL * 1000},
        {"G", 1000ULL * 1000 * 1000},
        {"T", 1000ULL * 1000 * 1000 * 1000},
        {"Ki", 1ULL << 10},
        {"Mi", 1ULL << 20},
        {"Gi", 1ULL << 30},
        {"Ti", 1ULL << 40}};
    const std::string_view suffix = std::string_view(text).substr(digits);
    for (const auto& [name, scale] : suffixes) {
        if (digits > 0 && suffix == name && value <= (std::uint64_t{1} << 50) / scale * 1024 &&
            value * scale >= (1ULL << 20)) {
            r.memory_limit = value * scale;
            r.memory_limit_auto = false;
            return;
        }
    }
    errors.add(*node, expected, "\"" + text + "\"");
}

std::string write_memory_limit(const RuntimeConfig& r) {
    if (r.memory_limit > 0) {
        return std::to_string(r.memory_limit);
    }
    return r.memory_limit_auto ? std::string() : std::string("none");
}

template <auto Field, std::uint64_t Min, std::uint64_t Max>
void read_uint(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_uint(key, r.*Field, Min, Max);
}

// A number where 0 means `auto` (workers, shards).
template <auto Field, std::uint64_t Min, std::uint64_t Max>
void read_uint_or_auto(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_uint(key, r.*Field, Min, Max, "auto", 0);
}

template <auto Field>
std::string write_uint(const RuntimeConfig& r) {
    return std::to_string(r.*Field);
}

template <auto Field>
std::string write_uint_or_auto(const RuntimeConfig& r) {
    return r.*Field == 0 ? std::string("auto") : std::to_string(r.*Field);
}

// A number where 0 means "as the workers say" and the file has no word for it: left out.
template <auto Field>
std::string write_uint_unless_zero(const RuntimeConfig& r) {
    return r.*Field == 0 ? std::string() : std::to_string(r.*Field);
}

template <auto Field>
void read_cpus(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors& errors) {
    if (const ConfigNode* node = reader.get(key)) {
        parse_cpu_spec(*node, r.*Field, errors);
    }
}

template <auto Field>
std::string write_cpus(const RuntimeConfig& r) {
    const CpuSpec& spec = r.*Field;
    if (spec.automatic) {
        return "auto";
    }
    std::string out = "[";
    for (std::size_t i = 0; i < spec.cpus.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(spec.cpus[i]);
    }
    return out + "]";
}

void read_pin(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_bool(key, r.pin);
}

std::string write_pin(const RuntimeConfig& r) {
    return r.pin ? "true" : "false";
}

void read_siblings(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_choice(
        key, r.siblings, {{"apart", SiblingPolicy::apart}, {"together", SiblingPolicy::together}});
}

std::string write_siblings(const RuntimeConfig& r) {
    return std::string(to_string(r.siblings));
}

void read_idle(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_choice(key, r.idle,
                           {{"spin", IdleStrategy::spin},
                            {"yield", IdleStrategy::yield},
                            {"block", IdleStrategy::block}});
}

std::string write_idle(const RuntimeConfig& r) {
    return std::string(to_string(r.idle));
}

void read_log_level(MapReader& reader, std::string_view key, RuntimeConfig& r,
                    ConfigErrors& errors) {
    if (const ConfigNode* level = reader.get(key)) {
        if (level->is_scalar() && !level->quoted && parse_log_level(level->scalar)) {
            r.log_level = level->scalar;
        } else {
            errors.add(*level, "one of debug info warn error off");
        }
    }
}

std::string write_log_level(const RuntimeConfig& r) {
    return r.log_level;
}

void read_listen(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors& errors) {
    if (const ConfigNode* listen = reader.get(key)) {
        parse_listen(*listen, r.http, errors);
    }
}

std::string write_listen(const RuntimeConfig& r) {
    if (!r.http.enabled) {
        return "off";
    }
    if (!r.http.explicit_listen) {
        return {};  // the default address, not written in the file: a busy port is not fatal
    }
    const bool v6 = r.http.host.find(':') != std::string::npos;
    return "\"" + (v6 ? "[" + r.http.host + "]" : r.http.host) + ":" + std::to_string(r.http.port) +
           "\"";
}

void read_ingest_capacity(MapReader& reader, std::string_view key, RuntimeConfig& r,
                          ConfigErrors&) {
    reader.optional_uint(key, r.ingest_queue.capacity, 1, max_capacity);
}

std::string write_ingest_capacity(const RuntimeConfig& r) {
    return std::to_string(r.ingest_queue.capacity);
}

void read_when_full(MapReader& reader, std::string_view key, RuntimeConfig& r, ConfigErrors&) {
    reader.optional_choice(
        key, r.ingest_queue.when_full,
        {{"block", FullPolicy::block}, {"drop_oldest", FullPolicy::drop_oldest}});
}

std::string write_when_full(const RuntimeConfig& r) {
    return r.ingest_queue.when_full == FullPolicy::block ? "block" : "drop_oldest";
}

void read_egress_capacity(MapReader& reader, std::string_view key, RuntimeConfig& r,
                          ConfigErrors&) {
    reader.optional_uint(key, r.egress_queue.capacity, 1, max_capacity);
}

std::string write_egress_capacity(const RuntimeConfig& r) {
    return std::to_string(r.egress_queue.capacity);
}

using R = RuntimeConfig;

// The order is the order errors are reported in and keys are written in.
constexpr RuntimeKey keys[] = {
    {"", "workers", read_uint_or_auto<&R::workers, 1, 256>, write_uint_or_auto<&R::workers>, "3"},
    {"", "cpus", read_cpus<&R::cpus>, write_cpus<&R::cpus>, "[0]"},
    {"", "io_cpus", read_cpus<&R::io_cpus>, write_cpus<&R::io_cpus>, "[0]"},
    {"", "pin", read_pin, write_pin, "true"},
    {"", "siblings", read_siblings, write_siblings, "together"},
    {"", "idle", read_idle, write_idle, "spin"},
    {"", "spin_us", read_uint<&R::spin_us, 0, 1'000'000>, write_uint<&R::spin_us>, "7"},
    {"", "log_level", read_log_level, write_log_level, "debug"},
    {"http", "listen", read_listen, write_listen, "\"127.0.0.1:9999\""},
    {"", "batch_size", read_uint<&R::batch_size, 1, 4096>, write_uint<&R::batch_size>, "16"},
    {"", "max_in_flight_batches", read_uint<&R::max_in_flight_batches, 1, 4096>,
     write_uint_unless_zero<&R::max_in_flight_batches>, "5"},
    {"", "max_payload_bytes", read_uint<&R::max_payload_bytes, 16, 256u << 20>,
     write_uint<&R::max_payload_bytes>, "4096"},
    {"", "shards", read_uint_or_auto<&R::shards, 1, 1024>, write_uint_or_auto<&R::shards>, "3"},
    {"", "max_emitted_per_batch", read_uint<&R::max_emitted_per_batch, 1, 65536>,
     write_uint<&R::max_emitted_per_batch>, "100"},
    {"", "memory_limit", read_memory_limit, write_memory_limit, "512Mi"},
    {"", "inline_batch", read_uint<&R::inline_batch, 0, 4096>, write_uint<&R::inline_batch>, "0"},
    {"ingest_queue", "capacity", read_ingest_capacity, write_ingest_capacity, "100"},
    {"ingest_queue", "when_full", read_when_full, write_when_full, "drop_oldest"},
    {"egress_queue", "capacity", read_egress_capacity, write_egress_capacity, "100"},
};

// What a nested block is called in its errors.
std::string_view block_description(std::string_view block) {
    return block == "http" ? "the http block" : block;
}

}  // namespace

std::span<const RuntimeKey> runtime_keys() noexcept {
    return keys;
}

void parse_runtime(const ConfigNode& node, RuntimeConfig& runtime, ConfigErrors& errors) {
    MapReader reader(node, errors, "the runtime block");
    for (std::size_t i = 0; i < std::size(keys); ++i) {
        const RuntimeKey& row = keys[i];
        if (row.block.empty()) {
            row.read(reader, row.key, runtime, errors);
            continue;
        }
        // A nested block is read where its first key stands, all its keys together.
        if (i > 0 && keys[i - 1].block == row.block) {
            continue;
        }
        if (const ConfigNode* block = reader.get(row.block)) {
            MapReader nested(*block, errors, std::string(block_description(row.block)));
            for (std::size_t j = i; j < std::size(keys) && keys[j].block == row.block; ++j) {
                keys[j].read(nested, keys[j].key, runtime, errors);
            }
            nested.finish();
        }
    }
    reader.finish();
}

std::string write_runtime_yaml(const RuntimeConfig& runtime) {
    std::string out = "runtime:\n";
    std::string_view open_block;
    for (const RuntimeKey& row : keys) {
        const std::string value = row.write(runtime);
        if (value.empty()) {
            continue;
        }
        if (row.block.empty()) {
            out.append("  ").append(row.key).append(": ").append(value).append("\n");
            open_block = {};
            continue;
        }
        if (row.block != open_block) {
            out.append("  ").append(row.block).append(":\n");
            open_block = row.block;
        }
        out.append("    ").append(row.key).append(": ").append(value).append("\n");
    }
    return out;
}

std::string_view to_string(IdleStrategy idle) noexcept {
    switch (idle) {
        case IdleStrategy::spin:
            return "spin";
        case IdleStrategy::yield:
            return "yield";
        case IdleStrategy::block:
            return "block";
    }
    return "block";
}

std::string_view to_string(SiblingPolicy siblings) noexcept {
    return siblings == SiblingPolicy::together ? "together" : "apart";
}

void parse_cpu_spec(const ConfigNode& node, CpuSpec& out, ConfigErrors& errors) {
    const std::string expected = "auto, or CPU numbers and ranges such as [0, 2-3] or \"0-3,6\"";
    if (node.is_scalar() && node.scalar == "auto" && !node.quoted) {
        out = CpuSpec{};
        return;
    }
    std::string text;
    if (node.is_scalar()) {
        text = node.scalar;
    } else if (node.is_sequence() && !node.items.empty()) {
        for (const auto& item : node.items) {
            if (!item.is_scalar() || item.scalar.find(',') != std::string::npos ||
                !parse_cpu_list(item.scalar)) {
                errors.add(item, "a CPU number or a range such as 2-3");
                return;
            }
            text += (text.empty() ? "" : ",") + item.scalar;
        }
    } else {
        errors.add(node, expected);
        return;
    }
    auto cpus = parse_cpu_list(text);
    if (!cpus) {
        errors.add(node, expected);
        return;
    }
    out.automatic = false;
    out.cpus = std::move(*cpus);
}

}  // namespace edgeflow
