// `edgeflow test`: a pipeline run on an input file, its destinations' output compared with an
// expect file. Each test writes its pipeline and files into a temporary directory and runs the
// real binary, checking the exit code and the report it prints.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/support/process.h"

using edgeflow::test::Process;
using edgeflow::test::read_lines;
using edgeflow::test::TempDir;

namespace {

struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
};

void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

/// Replaces the first `from` in `text` (which must hold it) with `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// Routes by input topic level and device, with a dead-letter destination and file endpoints
// that `edgeflow test` must leave alone.
constexpr const char* routing_pipeline = R"(sources:
  - name: plant
    kind: file
    path: does-not-exist.jsonl
destinations:
  - name: enriched
    kind: file
    path: out/enriched.jsonl
    topic: enriched/{topic.2}/{deviceId}
  - name: rejected
    kind: file
    path: out/deadletter.jsonl
    dead_letter: true
    topic: deadletter/{topic}
runtime:
  workers: 2
  batch_size: 4
)";

constexpr const char* routing_input =
    R"({"topic":"plant/line1/t","payload":{"deviceId":"d1","temperature":21.5,"count":1}}
{"topic":"plant/line2/t","payload":{"deviceId":"d2","temperature":77.5,"count":2},"properties":{"trace":"abc","site":"s7"}}
{"topic":"plant/line1/t","payload":{"deviceId":"d1","temperature":22.0,"tags":["a","b"]}}
{"topic":"plant/line1/t","payload":"{\"deviceId\":"}
{"topic":"plant/line3/t","payload":{"temperature":1}}
{"topic":"plant/line2/t","payload":{"deviceId":"d2","nested":{"x":1,"y":[1,2.5]}}}
)";

// What the pipeline above makes of the input: member order shuffled and properties reordered,
// since neither matters.
constexpr const char* routing_expected =
    R"({"topic":"enriched/line1/d1","payload":{"temperature":21.5,"deviceId":"d1","count":1}}
{"topic":"enriched/line2/d2","payload":{"deviceId":"d2","temperature":77.5,"count":2},"properties":{"site":"s7","trace":"abc"}}
{"topic":"enriched/line1/d1","payload":{"deviceId":"d1","temperature":22.0,"tags":["a","b"]}}
{"destination":"rejected","topic":"deadletter/plant/line1/t","payload":{"reason":"invalid_json","stage":"parse","detail":"JSON document ended early in the middle of an object or array.","source":"plant","source_topic":"plant/line1/t","source_line":4,"payload":"{\"deviceId\":"}}
{"destination":"rejected","topic":"deadletter/plant/line3/t","payload":{"reason":"topic_unresolved","stage":"route","detail":"payload field 'deviceId' is missing or not a scalar","source":"plant","source_topic":"plant/line3/t","source_line":5,"payload":"{\"temperature\":1}"}}
{"topic":"enriched/line2/d2","payload":{"deviceId":"d2","nested":{"y":[1,2.5],"x":1}}}
)";

class TestCommand : public testing::Test {
protected:
    void SetUp() override {
        write(dir_.file("pipeline.yaml"), routing_pipeline);
        write(dir_.file("input.jsonl"), routing_input);
    }

    Outcome run(std::vector<std::string> args, const std::string& cwd = {}) {
        args.insert(args.begin(), {EDGEFLOW_BINARY, "test"});
        Process process(std::move(args), dir_.file("test-" + std::to_string(++runs_)), cwd);
        EXPECT_TRUE(process.started());
        const auto code = process.wait(std::chrono::seconds(30));
        EXPECT_TRUE(code.has_value()) << "edgeflow test did not finish";
        return {code.value_or(-1), process.out(), process.err()};
    }

    /// Runs the routing pipeline on its input against `expected`.
    Outcome check(const std::string& expected, std::vector<std::string> extra = {}) {
        write(dir_.file("expected.jsonl"), expected);
        std::vector<std::string> args{"-c",       dir_.file("pipeline.yaml"),
                                      "--input",  dir_.file("input.jsonl"),
                                      "--expect", dir_.file("expected.jsonl")};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(std::move(args));
    }

    TempDir dir_{"test-command-" +
                 std::string(testing::UnitTest::GetInstance()->current_test_info()->name())};
    int runs_ = 0;
};

TEST_F(TestCommand, MatchingOutputExitsZeroAndTouchesNoRealDestination) {
    const auto result = check(routing_expected);
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "6 of 6 messages match\n");
    EXPECT_FALSE(std::filesystem::exists(dir_.file("out"))) << "a real destination was written";
}

TEST_F(TestCommand, QuickstartExampleCommandPasses) {
    // Exactly the command the docs show, from the top of the repository.
    const auto result = run(
        {"-c", "examples/quickstart/pipeline.yaml", "--input",
         "examples/quickstart/telemetry.jsonl", "--expect", "examples/quickstart/expected.jsonl"},
        EDGEFLOW_SOURCE_DIR);
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "27 of 27 messages match\n");
}

TEST_F(TestCommand, TransformsExampleCommandPasses) {
    // The transforms example: datasets, filter, map, `? $last` per device and routing by
    // $metadata.topic, checked against its expected output as docs/transforms.md shows.
    const auto result = run(
        {"-c", "examples/transforms/pipeline.yaml", "--input",
         "examples/transforms/telemetry.jsonl", "--expect", "examples/transforms/expected.jsonl"},
        EDGEFLOW_SOURCE_DIR);
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "26 of 26 messages match\n");
}

TEST_F(TestCommand, HeuristicsExampleCommandPasses) {
    // The stateful example: last known values and five rule kinds, on the event clock that
    // `edgeflow test` runs stateful stages on, checked as docs/stateful.md shows.
    const auto result = run(
        {"-c", "examples/heuristics/pipeline.yaml", "--input",
         "examples/heuristics/telemetry.jsonl", "--expect", "examples/heuristics/expected.jsonl"},
        EDGEFLOW_SOURCE_DIR);
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "24 of 24 messages match\n");
}

TEST_F(TestCommand, ChangedValueNamesThePathAndBothValues) {
    const auto result =
        check(replaced(routing_expected, "\"temperature\":77.5", "\"temperature\":77.0"));
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("destination enriched, message 2 (input line 2): "
                              "payload.temperature: expected 77.0, got 77.5\n"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("5 of 6 messages match; 1 differs\n"), std::string::npos)
        << result.out;
}

TEST_F(TestCommand, NestedArrayTopicAndPropertyDifferencesAreEachNamed) {
    auto expected = replaced(routing_expected, "\"y\":[1,2.5]", "\"y\":[1,2.5,3]");
    expected = replaced(expected, "\"topic\":\"enriched/line1/d1\",\"payload\":{\"deviceId\"",
                        "\"topic\":\"enriched/line9/d1\",\"payload\":{\"deviceId\"");
    expected = replaced(expected, "{\"site\":\"s7\",", "{\"site\":\"s8\",");
    const auto result = check(expected);
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("message 4 (input line 6): payload.nested.y.2: expected 3, got "
                              "nothing\n"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("message 3 (input line 3): topic: expected "
                              "\"enriched/line9/d1\", got \"enriched/line1/d1\"\n"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("message 2 (input line 2): properties: missing \"site\":\"s8\"\n"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("message 2 (input line 2): properties: unexpected \"site\":\"s7\"\n"),
              std::string::npos)
        << result.out;
}

TEST_F(TestCommand, IntegerAndFloatAreDifferentValues) {
    const auto result = check(replaced(routing_expected, "\"count\":1}", "\"count\":1.0}"));
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("message 1 (input line 1): payload.count: expected 1.0 (a float), "
                              "got 1 (an integer)\n"),
              std::string::npos)
        << result.out;
}

TEST_F(TestCommand, MissingAndExtraMessagesAreReported) {
    // Drop the third expected message and expect one the pipeline never sends.
    auto lines = std::vector<std::string>();
    {
        std::istringstream in(routing_expected);
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
    }
    std::string expected;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i != 2) {
            expected += lines[i] + "\n";
        }
    }
    expected += R"({"topic":"enriched/line4/d4","payload":{"deviceId":"d4"}})"
                "\n";
    const auto result = check(expected);
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("destination enriched, unexpected message (input line 3): "
                              "{\"topic\":\"enriched/line1/d1\",\"payload\":{\"deviceId\":\"d1\","
                              "\"temperature\":22.0,\"tags\":[\"a\",\"b\"]}}\n"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("destination enriched, message 4 (expect line 6): missing from the "
                              "output: {\"topic\":\"enriched/line4/d4\",\"payload\":{\"deviceId\":"
                              "\"d4\"}}\n"),
              std::string::npos)
        << result.out;
    // The messages around the gap still line up: no cascade of differences.
    EXPECT_NE(result.out.find("5 of 6 messages match; 1 missing, 1 unexpected\n"),
              std::string::npos)
        << result.out;
}

TEST_F(TestCommand, DeadLetterExpectationsAreCompared) {
    auto result = check(replaced(routing_expected, "\"reason\":\"topic_unresolved\"",
                                 "\"reason\":\"invalid_json\""));
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("destination rejected, message 2 (input line 5): payload.reason: "
                              "expected \"invalid_json\", got \"topic_unresolved\"\n"),
              std::string::npos)
        << result.out;

    // Without the dead-letter lines, the dead letters are unexpected.
    std::string outputs_only;
    std::istringstream in(routing_expected);
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"destination\":\"rejected\"") == std::string::npos) {
            outputs_only += line + "\n";
        }
    }
    result = check(outputs_only);
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("destination rejected, unexpected message (input line 4): "
                              "{\"topic\":\"deadletter/plant/line1/t\""),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("4 of 4 messages match; 2 unexpected\n"), std::string::npos)
        << result.out;

    // --destination checks one destination only: here the dead letters alone.
    std::string dead_only;
    std::istringstream again(routing_expected);
    for (std::string line; std::getline(again, line);) {
        if (line.find("\"destination\":\"rejected\"") != std::string::npos) {
            dead_only += line + "\n";
        }
    }
    result = check(dead_only, {"--destination", "rejected"});
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "2 of 2 messages match\n");
}

TEST_F(TestCommand, SeveralDestinationsNeedEachLineToNameOne) {
    write(dir_.file("pipeline.yaml"), replaced(routing_pipeline, "  - name: rejected",
                                               "  - name: copy\n    kind: null\n"
                                               "    topic: copy/{topic.2}\n"
                                               "  - name: rejected"));
    auto result = check(routing_expected);
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("expected.jsonl:1: no \"destination\": the pipeline has several "
                              "destinations (enriched, copy)"),
              std::string::npos)
        << result.err;

    std::string named;
    std::istringstream in(routing_expected);
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"destination\"") == std::string::npos) {
            named += "{\"destination\":\"enriched\"," + line.substr(1) + "\n";
        }
    }
    result = check(named, {"--destination", "enriched"});
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "4 of 4 messages match\n");
}

TEST_F(TestCommand, NoBrokerIsContactedForMqttEndpoints) {
    write(dir_.file("pipeline.yaml"),
          "sources:\n  - name: plant\n    kind: mqtt\n    broker: tcp://127.0.0.1:1\n"
          "    topics: [\"plant/#\"]\n"
          "destinations:\n  - name: enriched\n    kind: mqtt\n    broker: tcp://127.0.0.1:1\n"
          "    topic: enriched/{topic.2}/{deviceId}\n"
          "  - name: rejected\n    kind: mqtt\n    broker: tcp://127.0.0.1:1\n"
          "    dead_letter: true\n    topic: deadletter/{topic}\n");
    const auto result = check(routing_expected);
    EXPECT_EQ(result.code, 0) << result.out << result.err;
    EXPECT_EQ(result.err.find("cannot connect"), std::string::npos) << result.err;
}

TEST_F(TestCommand, ReportIsCappedAtFiftyMessages) {
    std::string input;
    std::string expected;
    // 300 changed messages: more edits than the alignment takes on, so compared by position.
    for (int i = 0; i < 300; ++i) {
        input +=
            R"({"topic":"plant/l/t","payload":{"deviceId":"d","seq":)" + std::to_string(i) + "}}\n";
        expected += R"({"topic":"enriched/l/d","payload":{"deviceId":"d","seq":)" +
                    std::to_string(i + 1000) + "}}\n";
    }
    write(dir_.file("input.jsonl"), input);
    const auto result = check(expected);
    EXPECT_EQ(result.code, 1) << result.err;
    EXPECT_NE(result.out.find("message 50 (input line 50): payload.seq: expected 1049, got 49\n"),
              std::string::npos)
        << result.out;
    EXPECT_EQ(result.out.find("message 51 "), std::string::npos);
    EXPECT_NE(result.out.find("… and 250 more differing message(s) not shown\n"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("0 of 300 messages match; 300 differ\n"), std::string::npos);
}

TEST_F(TestCommand, BadArgumentsExitTwo) {
    write(dir_.file("expected.jsonl"), routing_expected);
    const auto pipeline = dir_.file("pipeline.yaml");
    const auto input = dir_.file("input.jsonl");
    const auto expect = dir_.file("expected.jsonl");

    auto result = run({"-c", pipeline, "--input", input});
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("--expect FILE is required"), std::string::npos) << result.err;

    result = run({"-c", pipeline, "--input", input, "--expect", expect, "--frobnicate"});
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("unknown argument '--frobnicate'"), std::string::npos);

    result = run({"-c", pipeline, "--input", dir_.file("missing.jsonl"), "--expect", expect});
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("cannot open --input"), std::string::npos) << result.err;

    result = run({"-c", pipeline, "--input", input, "--expect", expect, "--destination", "x"});
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("no destination 'x' (it has: enriched, rejected)"), std::string::npos)
        << result.err;

    write(dir_.file("bad.jsonl"),
          "{\"topic\":\"a\",\"payload\":1}\nnot json\n{\"topic\":\"a\",\"payload\":1,\"qos\":1}\n"
          "{\"topic\":\"a\",\"payload\":1,\"destination\":\"nowhere\"}\n");
    result = run({"-c", pipeline, "--input", input, "--expect", dir_.file("bad.jsonl")});
    EXPECT_EQ(result.code, 2);
    EXPECT_NE(result.err.find("bad.jsonl:2: expected one JSON object per line"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("bad.jsonl:3: unknown key \"qos\""), std::string::npos);
    EXPECT_NE(result.err.find("bad.jsonl:4: the pipeline has no destination \"nowhere\""),
              std::string::npos);
    EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST_F(TestCommand, ConfigurationErrorExitsThreeAndIsPrintedAsCheckDoes) {
    write(dir_.file("pipeline.yaml"),
          replaced(routing_pipeline, "  batch_size: 4", "  batch_size: 0\n  wrokers: 2"));
    const auto result = check(routing_expected);
    EXPECT_EQ(result.code, 3);
    EXPECT_TRUE(
        std::regex_search(result.err, std::regex(R"(pipeline\.yaml:\d+:\d+: runtime\.batch_size: )"
                                                 R"(expected a whole number from 1 to 4096)")))
        << result.err;
    EXPECT_NE(result.err.find("runtime.wrokers"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("pipeline.yaml: 2 problem(s)"), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty());
}

TEST_F(TestCommand, HelpDocumentsTheExitCodes) {
    const auto result = run({"--help"});
    EXPECT_EQ(result.code, 0);
    EXPECT_NE(result.out.find("Exit codes: 0"), std::string::npos);
    EXPECT_NE(result.out.find("3 configuration error"), std::string::npos);
}

}  // namespace
