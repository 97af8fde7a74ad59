#include "aio/dataflow_resource.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <initializer_list>
#include <map>

#include "core/config/map_reader.h"

namespace edgeflow {
namespace {

constexpr std::string_view aio_group = "connectivity.iotoperations.azure.com/";
constexpr std::string_view aio_api = "connectivity.iotoperations.azure.com/v1";
constexpr std::string_view edgeflow_api = "edgeflow/v1";
constexpr std::string_view annotation_prefix = "edgeflow.io/";

enum class DocKind { dataflow, dataflow_endpoint, endpoint, dataset };
enum class Role { source, destination, dead_letter };

std::string_view role_word(Role role) {
    switch (role) {
        case Role::source:
            return "source";
        case Role::destination:
            return "destination";
        case Role::dead_letter:
            return "dead-letter";
    }
    return "endpoint";
}

std::string quote(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Native nodes made here stand at the position (and key path) of the node they come from, so a
// problem the native parsers find in them is reported where the user can fix it.
ConfigNode scalar_at(const ConfigNode& at, std::string text, bool quoted = true) {
    ConfigNode node;
    node.kind = ConfigNode::Kind::scalar;
    node.scalar = std::move(text);
    node.quoted = quoted;
    node.line = at.line;
    node.column = at.column;
    node.path = at.path;
    node.file = at.file;
    return node;
}

ConfigNode container_at(const ConfigNode& at, ConfigNode::Kind kind) {
    ConfigNode node;
    node.kind = kind;
    node.line = at.line;
    node.column = at.column;
    node.path = at.path;
    node.file = at.file;
    return node;
}

void put(ConfigNode& map, std::string key, ConfigNode value) {
    for (auto& [name, existing] : map.members) {
        if (name == key) {
            existing = std::move(value);
            return;
        }
    }
    map.members.emplace_back(std::move(key), std::move(value));
}

void erase(ConfigNode& map, std::string_view key) {
    std::erase_if(map.members, [&](const auto& member) { return member.first == key; });
}

// `node` without the keys `keys`, for a MapReader that reports those keys separately.
ConfigNode without(const ConfigNode& node, std::initializer_list<std::string_view> keys) {
    ConfigNode copy = node;
    for (auto key : keys) {
        erase(copy, key);
    }
    return copy;
}

// Where the key of a member is written (its value may start on a later line).
ConfigNode key_of(const ConfigNode& value) {
    ConfigNode at = value;
    if (value.key_line > 0) {
        at.line = value.key_line;
        at.column = value.key_column;
    }
    return at;
}

struct Doc {
    const ConfigNode* root = nullptr;
    DocKind kind = DocKind::endpoint;
    std::string name;
    const ConfigNode* name_node = nullptr;
};

struct Operation {
    const ConfigNode* node = nullptr;
    const ConfigNode* type = nullptr;
    const ConfigNode* settings = nullptr;
    std::string name;
    const ConfigNode* name_node = nullptr;
};

// A native endpoint map and what it is.
struct NativeEndpoint {
    ConfigNode node;
    std::string kind;    ///< mqtt or file
    std::string format;  ///< file sources: envelope or payload
};

class Converter {
public:
    explicit Converter(ConfigErrors& errors) : errors_(errors) {}

    std::optional<DataflowPipeline> run(const std::vector<ConfigNode>& documents,
                                        const std::vector<ConfigNode>& endpoint_documents);

private:
    void classify(const ConfigNode& document, bool endpoints_file);
    void note(const ConfigNode& at, std::string text);
    std::optional<std::string> choice(const ConfigNode& node,
                                      std::initializer_list<std::string_view> values);
    std::map<std::string, const ConfigNode*> annotations(
        const Doc& doc, std::initializer_list<std::string_view> known);
    ConfigNode file_path(const ConfigNode& node) const;
    const Doc* find(std::string_view name, bool dataset) const;
    std::string where_documents_are() const;

    void read_operations(const ConfigNode& list);
    NativeEndpoint endpoint(const ConfigNode& ref, Role role, const std::string& name);
    NativeEndpoint placeholder(const ConfigNode& ref) const;
    NativeEndpoint local_broker(const ConfigNode& ref, Role role);
    NativeEndpoint aio_endpoint(const Doc& doc, Role role, const ConfigNode& ref);
    NativeEndpoint edgeflow_endpoint(const Doc& doc, Role role);
    void mqtt_defaults(ConfigNode& out, const ConfigNode& at, Role role) const;
    ConfigNode source(const Operation& op);
    ConfigNode destination(const Operation& op);
    std::optional<ConfigNode> dead_letter();
    std::optional<ConfigNode> transformation(const Operation& op);
    std::optional<ConfigNode> rules(const ConfigNode* list, bool is_map);
    std::optional<ConfigNode> bindings(const ConfigNode& list);
    void inputs_note(const ConfigNode& rule);

    ConfigErrors& errors_;
    std::vector<ConfigNote> notes_;
    std::vector<Doc> docs_;
    std::optional<Doc> flow_;
    bool saw_dataflow_ = false;
    std::string endpoints_file_;  ///< the --endpoints file, when there is one
    std::map<std::string, const ConfigNode*> flow_annotations_;

    std::vector<std::string> seen_types_;  ///< operationTypes written, valid or not
    std::optional<Operation> source_;
    std::optional<Operation> transformation_;
    std::optional<Operation> destination_;
    std::vector<const ConfigNode*> as_source_;       ///< endpoint documents the source uses
    std::vector<const ConfigNode*> as_destination_;  ///< ... the destinations use
    ConfigNode datasets_ = container_at(ConfigNode{}, ConfigNode::Kind::map);
};

void Converter::note(const ConfigNode& at, std::string text) {
    ConfigNote n{errors_.file_name(at.file), at.line, at.column, at.path, std::move(text)};
    const auto same = [&](const ConfigNote& o) {
        return o.file == n.file && o.line == n.line && o.column == n.column && o.text == n.text;
    };
    if (std::find_if(notes_.begin(), notes_.end(), same) == notes_.end()) {
        notes_.push_back(std::move(n));
    }
}

// An enum field: one of `values`, case-sensitive as the AIO resource definitions are.
std::optional<std::string> Converter::choice(const ConfigNode& node,
                                             std::initializer_list<std::string_view> values) {
    if (node.is_scalar()) {
        for (auto value : values) {
            if (node.scalar == value) {
                return std::string(value);
            }
        }
    }
    std::string expected = values.size() == 1 ? "" : "one of";
    for (auto value : values) {
        expected += expected.empty() ? "" : " ";
        expected += value;
    }
    std::string found = node.describe();
    for (auto value : values) {
        if (node.is_scalar() && iequals(node.scalar, value)) {
            found += " (values are case-sensitive: " + std::string(value) +
                     "; lowercase values are the v1beta1 spelling)";
        }
    }
    errors_.add(node, expected, found);
    return std::nullopt;
}

std::map<std::string, const ConfigNode*> Converter::annotations(
    const Doc& doc, std::initializer_list<std::string_view> known) {
    std::map<std::string, const ConfigNode*> out;
    const ConfigNode* metadata = doc.root->find("metadata");
    const ConfigNode* list = metadata != nullptr ? metadata->find("annotations") : nullptr;
    if (list == nullptr) {
        return out;
    }
    if (!list->is_map()) {
        errors_.add(*list, "a map of annotations");
        return out;
    }
    for (const auto& [key, value] : list->members) {
        // Annotations of other tools are theirs; only edgeflow's own are checked.
        if (!key.starts_with(annotation_prefix)) {
            continue;
        }
        const std::string name = key.substr(annotation_prefix.size());
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string expected = "one of the edgeflow annotations of this resource:";
            for (auto k : known) {
                expected += " " + std::string(annotation_prefix) + std::string(k);
            }
            if (known.size() == 0) {
                expected = "no edgeflow annotation on this kind of resource";
            }
            errors_.add(key_of(value), expected, "unknown annotation " + quote(key));
            continue;
        }
        if (!value.is_scalar() || value.scalar.empty()) {
            errors_.add(value, "text");
            continue;
        }
        out.emplace(name, &value);
    }
    return out;
}

// The native parsers take a relative path from the directory of the pipeline file; a path
// written in another file (the --endpoints file) is made absolute from that file's directory.
ConfigNode Converter::file_path(const ConfigNode& node) const {
    ConfigNode out = node;
    if (node.file != 0 && node.is_scalar() && !node.scalar.empty() && node.scalar != "-" &&
        node.scalar.front() != '/') {
        const auto path =
            std::filesystem::path(errors_.file_name(node.file)).parent_path() / node.scalar;
        std::error_code ec;
        const auto absolute = std::filesystem::absolute(path, ec);
        out.scalar = (ec ? path : absolute).lexically_normal().string();
    }
    return out;
}

const Doc* Converter::find(std::string_view name, bool dataset) const {
    for (const Doc& doc : docs_) {
        if (doc.name == name && (doc.kind == DocKind::dataset) == dataset) {
            return &doc;
        }
    }
    return nullptr;
}

std::string Converter::where_documents_are() const {
    return endpoints_file_.empty() ? errors_.file() : errors_.file() + " or " + endpoints_file_;
}

void Converter::classify(const ConfigNode& document, bool endpoints_file) {
    const ConfigNode* kind = document.find("kind");
    const ConfigNode* api = document.find("apiVersion");
    constexpr std::string_view kinds =
        "Dataflow or DataflowEndpoint (apiVersion connectivity.iotoperations.azure.com/v1), or "
        "Endpoint or Dataset (apiVersion edgeflow/v1)";
    if (kind == nullptr) {
        errors_.missing(document, "kind", "the kind of resource: " + std::string(kinds));
        return;
    }
    DocKind doc_kind = DocKind::dataflow;
    std::string_view want_api = aio_api;
    if (kind->is_scalar() && kind->scalar == "Dataflow") {
        doc_kind = DocKind::dataflow;
        saw_dataflow_ = true;
    } else if (kind->is_scalar() && kind->scalar == "DataflowEndpoint") {
        doc_kind = DocKind::dataflow_endpoint;
    } else if (kind->is_scalar() && kind->scalar == "Endpoint") {
        doc_kind = DocKind::endpoint;
        want_api = edgeflow_api;
    } else if (kind->is_scalar() && kind->scalar == "Dataset") {
        doc_kind = DocKind::dataset;
        want_api = edgeflow_api;
    } else {
        std::string found = kind->describe();
        if (kind->is_scalar() && kind->scalar == "DataflowProfile") {
            found +=
                ": edgeflow runs one data flow per process, so profiles and their instance "
                "counts do not apply; remove it";
        } else if (kind->is_scalar() && kind->scalar == "DataflowGraph") {
            found += ": data flow graphs are not supported";
        }
        errors_.add(*kind, std::string(kinds), found);
        return;
    }
    if (api == nullptr) {
        errors_.missing(document, "apiVersion", std::string(want_api));
        return;
    }
    if (!api->is_scalar() || api->scalar != want_api) {
        std::string found = api->describe();
        if (want_api == aio_api && api->is_scalar() && api->scalar.starts_with(aio_group)) {
            found +=
                ": only v1 resources are read; the preview spellings (lowercase enum "
                "values, `conversion`, `enrich`, filter `condition`) are not accepted";
        }
        errors_.add(*api, std::string(want_api), found);
        if (doc_kind == DocKind::dataflow) {
            saw_dataflow_ = true;
        }
        return;
    }
    MapReader top(document, errors_, "a resource");
    static_cast<void>(top.get("apiVersion"));
    static_cast<void>(top.get("kind"));
    const ConfigNode* metadata = top.get("metadata");
    static_cast<void>(top.get("spec"));
    // Written by the cluster, not by the user: a resource exported with `kubectl get -o yaml`
    // has it, and nothing in it configures the flow.
    static_cast<void>(top.get("status"));
    top.finish();
    if (metadata == nullptr) {
        errors_.missing(document, "metadata", "metadata with the resource's name");
        return;
    }
    const ConfigNode* name = metadata->find("name");
    if (!metadata->is_map()) {
        errors_.add(*metadata, "a map with the resource's name");
        return;
    }
    if (name == nullptr) {
        errors_.missing(*metadata, "name", "the resource's name");
        return;
    }
    if (!name->is_scalar() || name->scalar.empty()) {
        errors_.add(*name, "a name");
        return;
    }
    Doc doc{&document, doc_kind, name->scalar, name};
    if (doc_kind == DocKind::dataflow) {
        if (endpoints_file) {
            errors_.add(*kind,
                        "endpoints and datasets only in the --endpoints file (DataflowEndpoint, "
                        "Endpoint, Dataset)",
                        "a Dataflow");
        } else if (flow_) {
            errors_.add(*kind, "one Dataflow per file (edgeflow runs one data flow per process)",
                        "a second Dataflow, " + quote(doc.name));
        } else {
            flow_ = doc;
        }
        return;
    }
    const bool dataset = doc_kind == DocKind::dataset;
    if (const Doc* first = find(doc.name, dataset)) {
        errors_.add(*name, dataset ? "a dataset name used once" : "an endpoint name used once",
                    quote(doc.name) + " again (first at " + errors_.file_name(first->root->file) +
                        ":" + std::to_string(first->name_node->line) + ")");
        return;
    }
    docs_.push_back(doc);
}

void Converter::read_operations(const ConfigNode& list) {
    if (!list.is_sequence() || list.items.empty()) {
        errors_.add(list,
                    "a list of operations: one Source, at most one BuiltInTransformation "
                    "and one Destination");
        return;
    }
    for (const ConfigNode& item : list.items) {
        MapReader reader(item, errors_, "an operation");
        if (!reader.ok()) {
            continue;
        }
        Operation op;
        op.node = &item;
        op.type = reader.get("operationType");
        const ConfigNode* source = reader.get("sourceSettings");
        const ConfigNode* transformation = reader.get("builtInTransformationSettings");
        const ConfigNode* destination = reader.get("destinationSettings");
        op.name_node = reader.get("name");
        reader.optional_string("name", op.name, "an operation name");
        reader.finish();
        if (op.type == nullptr) {
            errors_.missing(item, "operationType", "Source, BuiltInTransformation or Destination");
            continue;
        }
        const auto type = choice(*op.type, {"Source", "BuiltInTransformation", "Destination"});
        if (!type) {
            continue;
        }
        seen_types_.push_back(*type);
        const std::pair<std::string_view, const ConfigNode*> settings[] = {
            {"Source", source},
            {"BuiltInTransformation", transformation},
            {"Destination", destination}};
        const std::string_view settings_keys[] = {"sourceSettings", "builtInTransformationSettings",
                                                  "destinationSettings"};
        for (std::size_t i = 0; i < 3; ++i) {
            if (settings[i].first == *type) {
                op.settings = settings[i].second;
                if (op.settings == nullptr) {
                    errors_.missing(item, settings_keys[i],
                                    "the settings of the " + *type + " operation");
                }
            } else if (settings[i].second != nullptr) {
                errors_.add(key_of(*settings[i].second),
                            std::string(settings_keys[i]) + " only on a " +
                                std::string(settings[i].first) + " operation",
                            "it on a " + *type + " operation");
            }
        }
        if (op.settings == nullptr) {
            continue;
        }
        std::optional<Operation>& slot = *type == "Source"        ? source_
                                         : *type == "Destination" ? destination_
                                                                  : transformation_;
        if (slot) {
            errors_.add(
                *op.type,
                *type == "BuiltInTransformation" ? "at most one BuiltInTransformation operation"
                                                 : "exactly one " + *type + " operation",
                "a second one (the first is at line " + std::to_string(slot->node->line) + ")");
            continue;
        }
        slot = op;
    }
}

// Where a pod of edgeflow's manifests projects its service account token for the broker.
constexpr std::string_view default_token_file = "/var/run/secrets/tokens/mqtt-client-token";

NativeEndpoint Converter::placeholder(const ConfigNode& ref) const {
    // Stands in for an endpoint that could not be resolved (already an error), so the rest of
    // the flow is still checked.
    NativeEndpoint out{container_at(ref, ConfigNode::Kind::map), "mqtt", {}};
    put(out.node, "kind", scalar_at(ref, "mqtt"));
    put(out.node, "broker", scalar_at(ref, std::string(default_broker)));
    return out;
}

// The AIO defaults of mqttSettings that differ from edgeflow's own.
void Converter::mqtt_defaults(ConfigNode& out, const ConfigNode& at, Role role) const {
    static_cast<void>(role);
    put(out, "keep_alive", scalar_at(at, "60", false));
    // AIO's maxInflightMessages: a destination's publishes awaiting PUBACK, a source's Receive
    // Maximum.
    put(out, "max_inflight", scalar_at(at, "100", false));
}

NativeEndpoint Converter::local_broker(const ConfigNode& ref, Role role) {
    NativeEndpoint out = placeholder(ref);
    mqtt_defaults(out.node, ref, role);
    note(ref, "`default` is the local broker " + std::string(default_broker) +
                  " (plain MQTT, anonymous): no endpoint document is named default");
    if (role != Role::source) {
        note(ref,
             "messages are published without the retain flag (AIO's retain: Keep would keep a "
             "retained input retained)");
    }
    return out;
}

NativeEndpoint Converter::endpoint(const ConfigNode& ref, Role role, const std::string& name) {
    NativeEndpoint out;
    if (!ref.is_scalar() || ref.scalar.empty()) {
        errors_.add(ref, "the name of an endpoint");
        out = placeholder(ref);
    } else if (const Doc* doc = find(ref.scalar, false)) {
        out = doc->kind == DocKind::dataflow_endpoint ? aio_endpoint(*doc, role, ref)
                                                      : edgeflow_endpoint(*doc, role);
    } else if (ref.scalar == "default") {
        out = local_broker(ref, role);
    } else {
        std::string known;
        for (const Doc& other : docs_) {
            if (other.kind != DocKind::dataset) {
                known += (known.empty() ? "" : ", ") + other.name;
            }
        }
        errors_.add(ref,
                    "the name of a DataflowEndpoint or edgeflow Endpoint document in " +
                        where_documents_are() + " (" +
                        (known.empty() ? std::string("there are none") : "known: " + known) +
                        "), or default",
                    ref.describe());
        out = placeholder(ref);
    }
    put(out.node, "name", scalar_at(ref, name));
    return out;
}

NativeEndpoint Converter::aio_endpoint(const Doc& doc, Role role, const ConfigNode& ref) {
    const ConfigNode* spec = doc.root->find("spec");
    if (spec == nullptr) {
        errors_.missing(*doc.root, "spec", "the endpoint's spec: endpointType and mqttSettings");
        return placeholder(ref);
    }
    MapReader reader(*spec, errors_, "a DataflowEndpoint spec");
    const ConfigNode* type = reader.get("endpointType");
    const ConfigNode* mqtt = reader.get("mqttSettings");
    constexpr std::string_view other_settings[] = {
        "kafkaSettings",         "dataExplorerSettings", "dataLakeStorageSettings",
        "fabricOneLakeSettings", "localStorageSettings", "openTelemetrySettings"};
    std::vector<std::pair<std::string_view, const ConfigNode*>> others;
    for (auto key : other_settings) {
        if (const ConfigNode* node = reader.get(key)) {
            others.emplace_back(key, node);
        }
    }
    reader.finish();
    if (!reader.ok()) {
        return placeholder(ref);
    }
    if (type == nullptr) {
        errors_.missing(*spec, "endpointType", "Mqtt");
        return placeholder(ref);
    }
    if (!type->is_scalar() || type->scalar != "Mqtt") {
        std::string found = type->describe();
        for (std::string_view known : {"Kafka", "DataExplorer", "DataLakeStorage", "FabricOneLake",
                                       "LocalStorage", "OpenTelemetry"}) {
            if (type->is_scalar() && type->scalar == known) {
                found += ": edgeflow has no " + std::string(known) + " connector; endpoint " +
                         quote(doc.name) + " is the " + std::string(role_word(role)) +
                         " of this data flow";
            }
        }
        if (type->is_scalar() && iequals(type->scalar, "Mqtt")) {
            found += " (values are case-sensitive)";
        }
        errors_.add(*type, "Mqtt (edgeflow connects to MQTT brokers only)", found);
        return placeholder(ref);
    }
    for (const auto& [key, node] : others) {
        errors_.add(key_of(*node), "only mqttSettings with endpointType Mqtt",
                    "unused " + std::string(key));
    }
    if (mqtt == nullptr) {
        errors_.missing(*spec, "mqttSettings", "the MQTT settings, authentication at least");
        return placeholder(ref);
    }
    const auto extra =
        annotations(doc, {"tls-ca-file", "tls-cert-file", "tls-key-file", "sat-token-file"});
    const auto annotation = [&](const std::string& name) -> const ConfigNode* {
        const auto it = extra.find(name);
        return it == extra.end() ? nullptr : it->second;
    };

    NativeEndpoint out{container_at(*mqtt, ConfigNode::Kind::map), "mqtt", {}};
    put(out.node, "kind", scalar_at(*type, "mqtt"));
    mqtt_defaults(out.node, *mqtt, role);

    MapReader m(*mqtt, errors_, "mqttSettings");
    const ConfigNode* host = m.get("host");
    const ConfigNode* protocol = m.get("protocol");
    const ConfigNode* prefix = m.get("clientIdPrefix");
    const ConfigNode* qos = m.get("qos");
    const ConfigNode* retain = m.get("retain");
    const ConfigNode* session = m.get("sessionExpirySeconds");
    const ConfigNode* keep_alive = m.get("keepAliveSeconds");
    const ConfigNode* inflight = m.get("maxInflightMessages");
    const ConfigNode* cloud_events = m.get("cloudEventAttributes");
    const ConfigNode* tls = m.get("tls");
    const ConfigNode* auth = m.get("authentication");
    m.finish();
    if (!m.ok()) {
        return placeholder(ref);
    }

    // TLS: on unless tls.mode says Disabled, as in AIO.
    bool tls_on = true;
    const ConfigNode* config_map = nullptr;
    if (tls != nullptr) {
        MapReader t(*tls, errors_, "tls");
        const ConfigNode* mode = t.get("mode");
        config_map = t.get("trustedCaCertificateConfigMapRef");
        t.finish();
        if (mode != nullptr) {
            tls_on = choice(*mode, {"Enabled", "Disabled"}).value_or("Enabled") == "Enabled";
        }
    }
    const ConfigNode* ca_file = annotation("tls-ca-file");
    const ConfigNode* cert_file = annotation("tls-cert-file");
    const ConfigNode* key_file = annotation("tls-key-file");
    if (config_map != nullptr && ca_file == nullptr) {
        errors_.add(*config_map,
                    "a CA file edgeflow can read: put the ConfigMap's PEM in a file and name it "
                    "in the annotation edgeflow.io/tls-ca-file (edgeflow does not read Kubernetes "
                    "ConfigMaps)",
                    config_map->describe());
    }
    ConfigNode tls_files = container_at(tls != nullptr ? *tls : *mqtt, ConfigNode::Kind::map);
    for (const auto& [node, key] :
         {std::pair{ca_file, "ca_file"}, std::pair{cert_file, "cert_file"},
          std::pair{key_file, "key_file"}}) {
        if (node == nullptr) {
            continue;
        }
        if (!tls_on) {
            errors_.add(*node, "TLS files only with tls.mode Enabled",
                        "a file while tls.mode is Disabled");
            continue;
        }
        put(tls_files, key, file_path(*node));
    }

    // The broker URI.
    std::string address = "localhost";
    if (host != nullptr) {
        if (!host->is_scalar() || host->scalar.empty()) {
            errors_.add(*host, "host:port");
        } else if (host->scalar.find("://") != std::string::npos) {
            errors_.add(*host, "host:port without a scheme (tls.mode chooses plain or TLS)",
                        host->describe());
        } else {
            address = host->scalar;
        }
    } else {
        note(*mqtt, std::string("no host: the local broker, localhost:") +
                        (tls_on ? "8883 (TLS)" : "1883"));
    }
    put(out.node, "broker",
        scalar_at(host != nullptr ? *host : *mqtt, (tls_on ? "mqtts://" : "mqtt://") + address));
    if (!tls_files.members.empty()) {
        put(out.node, "tls", std::move(tls_files));
    }

    if (protocol != nullptr && choice(*protocol, {"Mqtt", "WebSockets"}) == "WebSockets") {
        errors_.add(*protocol, "Mqtt (edgeflow connects over MQTT on TCP, with or without TLS)",
                    "\"WebSockets\": MQTT over WebSockets is not supported");
    }
    if (qos != nullptr) {
        put(out.node, "qos", *qos);
    }
    if (keep_alive != nullptr) {
        put(out.node, "keep_alive", *keep_alive);
    }
    // A session only lasts across restarts with a client id that does not change: AIO's is the
    // prefix plus the flow's name; without a prefix edgeflow's id holds the process id.
    if (prefix != nullptr) {
        if (!prefix->is_scalar() || prefix->scalar.empty()) {
            errors_.add(*prefix, "a client id prefix");
        } else {
            put(out.node, "client_id",
                scalar_at(*prefix,
                          prefix->scalar + "-" + flow_->name + "-" + std::string(role_word(role))));
            put(out.node, "clean_start", scalar_at(*prefix, "false", false));
            put(out.node, "session_expiry",
                session != nullptr ? *session : scalar_at(*prefix, "3600", false));
        }
    } else if (session != nullptr) {
        note(*session,
             "no effect without clientIdPrefix: edgeflow's client id changes with every run, so "
             "it starts a new session each time");
    }
    if (inflight != nullptr) {
        put(out.node, "max_inflight", *inflight);
    }
    if (retain != nullptr) {
        const auto value = choice(*retain, {"Keep", "Never"});
        if (value == "Keep" && role != Role::source) {
            errors_.add(*retain,
                        "Never (edgeflow publishes every message without the retain flag; it "
                        "does not carry a retained input's flag over)",
                        "\"Keep\"");
        }
    } else if (role != Role::source) {
        note(*mqtt,
             "messages are published without the retain flag (AIO's default retain: Keep "
             "would keep a retained input retained)");
    }
    if (cloud_events != nullptr &&
        choice(*cloud_events, {"Propagate", "CreateOrRemap"}) == "CreateOrRemap") {
        errors_.add(*cloud_events,
                    "Propagate (user properties, CloudEvents ones included, are passed on as "
                    "received; edgeflow does not create or remap CloudEvents attributes)",
                    "\"CreateOrRemap\"");
    }

    if (auth == nullptr) {
        errors_.missing(*mqtt, "authentication",
                        "authentication: {method: Anonymous}, or X509Certificate with the "
                        "edgeflow.io/tls-cert-file and edgeflow.io/tls-key-file annotations");
    } else {
        MapReader a(*auth, errors_, "authentication");
        const ConfigNode* method = a.get("method");
        constexpr std::pair<std::string_view, std::string_view> methods[] = {
            {"Anonymous", "anonymousSettings"},
            {"X509Certificate", "x509CertificateSettings"},
            {"ServiceAccountToken", "serviceAccountTokenSettings"},
            {"SystemAssignedManagedIdentity", "systemAssignedManagedIdentitySettings"},
            {"UserAssignedManagedIdentity", "userAssignedManagedIdentitySettings"}};
        std::vector<std::pair<std::string_view, const ConfigNode*>> settings;
        for (const auto& [name, key] : methods) {
            if (const ConfigNode* node = a.get(key)) {
                settings.emplace_back(key, node);
            }
        }
        a.finish();
        std::optional<std::string> chosen;
        if (method == nullptr) {
            if (a.ok()) {
                errors_.missing(*auth, "method", "Anonymous or X509Certificate");
            }
        } else {
            chosen =
                choice(*method, {"Anonymous", "X509Certificate", "ServiceAccountToken",
                                 "SystemAssignedManagedIdentity", "UserAssignedManagedIdentity"});
        }
        if (chosen) {
            for (const auto& [name, key] : methods) {
                for (const auto& [present, node] : settings) {
                    if (present == key && name != *chosen) {
                        errors_.add(key_of(*node), "the settings of method " + *chosen + " only",
                                    "unused " + std::string(key));
                    }
                }
            }
        }
        constexpr std::string_view instead =
            ": use method Anonymous, X509Certificate with the edgeflow.io/tls-cert-file and "
            "edgeflow.io/tls-key-file annotations, or ServiceAccountToken in the cluster; for a "
            "broker that takes a user name and "
            "password, use an edgeflow Endpoint document (apiVersion: edgeflow/v1, kind: "
            "Endpoint, spec: {kind: mqtt, username, password_file, ...})";
        if (chosen == "ServiceAccountToken") {
            // MQTT 5 enhanced authentication with the pod's projected token, as AIO's broker
            // expects in-cluster. The token's audience is the projected volume's business.
            const ConfigNode* token_file = annotation("sat-token-file");
            ConfigNode auth_node = container_at(*auth, ConfigNode::Kind::map);
            put(auth_node, "method", scalar_at(*method, "K8S-SAT"));
            put(auth_node, "token_file",
                token_file != nullptr ? file_path(*token_file)
                                      : scalar_at(*method, std::string(default_token_file)));
            put(out.node, "auth", std::move(auth_node));
            std::string audience;
            for (const auto& [present, node] : settings) {
                if (present == "serviceAccountTokenSettings") {
                    if (const ConfigNode* value = node->find("audience"); value != nullptr) {
                        audience = value->scalar;
                    }
                }
            }
            note(*method, "K8S-SAT with the token in " +
                              (token_file != nullptr ? token_file->scalar
                                                     : std::string(default_token_file)) +
                              " (annotation edgeflow.io/sat-token-file): the pod must project a "
                              "service account token there" +
                              (audience.empty() ? std::string() : " with audience " + audience));
        } else if (chosen == "SystemAssignedManagedIdentity" ||
                   chosen == "UserAssignedManagedIdentity") {
            errors_.add(*method, "an authentication method edgeflow supports",
                        quote(*chosen) +
                            ": Azure managed identities are not available to "
                            "edgeflow" +
                            std::string(instead));
        } else if (chosen == "X509Certificate") {
            if (cert_file == nullptr || key_file == nullptr) {
                errors_.add(*method,
                            "the client certificate and key as PEM files, in the annotations "
                            "edgeflow.io/tls-cert-file and edgeflow.io/tls-key-file (the "
                            "client_cert.pem and client_key.pem of the secret; edgeflow does not "
                            "read Kubernetes secrets)",
                            cert_file == nullptr ? "no edgeflow.io/tls-cert-file annotation"
                                                 : "no edgeflow.io/tls-key-file annotation");
            }
            if (!tls_on) {
                errors_.add(*method, "X509Certificate only with tls.mode Enabled",
                            "tls.mode Disabled");
            }
        } else if (chosen) {
            for (const ConfigNode* node : {cert_file, key_file}) {
                if (node != nullptr) {
                    errors_.add(*node, "a client certificate only with method X509Certificate",
                                "method " + *chosen);
                }
            }
        }
    }
    return out;
}

NativeEndpoint Converter::edgeflow_endpoint(const Doc& doc, Role role) {
    const ConfigNode* spec = doc.root->find("spec");
    if (spec == nullptr) {
        errors_.missing(*doc.root, "spec", "the endpoint's settings, with kind: mqtt or file");
        return placeholder(*doc.name_node);
    }
    if (!spec->is_map()) {
        errors_.add(*spec, "the endpoint's settings (a map with kind: mqtt or file)");
        return placeholder(*doc.name_node);
    }
    static_cast<void>(annotations(doc, {}));
    const ConfigNode* kind = spec->find("kind");
    if (kind == nullptr) {
        errors_.missing(*spec, "kind", "mqtt or file");
        return placeholder(*doc.name_node);
    }
    const auto chosen = choice(*kind, {"mqtt", "file"});
    if (!chosen) {
        return placeholder(*doc.name_node);
    }
    const bool also_source =
        std::find(as_source_.begin(), as_source_.end(), doc.root) != as_source_.end();
    const bool also_destination = std::find(as_destination_.begin(), as_destination_.end(),
                                            doc.root) != as_destination_.end();
    // Keys of one role are left out of the other role's copy when the endpoint serves both, so
    // each side's parser sees only its own keys.
    const bool is_mqtt = *chosen == "mqtt";
    const std::vector<std::string_view> destination_only =
        is_mqtt ? std::vector<std::string_view>{"retain", "max_inflight", "drain_timeout"}
                : std::vector<std::string_view>{"append"};
    const std::vector<std::string_view> source_only =
        is_mqtt ? std::vector<std::string_view>{}
                : std::vector<std::string_view>{"format", "rate", "loop"};
    NativeEndpoint out{container_at(*spec, ConfigNode::Kind::map), *chosen, "envelope"};
    for (const auto& [key, value] : spec->members) {
        if (key == "name" || key == "topic" || key == "topics" || key == "dead_letter") {
            const std::string why = key == "name" ? "the endpoint's name is its metadata.name"
                                    : key == "dead_letter"
                                        ? "the Dataflow's edgeflow.io/dead-letter annotation names "
                                          "the dead-letter endpoint"
                                        : "the Dataflow says the topics (dataSources for a "
                                          "source, dataDestination for a destination)";
            errors_.add(key_of(value), "no " + key + " here: " + why, quote(key));
            continue;
        }
        const auto in = [&](const std::vector<std::string_view>& keys) {
            return std::find(keys.begin(), keys.end(), key) != keys.end();
        };
        if ((role == Role::source && also_destination && in(destination_only)) ||
            (role != Role::source && also_source && in(source_only))) {
            continue;
        }
        if (key == "format" && value.is_scalar()) {
            out.format = value.scalar;
        }
        if (key == "path" || key == "password_file") {
            put(out.node, key, file_path(value));
        } else if (key == "tls" && value.is_map()) {
            ConfigNode tls = value;
            for (auto& [file_key, file] : tls.members) {
                if (file_key == "ca_file" || file_key == "cert_file" || file_key == "key_file") {
                    file = file_path(file);
                }
            }
            put(out.node, key, std::move(tls));
        } else {
            put(out.node, key, value);
        }
    }
    return out;
}

ConfigNode Converter::source(const Operation& op) {
    const ConfigNode& settings = *op.settings;
    MapReader reader(settings, errors_, "sourceSettings");
    const ConfigNode* ref = reader.get("endpointRef");
    const ConfigNode* sources = reader.get("dataSources");
    const ConfigNode* asset = reader.get("assetRef");
    const ConfigNode* format = reader.get("serializationFormat");
    const ConfigNode* schema = reader.get("schemaRef");
    reader.finish();
    if (asset != nullptr) {
        errors_.add(*asset,
                    "no assetRef: edgeflow has no Azure Device Registry; name the topics in "
                    "dataSources",
                    asset->describe());
    }
    if (format != nullptr) {
        static_cast<void>(choice(*format, {"Json"}));
    }
    if (schema != nullptr) {
        errors_.add(*schema,
                    "no schemaRef: edgeflow does not validate messages against a schema (it "
                    "rejects payloads that are not JSON)",
                    schema->describe());
    }
    if (ref == nullptr && reader.ok()) {
        errors_.missing(settings, "endpointRef", "the name of the source endpoint");
    }
    const std::string name = op.name.empty() ? "source" : op.name;
    NativeEndpoint out = endpoint(ref != nullptr ? *ref : settings, Role::source, name);

    std::vector<ConfigNode> topics;
    if (sources == nullptr) {
        if (reader.ok()) {
            errors_.missing(settings, "dataSources", "a list of MQTT topic filters");
        }
    } else if (!sources->is_sequence() || sources->items.empty()) {
        errors_.add(*sources, "a list of MQTT topic filters");
    } else {
        for (const ConfigNode& item : sources->items) {
            if (!item.is_scalar() || item.scalar.empty()) {
                errors_.add(item, "an MQTT topic filter");
                continue;
            }
            ConfigNode topic = item;
            // AIO's shared subscriptions, `$shared/<group>/<filter>`, are MQTT 5's `$share/`.
            if (item.scalar.starts_with("$shared/")) {
                const std::string_view rest = std::string_view(item.scalar).substr(8);
                const auto slash = rest.find('/');
                if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size() ||
                    rest.substr(0, slash).find_first_of("+#") != std::string_view::npos) {
                    errors_.add(item, "$shared/<group>/<filter>, the group without '+' or '#'",
                                item.describe());
                    continue;
                }
                topic.scalar = "$share/" + std::string(rest);
            }
            topics.push_back(std::move(topic));
        }
    }
    if (out.kind == "file") {
        // A file source has no subscriptions: dataSources must say what it does.
        const bool payload = out.format == "payload";
        const bool fits = payload ? topics.size() == 1 &&
                                        topics[0].scalar.find_first_of("+#") == std::string::npos
                                  : topics.size() == 1 && topics[0].scalar == "#";
        if (sources != nullptr && !topics.empty() && !fits) {
            errors_.add(*sources,
                        payload ? "one topic without wildcards, for a file source with format: "
                                  "payload (every line is published on it)"
                                : "['#'] for a file source with format: envelope (each line "
                                  "carries its own topic; a file source does not filter them)",
                        sources->items.size() == 1
                            ? sources->items[0].describe()
                            : std::to_string(sources->items.size()) + " topics");
        }
        if (payload && !topics.empty()) {
            put(out.node, "topic", topics[0]);
        }
        return out.node;
    }
    ConfigNode list =
        container_at(sources != nullptr ? *sources : settings, ConfigNode::Kind::sequence);
    list.items = std::move(topics);
    if (list.items.empty()) {
        list.items.push_back(scalar_at(list, "#"));  // the problem is already reported
    }
    put(out.node, "topics", std::move(list));
    return out.node;
}

ConfigNode Converter::destination(const Operation& op) {
    const ConfigNode& settings = *op.settings;
    MapReader reader(settings, errors_, "destinationSettings");
    const ConfigNode* ref = reader.get("endpointRef");
    const ConfigNode* topic = reader.get("dataDestination");
    const ConfigNode* headers = reader.get("headers");
    reader.finish();
    if (headers != nullptr) {
        errors_.add(key_of(*headers),
                    "no headers: write $metadata.user_property.<key> in a map rule to set an MQTT "
                    "user property (or output '' on it to remove one)",
                    headers->describe());
    }
    if (ref == nullptr && reader.ok()) {
        errors_.missing(settings, "endpointRef", "the name of the destination endpoint");
    }
    const std::string name = op.name.empty() ? "destination" : op.name;
    NativeEndpoint out = endpoint(ref != nullptr ? *ref : settings, Role::destination, name);
    if (topic == nullptr) {
        if (reader.ok()) {
            errors_.missing(settings, "dataDestination", "the topic to publish to");
        }
        return out.node;
    }
    if (topic->is_scalar()) {
        // AIO reads `{` and `}` literally except in `${...}` variables; the native template would
        // read `{name}` as a payload field.
        const std::string& text = topic->scalar;
        for (std::size_t at = text.find('{'); at != std::string::npos;
             at = text.find('{', at + 1)) {
            if (at == 0 || text[at - 1] != '$') {
                errors_.add(*topic,
                            "a topic whose only braces are ${inputTopic}, ${inputTopic.N}, "
                            "${outputTopic} or ${outputTopic.N}",
                            topic->describe() +
                                ": a literal '{' in a destination topic is not "
                                "supported");
                break;
            }
        }
        if (text.find("${outputTopic") != std::string::npos) {
            note(*topic,
                 "${outputTopic} is an edgeflow extension in a Dataflow (AIO documents it for "
                 "data flow graphs): it is the topic a map rule wrote to $metadata.topic");
        }
    }
    put(out.node, "topic", *topic);
    return out.node;
}

std::optional<ConfigNode> Converter::dead_letter() {
    const auto it = flow_annotations_.find("dead-letter");
    const auto topic = flow_annotations_.find("dead-letter-topic");
    if (it == flow_annotations_.end()) {
        if (topic != flow_annotations_.end()) {
            errors_.add(*topic->second,
                        "edgeflow.io/dead-letter-topic only with edgeflow.io/dead-letter (the "
                        "endpoint rejected messages go to)",
                        topic->second->describe());
        }
        return std::nullopt;
    }
    NativeEndpoint out = endpoint(*it->second, Role::dead_letter, "dead-letter");
    put(out.node, "dead_letter", scalar_at(*it->second, "true", false));
    if (topic != flow_annotations_.end()) {
        put(out.node, "topic", *topic->second);
    }
    return out.node;
}

void Converter::inputs_note(const ConfigNode& rule) {
    const ConfigNode* inputs = rule.find("inputs");
    if (inputs == nullptr) {
        return;
    }
    const auto check = [&](const ConfigNode& input) {
        if (input.is_scalar() && input.scalar.find("??") != std::string::npos) {
            note(input,
                 "`?? default` is an edgeflow extension here: AIO does not accept it in a "
                 "Dataflow's builtInTransformation inputs (only in data flow graphs)");
        }
    };
    check(*inputs);
    for (const ConfigNode& input : inputs->items) {
        check(input);
    }
}

// Map or filter rules, as the native transform stage reads them.
std::optional<ConfigNode> Converter::rules(const ConfigNode* list, bool is_map) {
    if (list == nullptr) {
        return std::nullopt;
    }
    if (!list->is_sequence()) {
        errors_.add(*list, is_map ? "a list of map rules" : "a list of filter rules");
        return std::nullopt;
    }
    ConfigNode out = container_at(*list, ConfigNode::Kind::sequence);
    for (const ConfigNode& item : list->items) {
        const std::string_view beta_key = is_map ? "conversion" : "condition";
        if (const ConfigNode* beta = item.find(beta_key)) {
            errors_.add(key_of(*beta),
                        "expression (`" + std::string(beta_key) + "` is the v1beta1 spelling)",
                        quote(beta_key));
        }
        const ConfigNode rule = without(item, {beta_key});
        MapReader reader(rule, errors_, is_map ? "a map rule" : "a filter rule");
        if (!reader.ok()) {
            continue;
        }
        static_cast<void>(reader.get("inputs"));
        static_cast<void>(reader.get("description"));
        const ConfigNode* expression = reader.get("expression");
        const ConfigNode* type = reader.get("type");
        if (is_map) {
            static_cast<void>(reader.get("output"));
        }
        reader.finish();
        // The type of a rule mirrors the portal's tiles; the rule runs from its inputs, output
        // and expression alone.
        if (type != nullptr) {
            if (is_map) {
                static_cast<void>(choice(*type, {"NewProperties", "Rename", "Compute",
                                                 "PassThrough", "BuiltInFunction"}));
            } else {
                static_cast<void>(choice(*type, {"Filter"}));
            }
        }
        inputs_note(rule);
        ConfigNode copy = without(rule, {"type"});
        if (!is_map) {
            // AIO's current meaning: a filter rule that is true drops the message.
            if (expression == nullptr) {
                errors_.missing(item, "expression",
                                "a boolean expression; the message is dropped when it is true");
                continue;
            }
            for (auto& member : copy.members) {
                if (member.first == "expression") {
                    member.first = "drop_when";
                }
            }
        }
        out.items.push_back(std::move(copy));
    }
    return out;
}

std::optional<ConfigNode> Converter::bindings(const ConfigNode& list) {
    if (!list.is_sequence()) {
        errors_.add(list, "a list of dataset bindings");
        return std::nullopt;
    }
    if (list.items.size() > 1) {
        note(list,
             "several datasets: edgeflow runs them all; AIO's Dataflow API accepts one "
             "(several are for data flow graphs)");
    }
    ConfigNode out = container_at(list, ConfigNode::Kind::sequence);
    for (const ConfigNode& item : list.items) {
        MapReader reader(item, errors_, "a dataset binding");
        if (!reader.ok()) {
            continue;
        }
        const ConfigNode* key = reader.get("key");
        static_cast<void>(reader.get("inputs"));
        const ConfigNode* expression = reader.get("expression");
        static_cast<void>(reader.get("description"));
        const ConfigNode* schema = reader.get("schemaRef");
        reader.finish();
        if (schema != nullptr) {
            errors_.add(*schema,
                        "no schemaRef: a dataset's records are JSON objects, read without a "
                        "schema",
                        schema->describe());
        }
        if (expression == nullptr) {
            errors_.missing(item, "expression",
                            "an expression saying which record matches, such as $1 == $2 "
                            "(edgeflow has no default match)");
        }
        if (key != nullptr && key->is_scalar() && !key->scalar.empty()) {
            std::string name = key->scalar.substr(0, key->scalar.find(" as "));
            name.erase(name.find_last_not_of(' ') + 1);
            name.erase(0, name.find_first_not_of(' '));
            if (datasets_.find(name) == nullptr) {
                if (const Doc* doc = find(name, true)) {
                    static_cast<void>(annotations(*doc, {}));
                    const ConfigNode* spec = doc->root->find("spec");
                    if (spec == nullptr) {
                        errors_.missing(*doc->root, "spec",
                                        "the dataset's records: spec: {file: records.jsonl}");
                    } else {
                        ConfigNode entry = *spec;
                        for (auto& [entry_key, value] : entry.members) {
                            if (entry_key == "file") {
                                value = file_path(value);
                            }
                        }
                        put(datasets_, name, std::move(entry));
                    }
                } else {
                    errors_.add(
                        *key,
                        "a Dataset document named " + quote(name) + " in " + where_documents_are() +
                            " (apiVersion: edgeflow/v1, kind: Dataset, metadata: {name: " + name +
                            "}, spec: {file: records.jsonl})",
                        "none");
                }
                if (datasets_.find(name) == nullptr) {
                    // Stands in for the missing records (already an error), so the rules that
                    // read them are still checked.
                    ConfigNode entry = container_at(*key, ConfigNode::Kind::map);
                    put(entry, "file", scalar_at(*key, "/dev/null"));
                    put(datasets_, name, std::move(entry));
                }
            }
        }
        if (expression == nullptr) {
            continue;
        }
        out.items.push_back(without(item, {"schemaRef"}));
    }
    return out;
}

std::optional<ConfigNode> Converter::transformation(const Operation& op) {
    const ConfigNode& settings = *op.settings;
    if (const ConfigNode* enrich = settings.find("enrich")) {
        errors_.add(key_of(*enrich), "datasets (`enrich` is the v1beta1 spelling)", "\"enrich\"");
    }
    const ConfigNode checked = without(settings, {"enrich"});
    MapReader reader(checked, errors_, "builtInTransformationSettings");
    const ConfigNode* format = reader.get("serializationFormat");
    const ConfigNode* schema = reader.get("schemaRef");
    const ConfigNode* datasets = reader.get("datasets");
    const ConfigNode* filter = reader.get("filter");
    const ConfigNode* map = reader.get("map");
    reader.finish();
    if (!reader.ok()) {
        return std::nullopt;
    }
    if (format != nullptr) {
        const auto value = choice(*format, {"Json", "Delta", "Parquet"});
        if (value && *value != "Json") {
            errors_.add(*format,
                        "Json (edgeflow writes JSON; Delta and Parquet are for storage "
                        "destinations it does not have)",
                        quote(*value));
        }
    }
    if (schema != nullptr) {
        errors_.add(*schema,
                    "no schemaRef: edgeflow writes JSON with the types the values have, without "
                    "an output schema",
                    schema->describe());
    }
    ConfigNode stage = container_at(settings, ConfigNode::Kind::map);
    put(stage, "kind", scalar_at(*op.type, "transform"));
    put(stage, "name",
        scalar_at(op.name_node != nullptr ? *op.name_node : *op.type,
                  op.name.empty() ? flow_->name : op.name));
    bool any = false;
    if (datasets != nullptr) {
        if (auto list = bindings(*datasets)) {
            put(stage, "datasets", std::move(*list));
            any = true;
        }
    }
    if (auto list = rules(filter, false)) {
        put(stage, "filter", std::move(*list));
        any = true;
    }
    if (auto list = rules(map, true)) {
        put(stage, "map", std::move(*list));
        any = true;
    }
    if (!any) {
        return std::nullopt;
    }
    return stage;
}

std::optional<DataflowPipeline> Converter::run(const std::vector<ConfigNode>& documents,
                                               const std::vector<ConfigNode>& endpoint_documents) {
    for (const ConfigNode& document : documents) {
        classify(document, false);
    }
    for (const ConfigNode& document : endpoint_documents) {
        endpoints_file_ = errors_.file_name(document.file);
        classify(document, true);
    }
    if (!flow_) {
        if (!saw_dataflow_ && !documents.empty()) {
            ConfigNode at = documents.front();
            errors_.add(at,
                        "a Dataflow resource (apiVersion: connectivity.iotoperations.azure.com/v1, "
                        "kind: Dataflow) in this file",
                        "none");
        }
        return std::nullopt;
    }
    const ConfigNode& root = *flow_->root;
    DataflowPipeline out;
    out.name = flow_->name;
    flow_annotations_ = annotations(*flow_, {"dead-letter", "dead-letter-topic"});

    const ConfigNode* spec = root.find("spec");
    if (spec == nullptr) {
        errors_.missing(root, "spec", "the Dataflow's spec, with its operations");
        return std::nullopt;
    }
    MapReader reader(*spec, errors_, "a Dataflow spec");
    std::string profile;
    // Profiles scale data flows across instances; edgeflow runs this one in this process.
    reader.optional_string("profileRef", profile, "a profile name");
    const ConfigNode* mode = reader.get("mode");
    const ConfigNode* disk = reader.get("requestDiskPersistence");
    const ConfigNode* operations = reader.get("operations");
    reader.finish();
    if (!reader.ok()) {
        return std::nullopt;
    }
    if (mode != nullptr && choice(*mode, {"Enabled", "Disabled"}) == "Disabled") {
        out.disabled =
            ConfigNote{errors_.file_name(mode->file), mode->line, mode->column, mode->path,
                       "the data flow is disabled (mode: Disabled): `edgeflow run` "
                       "refuses to run it; set mode: Enabled to run it"};
    }
    if (disk != nullptr && choice(*disk, {"Enabled", "Disabled"}) == "Enabled") {
        errors_.add(*disk,
                    "Disabled (edgeflow keeps messages in flight in memory; it has no disk "
                    "buffer)",
                    "\"Enabled\"");
    }
    if (operations == nullptr) {
        errors_.missing(*spec, "operations",
                        "a list of operations: one Source, at most one BuiltInTransformation "
                        "and one Destination");
    } else {
        read_operations(*operations);
        for (std::string_view type : {"Source", "Destination"}) {
            if (std::find(seen_types_.begin(), seen_types_.end(), type) == seen_types_.end() &&
                operations->is_sequence() && !operations->items.empty()) {
                errors_.add(*operations,
                            "exactly one operation with operationType " + std::string(type),
                            "none");
            }
        }
    }
    if (source_ && destination_ && !source_->name.empty() && source_->name == destination_->name) {
        errors_.add(*destination_->name_node,
                    "an operation name other than the Source's (edgeflow names the MQTT clients "
                    "after them)",
                    quote(destination_->name));
    }

    // Which endpoint documents serve which side, before converting any of them.
    const auto uses = [&](const ConfigNode* ref, std::vector<const ConfigNode*>& out_list) {
        if (ref != nullptr && ref->is_scalar()) {
            if (const Doc* doc = find(ref->scalar, false)) {
                out_list.push_back(doc->root);
            }
        }
    };
    if (source_) {
        uses(source_->settings->find("endpointRef"), as_source_);
    }
    if (destination_) {
        uses(destination_->settings->find("endpointRef"), as_destination_);
    }
    if (const auto it = flow_annotations_.find("dead-letter"); it != flow_annotations_.end()) {
        uses(it->second, as_destination_);
    }

    ConfigNode pipeline = container_at(root, ConfigNode::Kind::map);
    put(pipeline, "name", scalar_at(*flow_->name_node, flow_->name));
    ConfigNode sources =
        container_at(operations != nullptr ? *operations : *spec, ConfigNode::Kind::sequence);
    ConfigNode destinations = sources;
    if (source_) {
        sources.items.push_back(source(*source_));
    } else {
        NativeEndpoint stand_in = placeholder(sources);
        ConfigNode topics = container_at(sources, ConfigNode::Kind::sequence);
        topics.items.push_back(scalar_at(sources, "#"));
        put(stand_in.node, "topics", std::move(topics));
        sources.items.push_back(std::move(stand_in.node));
    }
    if (destination_) {
        destinations.items.push_back(destination(*destination_));
    } else {
        destinations.items.push_back(placeholder(destinations).node);
    }
    if (auto dead = dead_letter()) {
        destinations.items.push_back(std::move(*dead));
    }
    put(pipeline, "sources", std::move(sources));
    put(pipeline, "destinations", std::move(destinations));
    if (transformation_) {
        if (auto stage = transformation(*transformation_)) {
            ConfigNode stages = container_at(*transformation_->node, ConfigNode::Kind::sequence);
            stages.items.push_back(std::move(*stage));
            if (!datasets_.members.empty()) {
                datasets_.line = transformation_->settings->line;
                datasets_.column = transformation_->settings->column;
                datasets_.file = transformation_->settings->file;
                put(pipeline, "datasets", std::move(datasets_));
            }
            put(pipeline, "stages", std::move(stages));
        }
    }
    out.pipeline = std::move(pipeline);

    const auto rank = [&](const ConfigNote& n) { return n.file == errors_.file() ? 0 : 1; };
    std::stable_sort(notes_.begin(), notes_.end(), [&](const auto& a, const auto& b) {
        if (rank(a) != rank(b) || a.file != b.file) {
            return rank(a) != rank(b) ? rank(a) < rank(b) : a.file < b.file;
        }
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    out.notes = std::move(notes_);
    return out;
}

}  // namespace

std::string ConfigNote::to_string() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    out += ": ";
    if (!key.empty()) {
        out += key + ": ";
    }
    return out + text;
}

bool is_resource_document(const ConfigNode& document) noexcept {
    return document.find("apiVersion") != nullptr || document.find("kind") != nullptr;
}

std::optional<DataflowPipeline> convert_dataflow(const std::vector<ConfigNode>& documents,
                                                 const std::vector<ConfigNode>& endpoint_documents,
                                                 ConfigErrors& errors) {
    return Converter(errors).run(documents, endpoint_documents);
}

}  // namespace edgeflow
