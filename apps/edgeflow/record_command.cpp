#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/edgeflow/commands.h"
#include "core/log.h"
#include "io/envelope.h"
#include "io/mqtt/mqtt_config.h"
#include "io/mqtt/mqtt_connection.h"

namespace edgeflow::app {

namespace {
constexpr const char* record_help =
    R"(Usage: edgeflow record --broker URI --topic FILTER [--topic FILTER ...] -o OUT.jsonl
                       [--count N] [--seconds S] [--qos 0|1] [--protocol 5|3.1.1]
                       [--client-id ID] [--username USER --password-file FILE]
                       [--ca-file FILE] [--log-level LEVEL]

Subscribes to MQTT topics and writes every message received, in arrival order, as one JSON
Lines envelope per line — the format a file source replays and `edgeflow test --input` reads:

  {"topic": "plant/line1/t", "payload": {"temperature": 24.9}, "properties": {"k": "v"}}

A payload that is one JSON value (other than a string) is written as that value, compacted;
any other payload as a JSON string, or as "payload_base64" when it is not UTF-8. MQTT 5 user
properties are kept under "properties".

Stops after --count messages, after --seconds, or on SIGINT or SIGTERM, whichever comes first;
then flushes the file and prints on standard error how many messages it recorded.

Options:
  --broker URI          tcp://host[:port] or mqtt:// (plain, port 1883), ssl://host[:port] or
                        mqtts:// (TLS, port 8883)
  --topic FILTER        topic filter to subscribe to (+ and # wildcards); repeat for more
  -o, --output FILE     the file to write (truncated first), or - for standard output
  --count N             stop after N messages
  --seconds S           stop S seconds after the subscription is in place (fractions allowed)
  --qos 0|1             subscription QoS (default 1)
  --protocol 5|3.1.1    MQTT version (default 5; 3.1.1 has no user properties)
  --client-id ID        MQTT client identifier (default edgeflow-record-<pid>)
  --username USER       user name to connect with
  --password-file FILE  file holding the password (trailing newlines removed); needs --username
  --ca-file FILE        CA certificates (PEM) to verify a TLS broker with (default: the
                        system's)
  --log-level LEVEL     debug, info, warn, error or off (default warn); logs are JSON lines on
                        stderr
  -h, --help            this help

Exit codes: 0 recorded until a stop condition, 1 the broker could not be reached or refused the
connection or subscription, or the output could not be written, 2 bad arguments (including an
output or password file that cannot be opened).
)";

// How often buffered output is flushed, so a file being recorded can be followed.
constexpr auto flush_interval = std::chrono::milliseconds(200);
// Output buffer: many messages per write(2).
constexpr std::size_t output_buffer_bytes = 1 << 20;

struct RecordOptions {
    std::string broker;
    std::vector<std::string> topics;
    std::string output;
    std::uint64_t count = 0;
    double seconds = 0;
    int qos = 1;
    int protocol = 5;
    std::string client_id;
    std::string username;
    std::string password_file;
    std::string ca_file;
    std::string_view log_level;
    bool help = false;
};

bool fail(const std::string& message) {
    std::fprintf(stderr, "edgeflow record: %s\n", message.c_str());
    return false;
}

bool parse_record_options(std::span<const std::string_view> args, RecordOptions& options) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view name = args[i];
        std::string_view value;
        bool inline_value = false;
        if (const auto eq = name.find('=');
            name.starts_with("--") && eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        if (name == "-h" || name == "--help") {
            options.help = true;
            continue;
        }
        static constexpr std::string_view known[] = {
            "--broker",        "--topic",   "-o",         "--output",    "--count",
            "--seconds",       "--qos",     "--protocol", "--client-id", "--username",
            "--password-file", "--ca-file", "--log-level"};
        if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
            return fail("unknown argument '" + std::string(args[i]) + "' (see --help)");
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) {
                return fail(std::string(name) + " needs a value");
            }
            value = args[++i];
        }
        const std::string text(value);
        if (name == "--broker") {
            options.broker = text;
        } else if (name == "--topic") {
            if (auto why = check_topic_filter(text); !why.empty()) {
                return fail("--topic '" + text + "' is not a topic filter: " + why);
            }
            options.topics.push_back(text);
        } else if (name == "-o" || name == "--output") {
            options.output = text;
        } else if (name == "--count") {
            char* end = nullptr;
            errno = 0;
            const auto n = std::strtoull(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || errno != 0 || n == 0 || text[0] == '-') {
                return fail("--count must be a whole number from 1, not '" + text + "'");
            }
            options.count = n;
        } else if (name == "--seconds") {
            char* end = nullptr;
            const double s = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !(s > 0) || s > 1e9) {
                return fail("--seconds must be a number of seconds above 0, not '" + text + "'");
            }
            options.seconds = s;
        } else if (name == "--qos") {
            if (text != "0" && text != "1") {
                return fail("--qos must be 0 or 1, not '" + text + "'");
            }
            options.qos = text == "1" ? 1 : 0;
        } else if (name == "--protocol") {
            if (text == "5") {
                options.protocol = 5;
            } else if (text == "3.1.1" || text == "4") {
                options.protocol = 4;
            } else {
                return fail("--protocol must be 5 or 3.1.1, not '" + text + "'");
            }
        } else if (name == "--client-id") {
            options.client_id = text;
        } else if (name == "--username") {
            options.username = text;
        } else if (name == "--password-file") {
            options.password_file = text;
        } else if (name == "--ca-file") {
            options.ca_file = text;
        } else if (name == "--log-level") {
            options.log_level = value;
        }
    }
    if (options.help) {
        return true;
    }
    if (options.broker.empty()) {
        return fail("--broker URI is required (see --help)");
    }
    if (options.topics.empty()) {
        return fail("at least one --topic FILTER is required (see --help)");
    }
    if (options.output.empty()) {
        return fail("-o FILE is required (- for standard output; see --help)");
    }
    if (!options.password_file.empty() && options.username.empty()) {
        return fail("--password-file needs --username");
    }
    return true;
}

/// Receives on the connection's thread and appends each message to the output.
class Recorder final : public MqttHandler {
public:
    Recorder(std::FILE* out, std::vector<std::string> topics, int qos, std::uint64_t limit)
        : out_(out), topics_(std::move(topics)), qos_(qos), limit_(limit) {
        line_.reserve(4096);
    }

    Status on_connected(MqttConnection& connection) override {
        auto status = connection.subscribe(topics_, qos_);
        if (!status) {
            std::lock_guard lock(mutex_);
            subscribe_error_ = status.message();
        } else {
            subscribed_.store(true, std::memory_order_release);
        }
        return status;
    }

    Taken on_message(const mqtt::PublishView& message, std::uint64_t) override {
        if (done_.load(std::memory_order_relaxed)) {
            return Taken::acknowledge;
        }
        const std::string_view payload = message.payload;
        property_count_ = 0;
        mqtt::for_each_user_property(message.user_properties, [&](mqtt::UserPropertyView p) {
            if (property_count_ == properties_.size()) {
                properties_.emplace_back();
            }
            properties_[property_count_].key.assign(p.key);
            properties_[property_count_].value.assign(p.value);
            ++property_count_;
        });
        line_.clear();
        const std::string_view json = as_json(payload);
        append_envelope(line_, message.topic, json.data() != nullptr ? json : payload,
                        json.data() != nullptr, {properties_.data(), property_count_});
        line_.push_back('\n');
        if (std::fwrite(line_.data(), 1, line_.size(), out_) != line_.size()) {
            std::lock_guard lock(mutex_);
            if (write_error_.empty()) {
                write_error_ = std::strerror(errno);
            }
            done_.store(true, std::memory_order_release);
            return Taken::acknowledge;
        }
        const auto recorded = recorded_.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (limit_ > 0 && recorded >= limit_) {
            done_.store(true, std::memory_order_release);
        }
        return Taken::acknowledge;
    }

    bool subscribed() const noexcept { return subscribed_.load(std::memory_order_acquire); }
    bool done() const noexcept { return done_.load(std::memory_order_acquire); }
    std::uint64_t recorded() const noexcept { return recorded_.load(std::memory_order_acquire); }
    std::string subscribe_error() const {
        std::lock_guard lock(mutex_);
        return subscribe_error_;
    }
    std::string write_error() const {
        std::lock_guard lock(mutex_);
        return write_error_;
    }

private:
    /// The payload as compact JSON text when it is one JSON value other than a string, else a
    /// null view. A JSON string stays a string in the envelope: embedded as a value, `"a"` would
    /// read back as the body a, without its quotes.
    std::string_view as_json(std::string_view payload) {
        simdjson::dom::element document;
        if (parser_.parse(payload.data(), payload.size()).get(document) != simdjson::SUCCESS ||
            document.type() == simdjson::dom::element_type::STRING) {
            return {};
        }
        // Whitespace outside strings goes: a JSON Lines file cannot hold a line break.
        compact_.resize(payload.size());
        std::size_t length = 0;
        if (simdjson::minify(payload.data(), payload.size(), compact_.data(), length) !=
            simdjson::SUCCESS) {
            return {};
        }
        return {compact_.data(), length};
    }

    std::FILE* out_;
    std::vector<std::string> topics_;
    int qos_;
    std::uint64_t limit_;
    simdjson::dom::parser parser_;
    std::string compact_;
    std::string line_;
    std::vector<UserProperty> properties_;
    std::size_t property_count_ = 0;
    std::atomic<bool> subscribed_{false};
    std::atomic<bool> done_{false};
    std::atomic<std::uint64_t> recorded_{0};
    mutable std::mutex mutex_;
    std::string subscribe_error_;
    std::string write_error_;
};

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) {
        text += (text.empty() ? "" : ", ") + item;
    }
    return text;
}

}  // namespace

int record_command(std::span<const std::string_view> args) {
    RecordOptions options;
    if (!parse_record_options(args, options)) {
        return 2;
    }
    if (options.help) {
        std::fputs(record_help, stdout);
        return 0;
    }
    std::optional<LogLevel> chosen_level;
    if (!options.log_level.empty()) {
        chosen_level = parse_log_level(options.log_level);
        if (!chosen_level) {
            fail("--log-level must be debug, info, warn, error or off");
            return 2;
        }
    }

    MqttConfig config;
    config.broker = options.broker;
    const auto scheme_end = config.broker.find("://");
    const std::string scheme =
        scheme_end == std::string::npos ? "" : config.broker.substr(0, scheme_end);
    if (scheme == "ssl" || scheme == "mqtts") {
        config.tls.enabled = true;
    } else if (scheme != "tcp" && scheme != "mqtt") {
        fail("--broker must start tcp://, mqtt://, ssl:// or mqtts://, not '" + config.broker +
             "'");
        return 2;
    }
    if (!options.ca_file.empty()) {
        if (!config.tls.enabled) {
            fail("--ca-file needs an ssl:// or mqtts:// broker");
            return 2;
        }
        config.tls.ca_file = options.ca_file;
    }
    config.client_id = options.client_id.empty() ? "edgeflow-record-" + std::to_string(::getpid())
                                                 : options.client_id;
    config.protocol = options.protocol;
    config.qos = options.qos;
    config.username = options.username;
    config.topics = options.topics;
    if (!options.password_file.empty()) {
        std::ifstream in(options.password_file);
        if (!in) {
            fail("cannot read --password-file '" + options.password_file + "'");
            return 2;
        }
        std::stringstream text;
        text << in.rdbuf();
        config.password = text.str();
        while (!config.password.empty() &&
               (config.password.back() == '\n' || config.password.back() == '\r')) {
            config.password.pop_back();
        }
    }

    const bool to_stdout = options.output == "-";
    std::FILE* out = to_stdout ? stdout : std::fopen(options.output.c_str(), "wb");
    if (out == nullptr) {
        fail("cannot open '" + options.output + "' for writing: " + std::strerror(errno));
        return 2;
    }
    std::setvbuf(out, nullptr, _IOFBF, output_buffer_bytes);
    const std::string out_name = to_stdout ? "standard output" : options.output;

    // Block the stop signals before the connection's thread starts, so it inherits the mask
    // and only this thread receives them (through sigtimedwait).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // The connection retries on its own and logs each failure; while connecting, this command
    // reports the first failure itself instead.
    set_log_level(chosen_level.value_or(LogLevel::off));

    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reconnects{0};
    Recorder recorder(out, options.topics, options.qos, options.count);
    MqttConnection connection("record", config, disconnects, reconnects);
    const auto close_output = [&] {
        bool ok = std::fflush(out) == 0;
        if (!to_stdout) {
            ok = std::fclose(out) == 0 && ok;
        }
        return ok;
    };
    if (auto status = connection.start(recorder); !status) {
        fail(status.message());
        close_output();
        return 2;
    }

    const timespec poll{0, 50'000'000};
    const auto connect_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config.connect_timeout + 1);
    std::string stop_reason;
    std::string failure;
    while (!recorder.subscribed()) {
        const int signal = sigtimedwait(&stop_signals, nullptr, &poll);
        if (signal == SIGINT || signal == SIGTERM) {
            stop_reason = signal == SIGINT ? "SIGINT" : "SIGTERM";
            break;
        }
        if (auto error = recorder.subscribe_error(); !error.empty()) {
            failure = config.broker + ": " + error;
            break;
        }
        if (auto error = connection.last_error(); !error.empty()) {
            failure = "cannot connect to " + config.broker + ": " + error;
            break;
        }
        if (std::chrono::steady_clock::now() > connect_deadline) {
            failure = "no answer from " + config.broker + " within " +
                      std::to_string(config.connect_timeout) + " s";
            // The connection's thread may be inside a TCP connect that only the kernel's
            // timeout ends (a host that drops packets): do not wait minutes to join it.
            fail(failure);
            close_output();
            std::_Exit(1);
        }
    }
    if (!failure.empty()) {
        connection.stop();
        fail(failure);
        close_output();
        return 1;
    }

    if (stop_reason.empty()) {
        set_log_level(chosen_level.value_or(LogLevel::warn));
        std::fprintf(stderr, "edgeflow record: subscribed to %s on %s; recording to %s\n",
                     joined(options.topics).c_str(), config.broker.c_str(), out_name.c_str());
        const auto started = std::chrono::steady_clock::now();
        const auto until =
            started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(options.seconds));
        auto last_flush = started;
        while (true) {
            const int signal = sigtimedwait(&stop_signals, nullptr, &poll);
            if (signal == SIGINT || signal == SIGTERM) {
                stop_reason = signal == SIGINT ? "SIGINT" : "SIGTERM";
                break;
            }
            if (recorder.done()) {
                stop_reason = recorder.write_error().empty() ? "count reached" : "write failed";
                break;
            }
            const auto now = std::chrono::steady_clock::now();
            if (options.seconds > 0 && now >= until) {
                stop_reason = "time limit reached";
                break;
            }
            if (now - last_flush >= flush_interval) {
                // stdio locks the stream, so this may run while the connection thread writes.
                std::fflush(out);
                last_flush = now;
            }
        }
    }
    connection.stop();
    const bool closed = close_output();
    const auto recorded = recorder.recorded();
    std::fprintf(stderr, "edgeflow record: recorded %llu message(s) to %s (%s)\n",
                 static_cast<unsigned long long>(recorded), out_name.c_str(), stop_reason.c_str());
    if (auto error = recorder.write_error(); !error.empty() || !closed) {
        fail("writing " + out_name + " failed: " + (error.empty() ? std::strerror(errno) : error));
        return 1;
    }
    return 0;
}

}  // namespace edgeflow::app
