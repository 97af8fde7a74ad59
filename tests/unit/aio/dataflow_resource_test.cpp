#include "aio/dataflow_resource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/pipeline_config.h"
#include "core/config/yaml_loader.h"
#include "io/registry.h"
#include "stages/registry.h"

namespace edgeflow {
namespace {

using testing::Contains;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::Not;
using testing::StartsWith;

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

// Raw string literals start with a newline, dropped here: line 1 is the line after R"(.
std::string yaml(std::string_view text) {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    return std::string(text);
}

struct Converted {
    std::optional<DataflowPipeline> flow;
    std::vector<std::string> errors;  ///< from the conversion, in file order
    std::vector<std::string> all;     ///< after the native parsers read the pipeline too
    std::vector<std::string> notes;
};

// Converts `text` (the file flow.yaml) with `endpoints` as the --endpoints file
// conf/endpoints.yaml, then loads the result the way `edgeflow check` does.
Converted convert(std::string_view text, std::string_view endpoints = {}) {
    ConfigErrors errors("flow.yaml");
    Converted out;
    auto documents = load_yaml_documents_text(yaml(text), errors);
    std::vector<ConfigNode> more;
    if (!endpoints.empty()) {
        const auto file = errors.file_index("conf/endpoints.yaml");
        if (auto loaded = load_yaml_documents_text(yaml(endpoints), errors, file)) {
            more = std::move(*loaded);
        }
    }
    if (documents) {
        out.flow = convert_dataflow(*documents, more, errors);
    }
    out.errors = lines(errors.to_string());
    if (out.flow) {
        for (const auto& note : out.flow->notes) {
            out.notes.push_back(note.to_string());
        }
        const auto config = parse_pipeline(out.flow->pipeline, errors);
        static_cast<void>(
            build_stages(config, std::make_shared<DeadLetterCounts>(), errors).stages);
        static_cast<void>(build_sources(config, errors));
        static_cast<void>(build_sinks(config, errors));
    }
    out.all = lines(errors.to_string());
    return out;
}

// The node at `path` in the converted pipeline: keys and list indexes separated by dots.
const ConfigNode& dig(const ConfigNode& root, std::string_view path) {
    static const ConfigNode none;
    const ConfigNode* node = &root;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const std::string part(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        if (!part.empty() && std::isdigit(static_cast<unsigned char>(part[0])) != 0) {
            const auto index = std::stoul(part);
            node = index < node->items.size() ? &node->items[index] : nullptr;
        } else {
            node = node->find(part);
        }
        if (node == nullptr) {
            return none;
        }
    }
    return *node;
}

// `text` with the last `from` replaced by `to`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
    return text.replace(text.rfind(from), from.size(), to);
}

std::vector<std::string> scalars(const ConfigNode& list) {
    std::vector<std::string> out;
    for (const auto& item : list.items) {
        out.push_back(item.scalar);
    }
    return out;
}

// Lines 1-14: a flow from the local broker to the local broker. Tests add to it.
constexpr std::string_view minimal = R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata:
  name: flow
spec:
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: default
        dataSources: [plant/+/telemetry]
    - operationType: Destination
      destinationSettings:
        endpointRef: default
        dataDestination: out/${inputTopic.2}
)";

// Lines 1-15 of a flow whose source is `default` and destination the endpoint `cloud`; an
// endpoint document follows from line 16.
std::string to_cloud(std::string_view endpoint) {
    return yaml(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata:
  name: flow
spec:
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: default
        dataSources: [plant/+/telemetry]
    - operationType: Destination
      destinationSettings:
        endpointRef: cloud
        dataDestination: out/${inputTopic.2}
---
)") + yaml(endpoint);
}

// A DataflowEndpoint named cloud: lines 16-26, with mqttSettings keys continuing on line 27.
std::string cloud_endpoint(std::string_view settings) {
    return to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: cloud
spec:
  endpointType: Mqtt
  mqttSettings:
    host: broker.example.com:8883
    authentication:
      method: Anonymous
      anonymousSettings: {}
)" + yaml(settings));
}

TEST(DataflowResource, TellsResourcesFromPipelineFiles) {
    ConfigErrors errors("flow.yaml");
    const auto documents = load_yaml_documents_text(yaml(minimal) + "---\nsources: []\n", errors);
    ASSERT_TRUE(documents.has_value()) << errors.to_string();
    ASSERT_EQ(documents->size(), 2u);
    EXPECT_TRUE(is_resource_document((*documents)[0]));
    EXPECT_FALSE(is_resource_document((*documents)[1]));
}

TEST(DataflowResource, MapsEachOperationToTheNativePipeline) {
    const auto c = convert(std::string(minimal) + yaml(R"(
    - operationType: BuiltInTransformation
      name: convert
      builtInTransformationSettings:
        serializationFormat: Json
        filter:
          - inputs: [temperature]
            expression: $1 < -50
            type: Filter
            description: broken sensor
        map:
          - type: PassThrough
            inputs: ['*']
            output: '*'
          - type: Compute
            inputs: [temperature]
            output: temperatureF
            expression: cToF($1)
)"));
    ASSERT_TRUE(c.flow.has_value());
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_FALSE(c.flow->disabled.has_value());
    EXPECT_EQ(c.flow->name, "flow");
    const ConfigNode& p = c.flow->pipeline;
    EXPECT_EQ(dig(p, "name").scalar, "flow");

    const ConfigNode& source = dig(p, "sources.0");
    EXPECT_EQ(dig(source, "name").scalar, "source");
    EXPECT_EQ(dig(source, "kind").scalar, "mqtt");
    EXPECT_EQ(dig(source, "broker").scalar, "mqtt://localhost:1883");
    EXPECT_THAT(scalars(dig(source, "topics")), ElementsAre("plant/+/telemetry"));
    EXPECT_EQ(dig(source, "keep_alive").scalar, "60");     // AIO's default, not edgeflow's 30
    EXPECT_EQ(dig(source, "max_inflight").scalar, "100");  // AIO's, as the Receive Maximum
    // Copied nodes keep their place in the user's file.
    EXPECT_EQ(dig(source, "topics.0").line, 10);
    EXPECT_EQ(dig(source, "topics.0").path, "spec.operations[0].sourceSettings.dataSources[0]");

    const ConfigNode& destination = dig(p, "destinations.0");
    EXPECT_EQ(dig(destination, "name").scalar, "destination");
    EXPECT_EQ(dig(destination, "kind").scalar, "mqtt");
    EXPECT_EQ(dig(destination, "topic").scalar, "out/${inputTopic.2}");
    EXPECT_EQ(dig(destination, "topic").line, 14);
    EXPECT_EQ(dig(destination, "max_inflight").scalar, "100");
    EXPECT_EQ(p.find("destinations")->items.size(), 1u);

    const ConfigNode& stage = dig(p, "stages.0");
    EXPECT_EQ(dig(stage, "kind").scalar, "transform");
    EXPECT_EQ(dig(stage, "name").scalar, "convert");
    // A filter rule's expression is drop_when; the descriptive `type` is left out.
    const ConfigNode& filter = dig(stage, "filter.0");
    EXPECT_EQ(dig(filter, "drop_when").scalar, "$1 < -50");
    EXPECT_EQ(dig(filter, "drop_when").line, 21);
    EXPECT_EQ(filter.find("expression"), nullptr);
    EXPECT_EQ(filter.find("type"), nullptr);
    EXPECT_EQ(dig(filter, "description").scalar, "broken sensor");
    EXPECT_EQ(dig(stage, "map.1.expression").scalar, "cToF($1)");
    EXPECT_EQ(dig(stage, "map.1").find("type"), nullptr);
    EXPECT_EQ(p.find("datasets"), nullptr);
}

TEST(DataflowResource, NativeErrorsPointIntoTheResource) {
    const auto c = convert(std::string(minimal) + yaml(R"(
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        map:
          - inputs: [temperature]
            output: temperatureF
            expression: nosuch($1)
)"));
    EXPECT_THAT(c.errors, IsEmpty());
    ASSERT_EQ(c.all.size(), 1u);
    EXPECT_THAT(c.all[0], StartsWith("flow.yaml:20:25: spec.operations[2]."
                                     "builtInTransformationSettings.map[0].expression: expected "
                                     "a valid expression"));
}

TEST(DataflowResource, DefaultIsTheLocalBrokerAndCheckSaysSo) {
    const auto c = convert(minimal);
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_THAT(c.notes,
                Contains("flow.yaml:9:22: spec.operations[0].sourceSettings.endpointRef: "
                         "`default` is the local broker mqtt://localhost:1883 (plain MQTT, "
                         "anonymous): no endpoint document is named default"));
    EXPECT_THAT(c.notes, Contains(StartsWith("flow.yaml:13:22: spec.operations[1]."
                                             "destinationSettings.endpointRef: messages are "
                                             "published without the retain flag")));
}

TEST(DataflowResource, ADefaultDocumentReplacesTheLocalBroker) {
    const auto c = convert(std::string(minimal) + yaml(R"(
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata:
  name: default
spec:
  kind: mqtt
  broker: tcp://10.0.0.5:1883
  username: edge
  client_id: edge-in
)"));
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_EQ(dig(c.flow->pipeline, "sources.0.broker").scalar, "tcp://10.0.0.5:1883");
    EXPECT_EQ(dig(c.flow->pipeline, "sources.0.username").scalar, "edge");
    EXPECT_EQ(dig(c.flow->pipeline, "destinations.0.broker").scalar, "tcp://10.0.0.5:1883");
    EXPECT_THAT(c.notes, Not(Contains(HasSubstr("local broker"))));
}

TEST(DataflowResource, MqttSettingsBecomeConnectionKeys) {
    const auto c = convert(cloud_endpoint(R"(
    clientIdPrefix: plant
    qos: 0
    keepAliveSeconds: 20
    sessionExpirySeconds: 600
    maxInflightMessages: 50
    retain: Never
    cloudEventAttributes: Propagate
    protocol: Mqtt
)"));
    EXPECT_THAT(c.all, IsEmpty());
    const ConfigNode& d = dig(c.flow->pipeline, "destinations.0");
    EXPECT_EQ(dig(d, "broker").scalar, "mqtts://broker.example.com:8883");  // TLS unless Disabled
    EXPECT_EQ(dig(d, "broker").line, 23);
    EXPECT_EQ(dig(d, "client_id").scalar, "plant-flow-destination");
    EXPECT_EQ(dig(d, "clean_start").scalar, "false");
    EXPECT_EQ(dig(d, "session_expiry").scalar, "600");
    EXPECT_EQ(dig(d, "qos").scalar, "0");
    EXPECT_EQ(dig(d, "keep_alive").scalar, "20");
    EXPECT_EQ(dig(d, "max_inflight").scalar, "50");
    EXPECT_EQ(d.find("tls"), nullptr);  // the system's CAs
}

TEST(DataflowResource, TlsDisabledIsPlainMqttAndNoHostIsTheLocalBroker) {
    const auto c = convert(to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: cloud
spec:
  endpointType: Mqtt
  mqttSettings:
    tls: {mode: Disabled}
    authentication: {method: Anonymous}
)"));
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_EQ(dig(c.flow->pipeline, "destinations.0.broker").scalar, "mqtt://localhost");
    EXPECT_THAT(c.notes, Contains("flow.yaml:23:5: spec.mqttSettings: no host: the local broker, "
                                  "localhost:1883"));
}

TEST(DataflowResource, SessionSettingsWithoutAClientIdPrefixAreNoted) {
    const auto c = convert(cloud_endpoint(R"(
    sessionExpirySeconds: 600
)"));
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_EQ(dig(c.flow->pipeline, "destinations.0").find("session_expiry"), nullptr);
    EXPECT_THAT(c.notes, Contains(StartsWith("flow.yaml:27:27: spec.mqttSettings."
                                             "sessionExpirySeconds: no effect without "
                                             "clientIdPrefix")));
}

TEST(DataflowResource, SharedSubscriptionsAreMqtt5SharedSubscriptions) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: default
        dataSources: ['$shared/edge/plant/#', '$share/other/a/+', '$shared/g+/x', '$shared/g']
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: out}
)");
    EXPECT_THAT(scalars(dig(c.flow->pipeline, "sources.0.topics")),
                ElementsAre("$share/edge/plant/#", "$share/other/a/+"));
    EXPECT_THAT(c.all, ElementsAre("flow.yaml:9:67: spec.operations[0].sourceSettings."
                                   "dataSources[2]: expected $shared/<group>/<filter>, the group "
                                   "without '+' or '#', found \"$shared/g+/x\"",
                                   "flow.yaml:9:83: spec.operations[0].sourceSettings."
                                   "dataSources[3]: expected $shared/<group>/<filter>, the group "
                                   "without '+' or '#', found \"$shared/g\""));
}

TEST(DataflowResource, DatasetKeysNameDatasetDocuments) {
    const std::string records =
        std::string(EDGEFLOW_SOURCE_DIR) + "/examples/dataflow/devices.jsonl";
    const auto c = convert(std::string(minimal) + yaml(R"(
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        datasets:
          - key: devices as device
            inputs: [$source.deviceId, $context.id]
            expression: $1 == $2
          - key: sites
            inputs: [$source.site, $context.id]
            expression: $1 == $2
        map:
          - inputs: ['$context(device).site']
            output: site
---
apiVersion: edgeflow/v1
kind: Dataset
metadata: {name: devices}
spec:
  file: )" + records + R"(
  max_records: 10
)"));
    // `sites` has no document: one error at its key, and the rules are still checked.
    EXPECT_THAT(c.all, ElementsAre("flow.yaml:21:18: spec.operations[2]."
                                   "builtInTransformationSettings.datasets[1].key: expected a "
                                   "Dataset document named \"sites\" in flow.yaml (apiVersion: "
                                   "edgeflow/v1, kind: Dataset, metadata: {name: sites}, spec: "
                                   "{file: records.jsonl}), found none"));
    EXPECT_EQ(dig(c.flow->pipeline, "datasets.devices.file").scalar, records);
    EXPECT_EQ(dig(c.flow->pipeline, "datasets.devices.max_records").scalar, "10");
    EXPECT_EQ(dig(c.flow->pipeline, "stages.0.datasets.0.key").scalar, "devices as device");
    EXPECT_THAT(c.notes, Contains(StartsWith("flow.yaml:18:11: spec.operations[2]."
                                             "builtInTransformationSettings.datasets: several "
                                             "datasets")));
}

TEST(DataflowResource, EndpointsFileDocumentsResolveAndReportUnderTheirFile) {
    const auto c = convert(to_cloud(""), R"(
apiVersion: edgeflow/v1
kind: Endpoint
metadata:
  name: cloud
spec:
  kind: mqtt
  broker: ssl://broker.example.com:8883
  tls: {ca_file: certs/ca.pem}
  qos: 2
)");
    EXPECT_THAT(c.errors, IsEmpty());
    EXPECT_THAT(c.all, ElementsAre("conf/endpoints.yaml:9:8: spec.qos: expected a whole number "
                                   "from 0 to 1, found \"2\""));
    // Relative to the file it is written in.
    const auto ca = std::filesystem::absolute("conf/certs/ca.pem").lexically_normal().string();
    EXPECT_EQ(dig(c.flow->pipeline, "destinations.0.tls.ca_file").scalar, ca);
}

TEST(DataflowResource, EdgeflowEndpointKeysTheDataflowGivesAreErrors) {
    const auto c = convert(to_cloud(R"(
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: cloud}
spec:
  kind: mqtt
  broker: tcp://localhost:1883
  topic: elsewhere
  dead_letter: true
  name: x
)"));
    EXPECT_THAT(c.all,
                ElementsAre("flow.yaml:22:3: spec.topic: expected no topic here: the Dataflow "
                            "says the topics (dataSources for a source, dataDestination for a "
                            "destination), found \"topic\"",
                            "flow.yaml:23:3: spec.dead_letter: expected no dead_letter here: the "
                            "Dataflow's edgeflow.io/dead-letter annotation names the dead-letter "
                            "endpoint, found \"dead_letter\"",
                            "flow.yaml:24:3: spec.name: expected no name here: the endpoint's "
                            "name is its metadata.name, found \"name\""));
}

TEST(DataflowResource, FileEndpointsReplayAndWrite) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: replay, dataSources: ['#']}
    - operationType: Destination
      destinationSettings: {endpointRef: out, dataDestination: 'out/${inputTopic}'}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: replay}
spec: {kind: file, path: in.jsonl, rate: 10}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: out}
spec: {kind: file, path: out.jsonl, append: true}
)");
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_EQ(dig(c.flow->pipeline, "sources.0.kind").scalar, "file");
    EXPECT_EQ(dig(c.flow->pipeline, "sources.0.path").scalar, "in.jsonl");
    EXPECT_EQ(dig(c.flow->pipeline, "sources.0").find("topics"), nullptr);
    EXPECT_EQ(dig(c.flow->pipeline, "destinations.0.topic").scalar, "out/${inputTopic}");

    const auto payload = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: replay, dataSources: [plant/a/telemetry]}
    - operationType: Destination
      destinationSettings: {endpointRef: replay, dataDestination: out}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: replay}
spec: {kind: file, path: in.jsonl, format: payload, append: false}
)");
    // Used on both sides: each side gets only its own keys.
    EXPECT_THAT(payload.all, IsEmpty());
    EXPECT_EQ(dig(payload.flow->pipeline, "sources.0.topic").scalar, "plant/a/telemetry");
    EXPECT_EQ(dig(payload.flow->pipeline, "sources.0").find("append"), nullptr);
    EXPECT_EQ(dig(payload.flow->pipeline, "destinations.0").find("format"), nullptr);

    const auto filtered = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: replay, dataSources: [plant/+/telemetry]}
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: out}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: replay}
spec: {kind: file, path: in.jsonl}
)");
    EXPECT_THAT(filtered.all, ElementsAre("flow.yaml:7:58: spec.operations[0].sourceSettings."
                                          "dataSources: expected ['#'] for a file source with "
                                          "format: envelope (each line carries its own topic; a "
                                          "file source does not filter them), found "
                                          "\"plant/+/telemetry\""));
}

TEST(DataflowResource, DeadLetterEndpointComesFromAnAnnotation) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata:
  name: flow
  annotations:
    edgeflow.io/dead-letter: rejects
    edgeflow.io/dead-letter-topic: deadletter/${inputTopic}
    example.com/owner: plant-team
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: default, dataSources: [a/#]}
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: out}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: rejects}
spec: {kind: file, path: deadletter.jsonl}
)");
    EXPECT_THAT(c.all, IsEmpty());
    const ConfigNode& dead = dig(c.flow->pipeline, "destinations.1");
    EXPECT_EQ(dig(dead, "name").scalar, "dead-letter");
    EXPECT_EQ(dig(dead, "kind").scalar, "file");
    EXPECT_EQ(dig(dead, "dead_letter").scalar, "true");
    EXPECT_EQ(dig(dead, "topic").scalar, "deadletter/${inputTopic}");

    const auto typo = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata:
  name: flow
  annotations:
    edgeflow.io/deadletter: rejects
    edgeflow.io/dead-letter-topic: dl
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: default, dataSources: [a/#]}
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: out}
)");
    EXPECT_THAT(typo.all,
                ElementsAre("flow.yaml:6:5: metadata.annotations.edgeflow.io/deadletter: expected "
                            "one of the edgeflow annotations of this resource: "
                            "edgeflow.io/dead-letter edgeflow.io/dead-letter-topic, found unknown "
                            "annotation \"edgeflow.io/deadletter\"",
                            "flow.yaml:7:36: metadata.annotations.edgeflow.io/dead-letter-topic: "
                            "expected edgeflow.io/dead-letter-topic only with "
                            "edgeflow.io/dead-letter (the endpoint rejected messages go to), "
                            "found \"dl\""));
}

TEST(DataflowResource, DisabledFlowIsCheckedButMarked) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  mode: Disabled
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: default, dataSources: [a/#]}
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: out}
)");
    EXPECT_THAT(c.all, IsEmpty());
    ASSERT_TRUE(c.flow->disabled.has_value());
    EXPECT_EQ(c.flow->disabled->to_string(),
              "flow.yaml:5:9: spec.mode: the data flow is disabled (mode: Disabled): `edgeflow "
              "run` refuses to run it; set mode: Enabled to run it");
}

TEST(DataflowResource, DefaultsAndDestinationVariablesAreNotedWhereAioDiffers) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      sourceSettings: {endpointRef: default, dataSources: [a/#]}
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        map:
          - inputs: ['temperature ?? 0']
            output: temperature
          - inputs: [line]
            output: $metadata.topic
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: 'out/${outputTopic}'}
)");
    EXPECT_THAT(c.all, IsEmpty());
    EXPECT_THAT(c.notes, Contains("flow.yaml:11:22: spec.operations[1]."
                                  "builtInTransformationSettings.map[0].inputs[0]: `?? default` "
                                  "is an edgeflow extension here: AIO does not accept it in a "
                                  "Dataflow's builtInTransformation inputs (only in data flow "
                                  "graphs)"));
    EXPECT_THAT(c.notes, Contains(StartsWith("flow.yaml:16:68: spec.operations[2]."
                                             "destinationSettings.dataDestination: ${outputTopic} "
                                             "is an edgeflow extension in a Dataflow")));
}

TEST(DataflowResource, X509MapsToClientCertificateFiles) {
    const auto c = convert(to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: cloud
  annotations:
    edgeflow.io/tls-ca-file: ca.pem
    edgeflow.io/tls-cert-file: client.pem
    edgeflow.io/tls-key-file: client.key
spec:
  endpointType: Mqtt
  mqttSettings:
    host: broker:8883
    tls:
      mode: Enabled
      trustedCaCertificateConfigMapRef: plant-ca
    authentication:
      method: X509Certificate
      x509CertificateSettings: {secretRef: plant-client}
)"));
    EXPECT_THAT(c.all, IsEmpty());
    const ConfigNode& d = dig(c.flow->pipeline, "destinations.0");
    EXPECT_EQ(dig(d, "broker").scalar, "mqtts://broker:8883");
    EXPECT_EQ(dig(d, "tls.ca_file").scalar, "ca.pem");
    EXPECT_EQ(dig(d, "tls.cert_file").scalar, "client.pem");
    EXPECT_EQ(dig(d, "tls.key_file").scalar, "client.key");
    EXPECT_EQ(dig(d, "tls.key_file").line, 23);
}

TEST(DataflowResource, UnsupportedAuthenticationSaysWhatToUseInstead) {
    const auto x509 = convert(replaced(cloud_endpoint(""), "Anonymous", "X509Certificate"));
    EXPECT_THAT(x509.all, ElementsAre("flow.yaml:25:15: spec.mqttSettings.authentication.method: "
                                      "expected the client certificate and key as PEM files, in "
                                      "the annotations edgeflow.io/tls-cert-file and "
                                      "edgeflow.io/tls-key-file (the client_cert.pem and "
                                      "client_key.pem of the secret; edgeflow does not read "
                                      "Kubernetes secrets), found no edgeflow.io/tls-cert-file "
                                      "annotation",
                                      "flow.yaml:26:7: spec.mqttSettings.authentication."
                                      "anonymousSettings: expected the settings of method "
                                      "X509Certificate only, found unused anonymousSettings"));

    // A service account token is the broker's in-cluster authentication: K8S-SAT, with the
    // token the pod projects (the default path, or the edgeflow.io/sat-token-file annotation).
    const auto token = convert(to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: cloud
  annotations: {edgeflow.io/tls-ca-file: /var/run/certs/ca.crt}
spec:
  endpointType: Mqtt
  mqttSettings:
    host: aio-broker:18883
    tls:
      mode: Enabled
      trustedCaCertificateConfigMapRef: azure-iot-operations-aio-ca-trust-bundle
    authentication:
      method: ServiceAccountToken
      serviceAccountTokenSettings:
        audience: aio-internal
)"));
    EXPECT_THAT(token.all, IsEmpty());
    ASSERT_TRUE(token.flow.has_value());
    const ConfigNode& sat = dig(token.flow->pipeline, "destinations.0");
    EXPECT_EQ(dig(sat, "broker").scalar, "mqtts://aio-broker:18883");
    EXPECT_EQ(dig(sat, "auth.method").scalar, "K8S-SAT");
    EXPECT_EQ(dig(sat, "auth.token_file").scalar, "/var/run/secrets/tokens/mqtt-client-token");
    EXPECT_THAT(token.notes, Contains(HasSubstr("with audience aio-internal")));

    const auto annotated = convert(to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata:
  name: cloud
  annotations: {edgeflow.io/sat-token-file: /tokens/broker}
spec:
  endpointType: Mqtt
  mqttSettings:
    host: aio-broker:18883
    tls: {mode: Disabled}
    authentication:
      method: ServiceAccountToken
      serviceAccountTokenSettings: {audience: aio-internal}
)"));
    EXPECT_THAT(annotated.all, IsEmpty());
    ASSERT_TRUE(annotated.flow.has_value());
    EXPECT_EQ(dig(annotated.flow->pipeline, "destinations.0.auth.token_file").scalar,
              "/tokens/broker");

    const auto identity =
        convert(replaced(cloud_endpoint(""), "Anonymous", "UserAssignedManagedIdentity"));
    EXPECT_THAT(identity.all, Contains(StartsWith("flow.yaml:25:15: spec.mqttSettings."
                                                  "authentication.method: expected an "
                                                  "authentication method edgeflow supports, "
                                                  "found \"UserAssignedManagedIdentity\": Azure "
                                                  "managed identities are not available")));
}

TEST(DataflowResource, UnsupportedMqttSettingsAreErrorsAtTheirLine) {
    const auto c = convert(cloud_endpoint(R"(
    protocol: WebSockets
    retain: Keep
    cloudEventAttributes: CreateOrRemap
    qos: 2
)"));
    EXPECT_THAT(
        c.all,
        ElementsAre(
            "flow.yaml:27:15: spec.mqttSettings.protocol: expected Mqtt (edgeflow connects over "
            "MQTT on TCP, with or without TLS), found \"WebSockets\": MQTT over WebSockets is not "
            "supported",
            "flow.yaml:28:13: spec.mqttSettings.retain: expected Never (edgeflow publishes every "
            "message without the retain flag; it does not carry a retained input's flag over), "
            "found \"Keep\"",
            "flow.yaml:29:27: spec.mqttSettings.cloudEventAttributes: expected Propagate (user "
            "properties, CloudEvents ones included, are passed on as received; edgeflow does not "
            "create or remap CloudEvents attributes), found \"CreateOrRemap\"",
            "flow.yaml:30:10: spec.mqttSettings.qos: expected a whole number from 0 to 1, found "
            "\"2\""));
}

TEST(DataflowResource, OtherEndpointTypesAreErrors) {
    const auto c = convert(to_cloud(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowEndpoint
metadata: {name: cloud}
spec:
  endpointType: Kafka
  kafkaSettings: {host: 'hub.servicebus.windows.net:9093'}
)"));
    EXPECT_THAT(c.all, ElementsAre("flow.yaml:20:17: spec.endpointType: expected Mqtt (edgeflow "
                                   "connects to MQTT brokers only), found \"Kafka\": edgeflow has "
                                   "no Kafka connector; endpoint \"cloud\" is the destination of "
                                   "this data flow"));
}

TEST(DataflowResource, UnsupportedSourceAndDestinationFields) {
    const auto c = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  requestDiskPersistence: Enabled
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: default
        dataSources: [a/#]
        assetRef: press-01
        serializationFormat: Json
        schemaRef: aio-sr://plant/telemetry:1
    - operationType: Destination
      destinationSettings:
        endpointRef: default
        dataDestination: 'out/{deviceId}'
        headers:
          - actionType: AddOrReplace
            key: site
            value: plant-7
)");
    EXPECT_THAT(
        c.errors,
        ElementsAre(
            "flow.yaml:5:27: spec.requestDiskPersistence: expected Disabled (edgeflow keeps "
            "messages in flight in memory; it has no disk buffer), found \"Enabled\"",
            "flow.yaml:11:19: spec.operations[0].sourceSettings.assetRef: expected no assetRef: "
            "edgeflow has no Azure Device Registry; name the topics in dataSources, found "
            "\"press-01\"",
            "flow.yaml:13:20: spec.operations[0].sourceSettings.schemaRef: expected no schemaRef: "
            "edgeflow does not validate messages against a schema (it rejects payloads that are "
            "not JSON), found \"aio-sr://plant/telemetry:1\"",
            "flow.yaml:17:26: spec.operations[1].destinationSettings.dataDestination: expected a "
            "topic whose only braces are ${inputTopic}, ${inputTopic.N}, ${outputTopic} or "
            "${outputTopic.N}, found \"out/{deviceId}\": a literal '{' in a destination topic is "
            "not supported",
            "flow.yaml:18:9: spec.operations[1].destinationSettings.headers: expected no headers: "
            "write $metadata.user_property.<key> in a map rule to set an MQTT user property (or "
            "output '' on it to remove one), found a list"));
}

TEST(DataflowResource, UnsupportedTransformationFields) {
    const auto c = convert(std::string(minimal) + yaml(R"(
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        serializationFormat: Delta
        schemaRef: aio-sr://out:1
        datasets:
          - key: devices
            inputs: [$source.id, $context.id]
            expression: $1 == $2
            schemaRef: aio-sr://devices:1
        map:
          - inputs: ['*']
            output: '*'
---
apiVersion: edgeflow/v1
kind: Dataset
metadata: {name: devices}
spec: {file: /dev/null}
)"));
    EXPECT_THAT(
        c.all,
        ElementsAre(
            "flow.yaml:17:30: spec.operations[2].builtInTransformationSettings."
            "serializationFormat: expected Json (edgeflow writes JSON; Delta and Parquet are for "
            "storage destinations it does not have), found \"Delta\"",
            "flow.yaml:18:20: spec.operations[2].builtInTransformationSettings.schemaRef: "
            "expected no schemaRef: edgeflow writes JSON with the types the values have, without "
            "an output schema, found \"aio-sr://out:1\"",
            "flow.yaml:23:24: spec.operations[2].builtInTransformationSettings.datasets[0]."
            "schemaRef: expected no schemaRef: a dataset's records are JSON objects, read without "
            "a schema, found \"aio-sr://devices:1\""));
}

TEST(DataflowResource, PreviewSpellingsAreNamed) {
    const auto beta = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: {name: flow}
spec: {}
)");
    EXPECT_FALSE(beta.flow.has_value());
    EXPECT_THAT(beta.errors, ElementsAre("flow.yaml:1:13: apiVersion: expected "
                                         "connectivity.iotoperations.azure.com/v1, found "
                                         "\"connectivity.iotoperations.azure.com/v1beta1\": only "
                                         "v1 resources are read; the preview spellings "
                                         "(lowercase enum values, `conversion`, `enrich`, filter "
                                         "`condition`) are not accepted"));

    const auto keys = convert(std::string(minimal) + yaml(R"(
    - operationType: builtInTransformation
    - operationType: BuiltInTransformation
      builtInTransformationSettings:
        enrich:
          - dataset: devices
        filter:
          - inputs: [a]
            condition: $1 > 0
        map:
          - inputs: [a]
            output: b
            conversion: $1 * 2
)"));
    EXPECT_THAT(
        keys.all,
        ElementsAre(
            "flow.yaml:15:22: spec.operations[2].operationType: expected one of Source "
            "BuiltInTransformation Destination, found \"builtInTransformation\" (values are "
            "case-sensitive: BuiltInTransformation; lowercase values are the v1beta1 spelling)",
            "flow.yaml:18:9: spec.operations[3].builtInTransformationSettings.enrich: expected "
            "datasets (`enrich` is the v1beta1 spelling), found \"enrich\"",
            "flow.yaml:21:13: spec.operations[3].builtInTransformationSettings.filter[0]."
            "expression: expected a boolean expression; the message is dropped when it is true, "
            "found no "
            "such key",
            "flow.yaml:22:13: spec.operations[3].builtInTransformationSettings.filter[0]."
            "condition: expected expression (`condition` is the v1beta1 spelling), found "
            "\"condition\"",
            "flow.yaml:26:13: spec.operations[3].builtInTransformationSettings.map[0].conversion: "
            "expected expression (`conversion` is the v1beta1 spelling), found \"conversion\""));
}

TEST(DataflowResource, OperationCountsFollowAio) {
    const auto two = convert(std::string(minimal) + yaml(R"(
    - operationType: Source
      sourceSettings: {endpointRef: default, dataSources: [b/#]}
    - operationType: Destination
      destinationSettings: {endpointRef: default, dataDestination: b}
)"));
    EXPECT_THAT(two.all, ElementsAre("flow.yaml:15:22: spec.operations[2].operationType: "
                                     "expected exactly one Source operation, found a second one "
                                     "(the first is at line 7)",
                                     "flow.yaml:17:22: spec.operations[3].operationType: "
                                     "expected exactly one Destination operation, found a second "
                                     "one (the first is at line 11)"));

    const auto none = convert(R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: flow}
spec:
  operations:
    - operationType: Source
      destinationSettings: {endpointRef: default, dataDestination: out}
)");
    EXPECT_THAT(none.all,
                ElementsAre("flow.yaml:6:5: spec.operations: expected exactly one operation with "
                            "operationType Destination, found none",
                            "flow.yaml:6:7: spec.operations[0].sourceSettings: expected the "
                            "settings of the Source operation, found no such key",
                            "flow.yaml:7:7: spec.operations[0].destinationSettings: expected "
                            "destinationSettings only on a Destination operation, found it on a "
                            "Source operation"));
}

TEST(DataflowResource, DocumentsAreCheckedAndReferencesResolved) {
    const auto c = convert(replaced(std::string(minimal), "default", "cloud") + yaml(R"(
---
apiVersion: connectivity.iotoperations.azure.com/v1
kind: DataflowProfile
metadata: {name: default}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: edge}
spec: {kind: mqtt, broker: tcp://localhost:1883}
---
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: edge}
spec: {kind: mqtt, broker: tcp://localhost:1884}
---
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: second}
)"));
    EXPECT_THAT(
        c.all,
        ElementsAre(
            "flow.yaml:13:22: spec.operations[1].destinationSettings.endpointRef: expected the "
            "name of a DataflowEndpoint or edgeflow Endpoint document in flow.yaml (known: edge), "
            "or default, found \"cloud\"",
            "flow.yaml:17:7: kind: expected Dataflow or DataflowEndpoint (apiVersion "
            "connectivity.iotoperations.azure.com/v1), or Endpoint or Dataset (apiVersion "
            "edgeflow/v1), found \"DataflowProfile\": edgeflow runs one data flow per process, "
            "so profiles and their instance counts do not apply; remove it",
            "flow.yaml:27:18: metadata.name: expected an endpoint name used once, found \"edge\" "
            "again (first at flow.yaml:22)",
            "flow.yaml:31:7: kind: expected one Dataflow per file (edgeflow runs one data flow "
            "per process), found a second Dataflow, \"second\""));

    const auto endpoints_only = convert(R"(
apiVersion: edgeflow/v1
kind: Endpoint
metadata: {name: edge}
spec: {kind: mqtt, broker: tcp://localhost:1883}
)");
    EXPECT_FALSE(endpoints_only.flow.has_value());
    EXPECT_THAT(endpoints_only.errors,
                ElementsAre("flow.yaml:1:1: expected a Dataflow resource (apiVersion: "
                            "connectivity.iotoperations.azure.com/v1, kind: Dataflow) in this "
                            "file, found none"));

    const auto flow_in_endpoints = convert(minimal, R"(
apiVersion: connectivity.iotoperations.azure.com/v1
kind: Dataflow
metadata: {name: other}
)");
    EXPECT_THAT(flow_in_endpoints.all,
                ElementsAre("conf/endpoints.yaml:2:7: kind: expected endpoints and datasets only "
                            "in the --endpoints file (DataflowEndpoint, Endpoint, Dataset), found "
                            "a Dataflow"));
}

TEST(DataflowResource, ExampleIsAccepted) {
    const std::string path = std::string(EDGEFLOW_SOURCE_DIR) + "/examples/dataflow/dataflow.yaml";
    ConfigErrors errors(path);
    const auto documents = load_yaml_documents_file(path, errors);
    ASSERT_TRUE(documents.has_value()) << errors.to_string();
    const auto flow = convert_dataflow(*documents, {}, errors);
    ASSERT_TRUE(flow.has_value()) << errors.to_string();
    const auto config = parse_pipeline(flow->pipeline, errors);
    static_cast<void>(build_stages(config, std::make_shared<DeadLetterCounts>(), errors).stages);
    static_cast<void>(build_sources(config, errors));
    static_cast<void>(build_sinks(config, errors));
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    EXPECT_EQ(config.sources.size(), 1u);
    EXPECT_EQ(config.destinations.size(), 2u);
    EXPECT_TRUE(config.dead_letter.has_value());
}

}  // namespace
}  // namespace edgeflow
