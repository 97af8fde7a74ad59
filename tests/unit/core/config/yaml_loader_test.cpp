#include "core/config/yaml_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace edgeflow {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::StartsWith;

// Raw string literals below start with a newline for readability; line 1 is the line after it.
std::string yaml(std::string_view text) {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    return std::string(text);
}

std::vector<std::string> messages(const ConfigErrors& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors.errors()) {
        out.push_back(e.to_string());
    }
    return out;
}

TEST(YamlLoader, BuildsNodesWithPositionsAndPaths) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
version: 1
name: "quoted"
sources:
  - kind: file
    path: in.jsonl
runtime:
  workers: auto
)"),
                                     errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    ASSERT_TRUE(root->is_map());
    ASSERT_EQ(root->members.size(), 4u);
    EXPECT_EQ(root->members[0].first, "version");
    EXPECT_EQ(root->members[3].first, "runtime");

    const ConfigNode* name = root->find("name");
    ASSERT_NE(name, nullptr);
    EXPECT_TRUE(name->is_scalar());
    EXPECT_TRUE(name->quoted);
    EXPECT_EQ(name->scalar, "quoted");
    EXPECT_EQ(name->line, 2);
    EXPECT_EQ(name->column, 7);
    EXPECT_EQ(name->path, "name");
    EXPECT_FALSE(root->find("version")->quoted);

    const ConfigNode* sources = root->find("sources");
    ASSERT_NE(sources, nullptr);
    ASSERT_TRUE(sources->is_sequence());
    ASSERT_EQ(sources->items.size(), 1u);
    const ConfigNode& source = sources->items[0];
    EXPECT_TRUE(source.is_map());
    EXPECT_EQ(source.path, "sources[0]");
    const ConfigNode* path = source.find("path");
    ASSERT_NE(path, nullptr);
    EXPECT_EQ(path->path, "sources[0].path");
    EXPECT_EQ(path->scalar, "in.jsonl");
    EXPECT_EQ(path->line, 5);
    EXPECT_EQ(path->column, 11);

    const ConfigNode* workers = root->find("runtime")->find("workers");
    ASSERT_NE(workers, nullptr);
    EXPECT_EQ(workers->path, "runtime.workers");
    EXPECT_EQ(workers->line, 7);
    EXPECT_EQ(workers->column, 12);
    EXPECT_EQ(root->find("missing"), nullptr);
}

TEST(YamlLoader, NullValuesKeepTheWordWritten) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
word: null
tilde: ~
empty:
after: 1
)"),
                                     errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    const ConfigNode* word = root->find("word");
    ASSERT_TRUE(word->is_null());
    EXPECT_EQ(word->scalar, "null");
    EXPECT_EQ(word->describe(), "null");
    EXPECT_EQ(root->find("tilde")->scalar, "~");
    const ConfigNode* empty = root->find("empty");
    ASSERT_TRUE(empty->is_null());
    EXPECT_EQ(empty->scalar, "");
    EXPECT_EQ(empty->describe(), "nothing");
    // An empty value points at its key.
    EXPECT_EQ(empty->line, 3);
    EXPECT_EQ(empty->column, 1);
}

TEST(YamlLoader, QuotedNullIsAString) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text("kind: \"null\"\n", errors);
    ASSERT_TRUE(root.has_value());
    const ConfigNode* kind = root->find("kind");
    EXPECT_TRUE(kind->is_scalar());
    EXPECT_TRUE(kind->quoted);
    EXPECT_EQ(kind->describe(), "\"null\"");
}

TEST(YamlLoader, DuplicateKeyIsAnErrorAtTheSecondKey) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
name: first
runtime:
  workers: 1
  batch_size: 2
  workers: 3
name: second
)"),
                                     errors);
    ASSERT_TRUE(root.has_value());
    EXPECT_THAT(messages(errors),
                ElementsAre("pipeline.yaml:5:3: runtime.workers: expected each key once, found "
                            "\"workers\" again",
                            "pipeline.yaml:6:1: name: expected each key once, found \"name\" "
                            "again"));
    // The first one counts.
    EXPECT_EQ(root->find("name")->scalar, "first");
    EXPECT_EQ(root->find("runtime")->find("workers")->scalar, "1");
}

TEST(YamlLoader, SyntaxErrorHasItsPosition) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
name: a
sources: [one, two
runtime:
  workers: 1
)"),
                                     errors);
    EXPECT_FALSE(root.has_value());
    ASSERT_EQ(errors.size(), 1u);
    const ConfigError& e = errors.errors()[0];
    EXPECT_GE(e.line, 2);
    EXPECT_GE(e.column, 1);
    EXPECT_EQ(e.key, "");
    EXPECT_EQ(e.expected, "valid YAML");
    EXPECT_FALSE(e.found.empty());
    EXPECT_THAT(e.to_string(),
                StartsWith("pipeline.yaml:" + std::to_string(e.line) + ":" +
                           std::to_string(e.column) + ": expected valid YAML, found "));
}

TEST(YamlLoader, SyntaxErrorOnALaterLine) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
name: a
version: 1
runtime: {workers: 1
)"),
                                     errors);
    EXPECT_FALSE(root.has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_GE(errors.errors()[0].line, 3);
}

TEST(YamlLoader, BadIndentationIsASyntaxError) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
name: a
runtime:
    workers: 1
  batch_size: 2
)"),
                                     errors);
    EXPECT_FALSE(root.has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors.errors()[0].expected, "valid YAML");
    EXPECT_GE(errors.errors()[0].line, 4);
}

TEST(YamlLoader, DocumentMustBeAMap) {
    struct Case {
        std::string text;
        std::string found;
    };
    for (const auto& c :
         {Case{"- a\n- b\n", "a list"}, Case{"hello\n", "\"hello\""}, Case{"", "nothing"}}) {
        ConfigErrors errors("pipeline.yaml");
        EXPECT_FALSE(load_yaml_text(c.text, errors).has_value()) << c.text;
        EXPECT_THAT(messages(errors),
                    ElementsAre("pipeline.yaml:1:1: expected a map of top-level blocks (sources, "
                                "destinations, runtime), found " +
                                c.found))
            << c.text;
    }
}

TEST(YamlLoader, AliasesAreExpandedToCopiesOfTheirAnchor) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text(yaml(R"(
sources:
  - &input
    kind: file
    path: a.jsonl
  - *input
destinations:
  - kind: null
)"),
                                     errors);
    ASSERT_TRUE(root.has_value());
    EXPECT_TRUE(errors.empty());
    const ConfigNode* sources = root->find("sources");
    ASSERT_NE(sources, nullptr);
    ASSERT_EQ(sources->items.size(), 2u);
    const ConfigNode* copied = sources->items[1].find("path");
    ASSERT_NE(copied, nullptr);
    EXPECT_EQ(copied->scalar, "a.jsonl");
    EXPECT_EQ(sources->items[1].path, "sources[1]");
}

TEST(YamlLoader, ComplexKeyIsAnError) {
    ConfigErrors errors("pipeline.yaml");
    const auto root = load_yaml_text("? [a, b]\n: 1\nname: x\n", errors);
    ASSERT_TRUE(root.has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors.errors()[0].expected, "a plain key");
    EXPECT_EQ(errors.errors()[0].found, "a list");
    EXPECT_NE(root->find("name"), nullptr);
}

TEST(YamlLoader, LoadsEveryDocumentWithPositionsFromTheFileStart) {
    ConfigErrors errors("flow.yaml");
    const auto documents = load_yaml_documents_text(yaml(R"(
kind: Dataflow
---
# a document of only comments is skipped
---
kind: DataflowEndpoint
metadata: {name: cloud}
---
)"),
                                                    errors);
    ASSERT_TRUE(documents.has_value()) << errors.to_string();
    ASSERT_EQ(documents->size(), 2u);
    EXPECT_EQ((*documents)[0].find("kind")->scalar, "Dataflow");
    const ConfigNode* name = (*documents)[1].find("metadata")->find("name");
    EXPECT_EQ(name->line, 6);
    EXPECT_EQ(name->path, "metadata.name");
}

TEST(YamlLoader, EveryDocumentMustBeAMap) {
    ConfigErrors errors("flow.yaml");
    EXPECT_FALSE(load_yaml_documents_text("a: 1\n---\n- b\n", errors).has_value());
    EXPECT_THAT(messages(errors),
                ElementsAre("flow.yaml:3:1: expected a document that is a map of keys, found a "
                            "list"));
    ConfigErrors empty("flow.yaml");
    EXPECT_FALSE(load_yaml_documents_text("# nothing\n", empty).has_value());
    EXPECT_THAT(messages(empty), ElementsAre("flow.yaml:1:1: expected a document that is a map of "
                                             "keys, found an empty file"));
}

class YamlFile : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("edgeflow-yaml-loader-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(YamlFile, LoadsAFile) {
    const auto path = (dir_ / "pipeline.yaml").string();
    std::ofstream(path) << "name: from-file\n";
    ConfigErrors errors(path);
    const auto root = load_yaml_file(path, errors);
    ASSERT_TRUE(root.has_value()) << errors.to_string();
    EXPECT_EQ(root->find("name")->scalar, "from-file");
}

TEST_F(YamlFile, MissingFileIsAnErrorWithoutPosition) {
    const auto path = (dir_ / "absent.yaml").string();
    ConfigErrors errors(path);
    EXPECT_FALSE(load_yaml_file(path, errors).has_value());
    EXPECT_THAT(
        messages(errors),
        ElementsAre(path + ": expected a readable pipeline file, found it cannot be opened"));
}

TEST_F(YamlFile, NodesOfAnotherFileReportUnderItsName) {
    const auto path = (dir_ / "endpoints.yaml").string();
    std::ofstream(path) << "kind: Endpoint\nkind: Dataset\n";
    ConfigErrors errors("flow.yaml");
    const auto documents = load_yaml_documents_file(path, errors);
    ASSERT_TRUE(documents.has_value());
    EXPECT_EQ((*documents)[0].file, 1u);
    EXPECT_EQ(errors.file_name(1), path);
    EXPECT_EQ(errors.file_index(path), 1u);
    EXPECT_THAT(messages(errors), ElementsAre(path + ":2:1: kind: expected each key once, found "
                                                     "\"kind\" again"));

    const auto absent = (dir_ / "absent.yaml").string();
    EXPECT_FALSE(load_yaml_documents_file(absent, errors).has_value());
    EXPECT_THAT(
        messages(errors),
        testing::Contains(absent + ": expected a readable file, found it cannot be opened"));
}

TEST(ConfigErrors, ToStringSortsByPosition) {
    ConfigErrors errors("p.yaml");
    ConfigNode late;
    late.line = 9;
    late.column = 2;
    late.path = "b";
    ConfigNode early;
    early.line = 3;
    early.column = 4;
    early.path = "a";
    errors.add(late, "x", "y");
    errors.add(early, "text");
    errors.add_global("", "a readable file", "none");
    EXPECT_EQ(errors.to_string(),
              "p.yaml: expected a readable file, found none\n"
              "p.yaml:3:4: a: expected text, found nothing\n"
              "p.yaml:9:2: b: expected x, found y\n");
}

TEST(ConfigErrors, MissingKeyNamesTheKeyUnderItsParent) {
    ConfigErrors errors("p.yaml");
    ConfigNode parent;
    parent.kind = ConfigNode::Kind::map;
    parent.line = 4;
    parent.column = 5;
    parent.path = "sources[1]";
    errors.missing(parent, "path", "a path");
    ConfigNode root;
    root.kind = ConfigNode::Kind::map;
    root.line = 1;
    root.column = 1;
    errors.missing(root, "sources", "a list");
    EXPECT_THAT(messages(errors),
                ElementsAre("p.yaml:4:5: sources[1].path: expected a path, found no such key",
                            "p.yaml:1:1: sources: expected a list, found no such key"));
}

TEST(ConfigErrors, KeepsEachProblemOnceAndTheMainFileFirst) {
    ConfigErrors errors("flow.yaml");
    ConfigNode other;
    other.file = errors.file_index("endpoints.yaml");
    other.line = 1;
    other.column = 1;
    ConfigNode own;
    own.line = 5;
    own.column = 1;
    errors.add(other, "x", "y");
    errors.add(own, "x", "y");
    errors.add(own, "x", "y");
    EXPECT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors.to_string(),
              "flow.yaml:5:1: expected x, found y\n"
              "endpoints.yaml:1:1: expected x, found y\n");
}

// ---- bounds on what a file may expand to ----------------------------------------------------

std::string load_error(const std::string& text) {
    ConfigErrors errors("p.yaml");
    EXPECT_FALSE(load_yaml_text(text, errors).has_value());
    EXPECT_EQ(errors.size(), 1u) << errors.to_string();
    return errors.to_string();
}

TEST(YamlBounds, AnAliasThatContainsItselfIsAnErrorNotAStackOverflow) {
    const std::string error = load_error("a: &a [*a]\nsources: []\n");
    EXPECT_NE(error.find("p.yaml:1:"), std::string::npos) << error;
    EXPECT_NE(error.find("values nested at most 64 deep"), std::string::npos) << error;
}

TEST(YamlBounds, AliasesThatExpandIntoAHugeTreeAreRefused) {
    // Nine levels of nine aliases: 9^9 values from about 500 bytes, under a key nobody reads.
    std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        std::string prev = "*a" + std::to_string(i - 1);
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
        for (int k = 1; k < 9; ++k) {
            text += ", " + prev;
        }
        text += "]\n";
    }
    const std::string error = load_error(text);
    EXPECT_NE(error.find("at most 200000 values in one document"), std::string::npos) << error;
    // The documents loader has the same bound.
    ConfigErrors errors("p.yaml");
    EXPECT_FALSE(load_yaml_documents_text(text, errors, 0).has_value());
    EXPECT_NE(errors.to_string().find("at most 200000 values"), std::string::npos);
}

TEST(YamlBounds, DeeplyNestedBracketsAndHugeFilesAreRefusedBeforeParsing) {
    const std::string deep = "a: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
    EXPECT_NE(load_error(deep).find("collections nested at most 256 deep"), std::string::npos);
    // Brackets inside quotes and comments are text, not nesting.
    ConfigErrors errors("p.yaml");
    const std::string quoted = "a: \"" + std::string(1000, '[') + "\" # " +
                               std::string(1000, '{') + "\nb: 1\n";
    EXPECT_TRUE(load_yaml_text(quoted, errors).has_value()) << errors.to_string();

    const std::string big = "a: \"" + std::string(9u << 20, 'x') + "\"\n";
    EXPECT_NE(load_error(big).find("a configuration file of at most 8 MiB"), std::string::npos);
    const auto path = std::filesystem::temp_directory_path() /
                      ("edgeflow-big-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path) << big;
    ConfigErrors file_errors(path.string());
    EXPECT_FALSE(load_yaml_file(path.string(), file_errors).has_value());
    EXPECT_NE(file_errors.to_string().find("at most 8 MiB"), std::string::npos);
    std::filesystem::remove(path);
}

TEST(YamlBounds, AMapOfManyKeysLoadsAndStillFindsADuplicate) {
    std::string text = "x:\n";
    for (int i = 0; i < 60'000; ++i) {
        text += "  k" + std::to_string(i) + ": 1\n";
    }
    ConfigErrors errors("p.yaml");
    const auto node = load_yaml_text(text, errors);
    ASSERT_TRUE(node.has_value()) << errors.to_string();
    EXPECT_EQ(node->find("x")->members.size(), 60'000u);
    text += "  k17: 2\n";
    ConfigErrors again("p.yaml");
    load_yaml_text(text, again);
    EXPECT_NE(again.to_string().find("\"k17\" again"), std::string::npos) << again.to_string();
}

}  // namespace
}  // namespace edgeflow
