// Reading an expect file of `edgeflow test`. Its lines are envelopes with an optional
// "destination", read with simdjson's DOM (not io's EnvelopeDecoder, which reads engine input:
// that one rejects the "destination" key and decodes into a Message; this keeps each payload as
// a JSON value to canonicalize).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "apps/edgeflow/json_diff.h"
#include "apps/edgeflow/output_diff.h"

namespace edgeflow::app {

using namespace diff;

Result<std::vector<std::vector<ComparedMessage>>> read_expectations(const std::string& path,
                                                                    const ExpectTargets& targets) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::error("cannot open '" + path + "': " + std::strerror(errno));
    }
    const auto names = [&](bool outputs_only) {
        std::string list;
        for (std::size_t i = 0; i < targets.destinations.size(); ++i) {
            if (!outputs_only || !targets.dead_letter[i]) {
                list += (list.empty() ? "" : ", ") + targets.destinations[i];
            }
        }
        return list;
    };
    std::vector<std::vector<ComparedMessage>> expected(targets.destinations.size());
    simdjson::dom::parser parser;
    MessageCanonicalizer canonicalizer;
    std::string problems;
    std::size_t problem_count = 0;
    std::size_t line_number = 0;
    const auto problem = [&](const std::string& what) {
        if (problem_count < max_problems) {
            problems += path + ":" + std::to_string(line_number) + ": " + what + "\n";
        }
        ++problem_count;
    };
    for (std::string line; std::getline(in, line);) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find_first_not_of(" \t") == std::string::npos) {
            continue;
        }
        element document;
        simdjson::dom::object object;
        if (parser.parse(line).get(document) != simdjson::SUCCESS ||
            document.get_object().get(object) != simdjson::SUCCESS) {
            problem(
                "expected one JSON object per line: {\"topic\": ..., \"payload\": ..., "
                "\"properties\": {...}, \"destination\": ...}");
            continue;
        }
        ComparedMessage message;
        message.line = line_number;
        bool have_topic = false;
        bool have_payload = false;
        bool ok = true;
        std::optional<std::string> destination;
        for (auto field : object) {
            const std::string_view key = field.key;
            std::string_view text;
            if (key == "topic") {
                if (field.value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
                    problem("\"topic\" must be a non-empty string");
                    ok = false;
                }
                message.topic.assign(text);
                have_topic = true;
            } else if (key == "payload") {
                append_json(message.payload, field.value, false);
                have_payload = true;
            } else if (key == "payload_base64") {
                problem(
                    "\"payload_base64\" cannot match: destinations receive JSON, so write the "
                    "expected body as \"payload\"");
                ok = false;
                have_payload = true;  // reported: "no payload" would say it again
            } else if (key == "properties") {
                simdjson::dom::object properties;
                if (field.value.get_object().get(properties) != simdjson::SUCCESS) {
                    problem("\"properties\" must be an object of strings");
                    ok = false;
                    continue;
                }
                for (auto property : properties) {
                    if (property.value.get_string().get(text) != simdjson::SUCCESS) {
                        problem("property values must be strings");
                        ok = false;
                        break;
                    }
                    message.properties.emplace_back(std::string(property.key), std::string(text));
                }
            } else if (key == "destination") {
                if (field.value.get_string().get(text) != simdjson::SUCCESS) {
                    problem("\"destination\" must be a destination name");
                    ok = false;
                    continue;
                }
                destination.emplace(text);
            } else {
                problem("unknown key \"" + std::string(key) +
                        "\": expected topic, payload, properties and destination");
                ok = false;
            }
        }
        if (!have_topic) {
            problem("no \"topic\"");
        }
        if (!have_payload) {
            problem("no \"payload\"");
        }
        if (!ok || !have_topic || !have_payload) {
            continue;
        }
        std::size_t index = 0;
        if (destination) {
            const auto at =
                std::find(targets.destinations.begin(), targets.destinations.end(), *destination);
            if (at == targets.destinations.end()) {
                problem("the pipeline has no destination \"" + *destination +
                        "\" (it has: " + names(false) + ")");
                continue;
            }
            index = static_cast<std::size_t>(at - targets.destinations.begin());
            if (targets.only && index != *targets.only) {
                problem("names destination \"" + *destination + "\", but --destination chose \"" +
                        targets.destinations[*targets.only] + "\"");
                continue;
            }
        } else if (targets.default_destination) {
            index = *targets.default_destination;
        } else {
            problem("no \"destination\": the pipeline has several destinations (" + names(true) +
                    "), so each line must name the one it expects, or use --destination");
            continue;
        }
        std::sort(message.properties.begin(), message.properties.end());
        canonicalizer.canonicalize(message);
        expected[index].push_back(std::move(message));
    }
    if (in.bad()) {
        return Status::error("cannot read '" + path + "': " + std::strerror(errno));
    }
    if (problem_count > 0) {
        if (problem_count > max_problems) {
            problems += path + ": … and " + std::to_string(problem_count - max_problems) +
                        " more problem(s)\n";
        }
        problems.pop_back();
        return Status::error(std::move(problems));
    }
    return expected;
}

}  // namespace edgeflow::app
