#include "core/config/env_references.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/config/yaml_loader.h"

namespace edgeflow {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

std::vector<std::string> messages(const ConfigErrors& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors.errors()) {
        out.push_back(e.to_string());
    }
    return out;
}

/// Loads `text` with env references left in (the loader resolves from the process
/// environment), then resolves them from `variables`.
ConfigNode resolve(const std::string& text, const std::map<std::string, std::string>& variables,
                   ConfigErrors& errors) {
    // The loader resolves against the real environment; escape the references so they reach
    // resolve_env_references as written.
    std::string escaped;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 6, "${env:") == 0) {
            escaped += '$';
        }
        escaped += text[i];
    }
    ConfigErrors load_errors(errors.file());
    auto node = load_yaml_text(escaped, load_errors);
    EXPECT_TRUE(load_errors.empty()) << load_errors.to_string();
    if (!node) {
        return {};
    }
    resolve_env_references(*node, errors, [&](const std::string& name) {
        const auto it = variables.find(name);
        return it == variables.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
    return *node;
}

TEST(EnvReferences, ReplacesReferencesInValuesAndLists) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = resolve(
        "client_id: edgeflow-${env:NODE_NAME}-in\n"
        "topics: [\"plant/${env:NODE_NAME}/+/telemetry\", fixed/#]\n",
        {{"NODE_NAME", "edge-07"}}, errors);
    EXPECT_THAT(messages(errors), IsEmpty());
    EXPECT_EQ(root.find("client_id")->scalar, "edgeflow-edge-07-in");
    EXPECT_EQ(root.find("topics")->items[0].scalar, "plant/edge-07/+/telemetry");
    EXPECT_EQ(root.find("topics")->items[1].scalar, "fixed/#");
}

TEST(EnvReferences, SeveralReferencesInOneValue) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = resolve("id: ${env:A}${env:B}-${env:A}\n", {{"A", "x"}, {"B", "yz"}}, errors);
    EXPECT_THAT(messages(errors), IsEmpty());
    EXPECT_EQ(root.find("id")->scalar, "xyz-x");
}

TEST(EnvReferences, AnEmptyValueIsSet) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = resolve("id: a${env:EMPTY}b\n", {{"EMPTY", ""}}, errors);
    EXPECT_THAT(messages(errors), IsEmpty());
    EXPECT_EQ(root.find("id")->scalar, "ab");
}

TEST(EnvReferences, AnUnsetVariableIsAnErrorAtItsValueNamingIt) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = resolve(
        "sources:\n"
        "  - kind: mqtt\n"
        "    client_id: edgeflow-${env:NODE_NAME}\n",
        {}, errors);
    EXPECT_THAT(messages(errors),
                ElementsAre("pipeline.yaml:3:16: sources[0].client_id: expected environment "
                            "variable NODE_NAME set (for ${env:NODE_NAME}), found NODE_NAME is "
                            "not set"));
    EXPECT_EQ(root.find("sources")->items[0].find("client_id")->scalar,
              "edgeflow-${env:NODE_NAME}");
}

TEST(EnvReferences, EveryUnsetVariableIsReported) {
    ConfigErrors errors("pipeline.yaml");
    resolve("a: ${env:ONE}\nb: [\"${env:TWO}\"]\n", {}, errors);
    EXPECT_EQ(errors.size(), 2U) << errors.to_string();
}

TEST(EnvReferences, ADoubledDollarIsALiteralReference) {
    ConfigErrors errors("pipeline.yaml");
    // resolve() doubles every `$` of a reference once more, so write the escape as it reaches
    // resolve_env_references: `$${env:X}`.
    ConfigErrors load_errors("pipeline.yaml");
    auto node = load_yaml_text("a: \"$$${env:X}\"\n", load_errors);
    ASSERT_TRUE(node.has_value()) << load_errors.to_string();
    EXPECT_EQ(node->find("a")->scalar, "$${env:X}");
    resolve_env_references(*node, errors, [](const std::string&) { return std::string("v"); });
    EXPECT_THAT(messages(errors), IsEmpty());
    EXPECT_EQ(node->find("a")->scalar, "${env:X}");
}

TEST(EnvReferences, OtherDollarBracesAndKeysAreLeftAlone) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = resolve(
        "topic: out/${inputTopic.2}/${outputTopic}\n"
        "expression: ${env}\n",
        {}, errors);
    EXPECT_THAT(messages(errors), IsEmpty());
    EXPECT_EQ(root.find("topic")->scalar, "out/${inputTopic.2}/${outputTopic}");
    EXPECT_EQ(root.find("expression")->scalar, "${env}");
}

TEST(EnvReferences, AnUnterminatedReferenceOrABadNameIsAnError) {
    ConfigErrors errors("pipeline.yaml");
    resolve("a: x${env:NODE_NAME\nb: ${env:1ABC}\nc: ${env:}\n", {{"NODE_NAME", "n"}}, errors);
    EXPECT_THAT(messages(errors),
                ElementsAre("pipeline.yaml:1:4: a: expected ${env:NAME} closed by '}', found "
                            "\"${env:NODE_NAME\", which has no '}'",
                            "pipeline.yaml:2:4: b: expected an environment variable name in "
                            "${env:NAME} (letters, digits and _, not starting with a digit), "
                            "found \"1ABC\"",
                            "pipeline.yaml:3:4: c: expected an environment variable name in "
                            "${env:NAME} (letters, digits and _, not starting with a digit), "
                            "found \"\""));
}

TEST(EnvReferences, TheLoaderResolvesFromTheProcessEnvironment) {
    ::setenv("EDGEFLOW_TEST_WORKERS", "3", 1);
    ::unsetenv("EDGEFLOW_TEST_UNSET");
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text("workers: ${env:EDGEFLOW_TEST_WORKERS}\n", errors);
    ASSERT_TRUE(root.has_value());
    EXPECT_THAT(messages(errors), IsEmpty());
    // Replaced text reads like any other: a plain scalar stays plain, so it is a number.
    EXPECT_EQ(root->find("workers")->scalar, "3");
    EXPECT_FALSE(root->find("workers")->quoted);

    ConfigErrors more("pipeline.yaml");
    const auto documents =
        load_yaml_documents_text("a: 1\n---\nb: ${env:EDGEFLOW_TEST_UNSET}\n", more);
    EXPECT_TRUE(documents.has_value());
    EXPECT_THAT(messages(more),
                ElementsAre("pipeline.yaml:3:4: b: expected environment variable "
                            "EDGEFLOW_TEST_UNSET set (for ${env:EDGEFLOW_TEST_UNSET}), found "
                            "EDGEFLOW_TEST_UNSET is not set"));
}

}  // namespace
}  // namespace edgeflow
