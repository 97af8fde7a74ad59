// Whole pipelines, file to file, against golden outputs.
//
// Each folder under cases/ holds a pipeline.yaml whose paths are relative to it, its inputs,
// and expected/: every file there must equal the file of the same name that the run writes
// under out/. A case holding a file named UNORDERED (several sources) is compared as sorted
// lines. Set EDGEFLOW_UPDATE_GOLDEN=1 to rewrite expected/ from a run (then review the diff).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "tests/support/process.h"

namespace fs = std::filesystem;
using edgeflow::test::Process;
using edgeflow::test::read_file;
using edgeflow::test::read_lines;
using edgeflow::test::TempDir;

namespace {

const fs::path cases_dir = fs::path(EDGEFLOW_SOURCE_DIR) / "tests/golden/cases";

std::vector<std::string> case_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(cases_dir)) {
        if (entry.is_directory()) {
            names.push_back(entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

void write_text(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
}

/// Runs `edgeflow run` on the pipeline.yaml in `work` to its end; the process, for its output.
std::unique_ptr<Process> run_to_end(TempDir& work, std::chrono::seconds limit) {
    auto run = std::make_unique<Process>(
        std::vector<std::string>{EDGEFLOW_BINARY, "run", "-c", work.file("pipeline.yaml")},
        work.file("run"));
    const auto code = run->wait(limit);
    EXPECT_TRUE(code.has_value()) << "edgeflow did not finish a finite pipeline";
    EXPECT_EQ(code.value_or(-1), 0) << run->err();
    return run;
}

class GoldenCase : public testing::TestWithParam<std::string> {};

TEST_P(GoldenCase, OutputMatchesExpected) {
    const fs::path source = cases_dir / GetParam();
    TempDir work("golden-" + GetParam());
    for (const auto& entry : fs::directory_iterator(source)) {
        if (entry.is_regular_file()) {
            fs::copy_file(entry.path(), fs::path(work.path()) / entry.path().filename());
        }
    }
    Process run({EDGEFLOW_BINARY, "run", "-c", work.file("pipeline.yaml")}, work.file("run"));
    ASSERT_TRUE(run.started());
    const auto code = run.wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.has_value()) << "edgeflow did not finish a finite pipeline";
    ASSERT_EQ(*code, 0) << run.err();

    const bool unordered = fs::exists(source / "UNORDERED");
    const fs::path expected_dir = source / "expected";
    const fs::path out_dir = fs::path(work.path()) / "out";
    if (std::getenv("EDGEFLOW_UPDATE_GOLDEN") != nullptr) {
        fs::create_directories(expected_dir);
        for (const auto& entry : fs::directory_iterator(out_dir)) {
            fs::copy_file(entry.path(), expected_dir / entry.path().filename(),
                          fs::copy_options::overwrite_existing);
        }
        GTEST_SKIP() << "expected/ rewritten from this run";
    }
    ASSERT_TRUE(fs::exists(expected_dir)) << "no expected/ for " << GetParam();
    std::set<std::string> expected_files;
    for (const auto& entry : fs::directory_iterator(expected_dir)) {
        const auto name = entry.path().filename().string();
        expected_files.insert(name);
        const auto actual_path = (out_dir / name).string();
        ASSERT_TRUE(fs::exists(actual_path)) << "the run wrote no " << name;
        if (unordered) {
            auto want = read_lines(entry.path().string());
            auto got = read_lines(actual_path);
            std::sort(want.begin(), want.end());
            std::sort(got.begin(), got.end());
            EXPECT_EQ(got, want) << name;
        } else {
            EXPECT_EQ(read_file(actual_path), read_file(entry.path().string())) << name;
        }
    }
    for (const auto& entry : fs::directory_iterator(out_dir)) {
        EXPECT_TRUE(expected_files.count(entry.path().filename().string()) == 1)
            << "the run wrote " << entry.path().filename() << ", which expected/ lacks";
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenCase, testing::ValuesIn(case_names()),
                         [](const auto& param_info) {
                             std::string name = param_info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

// Many workers and tiny batches give batches every chance to overtake each other inside the
// graph; the output must still keep each topic's messages in input order.
TEST(GoldenOrder, PerTopicOrderSurvivesParallelWorkers) {
    TempDir work("golden-order");
    constexpr int messages = 6000;
    constexpr int topics = 7;
    {
        std::string input;
        for (int i = 0; i < messages; ++i) {
            input += "{\"topic\":\"t/" + std::to_string(i % topics) +
                     "\",\"payload\":{\"seq\":" + std::to_string(i) + ",\"pad\":\"" +
                     std::string(i % 97, 'x') + "\"}}\n";
        }
        write_text(work.file("input.jsonl"), input);
        write_text(work.file("pipeline.yaml"),
                   "sources: [{kind: file, path: input.jsonl}]\n"
                   "destinations: [{kind: file, path: out.jsonl, topic: 'o/{topic.2}'}]\n"
                   "runtime: {workers: 4, batch_size: 3, max_in_flight_batches: 64}\n");
    }
    const auto run = run_to_end(work, std::chrono::seconds(60));
    if (HasFailure()) {
        return;
    }
    const auto lines = read_lines(work.file("out.jsonl"));
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(messages));
    std::map<std::string, int> last_seq;
    int previous_overall = -1;
    bool globally_ordered = true;
    for (const auto& line : lines) {
        const auto topic = line.substr(10, line.find('"', 10) - 10);
        const auto at = line.find("\"seq\":") + 6;
        const int seq = std::stoi(line.substr(at));
        auto [it, inserted] = last_seq.emplace(topic, seq);
        if (!inserted) {
            EXPECT_GT(seq, it->second) << "topic " << topic << " out of order";
            it->second = seq;
        }
        globally_ordered = globally_ordered && seq > previous_overall;
        previous_overall = seq;
    }
    EXPECT_EQ(last_seq.size(), static_cast<std::size_t>(topics));
    // One source: the engine keeps its whole order, not only each topic's.
    EXPECT_TRUE(globally_ordered);
}

}  // namespace

// A stateless transform runs on every worker at once: each message's values (metadata read,
// strings built) must stay its own. Tiny batches and four workers interleave them as much as
// possible; every output must carry exactly its input's property and sequence.
TEST(GoldenParallel, StatelessTransformKeepsEachMessagesValues) {
    TempDir work("golden-parallel-transform");
    constexpr int messages = 20000;
    {
        std::string input;
        for (int i = 0; i < messages; ++i) {
            input += "{\"topic\":\"t/" + std::to_string(i % 5) +
                     "\",\"payload\":{\"seq\":" + std::to_string(i) +
                     "},\"properties\":{\"tag\":\"tag-" + std::to_string(i) + "\"}}\n";
        }
        write_text(work.file("input.jsonl"), input);
        write_text(work.file("pipeline.yaml"),
                   "sources: [{kind: file, path: input.jsonl}]\n"
                   "destinations: [{kind: file, path: out.jsonl}]\n"
                   "runtime: {workers: 4, batch_size: 2, max_in_flight_batches: 64}\n"
                   "stages:\n"
                   "  - kind: transform\n"
                   "    map:\n"
                   "      - {inputs: [seq], output: seq}\n"
                   "      - {inputs: [$metadata.user_property.tag, seq], output: label,\n"
                   "         expression: 'str::to_uppercase($1) + \"/\" + $2'}\n");
    }
    const auto run = run_to_end(work, std::chrono::seconds(60));
    if (HasFailure()) {
        return;
    }
    const auto lines = read_lines(work.file("out.jsonl"));
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(messages));
    for (const auto& line : lines) {
        const auto at = line.find("\"seq\":") + 6;
        const std::string seq = line.substr(at, line.find(',', at) - at);
        EXPECT_NE(line.find("\"label\":\"TAG-" + seq + "/" + seq + "\""), std::string::npos)
            << line;
    }
}

// Last values are bounded: keys past last_values.max_keys and messages without a partition key
// get none, and the run summary counts both.
TEST(GoldenLastValues, KeysPastTheBoundAndMissingKeysAreCounted) {
    TempDir work("golden-last-values-bound");
    {
        write_text(work.file("input.jsonl"),
                   "{\"topic\":\"t\",\"payload\":{\"id\":\"a\",\"v\":1}}\n"
                   "{\"topic\":\"t\",\"payload\":{\"id\":\"b\",\"v\":2}}\n"
                   "{\"topic\":\"t\",\"payload\":{\"id\":\"c\",\"v\":3}}\n"
                   "{\"topic\":\"t\",\"payload\":{\"id\":\"c\"}}\n"
                   "{\"topic\":\"t\",\"payload\":{\"id\":\"a\"}}\n"
                   "{\"topic\":\"t\",\"payload\":{\"v\":9}}\n");
        write_text(work.file("pipeline.yaml"),
                   "sources: [{kind: file, path: input.jsonl}]\n"
                   "destinations: [{kind: file, path: out.jsonl}]\n"
                   "partition_key: id\n"
                   "stages:\n"
                   "  - kind: transform\n"
                   "    last_values: {max_keys: 2}\n"
                   "    map: [{inputs: ['v ? $last ?? 0'], output: v}]\n");
    }
    const auto run = run_to_end(work, std::chrono::seconds(30));
    if (HasFailure()) {
        return;
    }
    // a and b are remembered; c is past the bound (twice); the last message has no id.
    EXPECT_EQ(
        read_lines(work.file("out.jsonl")),
        (std::vector<std::string>{
            "{\"topic\":\"t\",\"payload\":{\"v\":1}}", "{\"topic\":\"t\",\"payload\":{\"v\":2}}",
            "{\"topic\":\"t\",\"payload\":{\"v\":3}}", "{\"topic\":\"t\",\"payload\":{\"v\":0}}",
            "{\"topic\":\"t\",\"payload\":{\"v\":1}}", "{\"topic\":\"t\",\"payload\":{\"v\":9}}"}));
    EXPECT_NE(run->out().find("last values: 2 key(s), 2 message(s) of keys past "
                              "last_values.max_keys, 1 message(s) without a partition key"),
              std::string::npos)
        << run->out();
}

// A message whose dataset lookup finds nothing goes on without the dataset's fields; the run
// summary counts those misses.
TEST(GoldenDatasets, MissesAreCountedInTheSummary) {
    TempDir work("golden-dataset-misses");
    write_text(work.file("assets.jsonl"), "{\"id\":\"a\",\"site\":\"Oslo\"}\n");
    write_text(work.file("input.jsonl"),
               "{\"topic\":\"t\",\"payload\":{\"id\":\"a\"}}\n"
               "{\"topic\":\"t\",\"payload\":{\"id\":\"b\"}}\n"
               "{\"topic\":\"t\",\"payload\":{\"id\":\"c\"}}\n");
    write_text(work.file("pipeline.yaml"),
               "sources: [{kind: file, path: input.jsonl}]\n"
               "destinations: [{kind: file, path: out.jsonl}]\n"
               "datasets: {assets: {file: assets.jsonl}}\n"
               "stages:\n"
               "  - kind: transform\n"
               "    datasets: [{key: assets as a, inputs: [$source.id, $context.id],\n"
               "                expression: '$1 == $2'}]\n"
               "    map: [{inputs: ['*'], output: '*'}, {inputs: ['$context(a).site'], "
               "output: site}]\n");
    const auto run = run_to_end(work, std::chrono::seconds(30));
    if (HasFailure()) {
        return;
    }
    EXPECT_EQ(
        read_lines(work.file("out.jsonl")),
        (std::vector<std::string>{"{\"topic\":\"t\",\"payload\":{\"id\":\"a\",\"site\":\"Oslo\"}}",
                                  "{\"topic\":\"t\",\"payload\":{\"id\":\"b\"}}",
                                  "{\"topic\":\"t\",\"payload\":{\"id\":\"c\"}}"}));
    EXPECT_NE(run->out().find("dataset lookups without a match: 2"), std::string::npos)
        << run->out();
}

// A replay on the event clock gives the same events byte for byte whatever the batches and
// workers: every stateful case is run again with batches of one message and a single worker
// (the shards stay as the case sets them) and must write exactly its expected files.
TEST(GoldenStateful, ReplayIsTheSameWhateverTheBatchesAndWorkers) {
    for (const std::string& name : case_names()) {
        if (!name.starts_with("stateful-")) {
            continue;
        }
        SCOPED_TRACE(name);
        const fs::path source = cases_dir / name;
        TempDir work("golden-replay-" + name);
        for (const auto& entry : fs::directory_iterator(source)) {
            if (entry.is_regular_file()) {
                fs::copy_file(entry.path(), fs::path(work.path()) / entry.path().filename());
            }
        }
        std::string pipeline = read_file((source / "pipeline.yaml").string());
        const auto runtime = pipeline.find("runtime: {");
        ASSERT_NE(runtime, std::string::npos) << "a stateful case sets its runtime";
        const auto shards = pipeline.find("shards: ", runtime);
        ASSERT_NE(shards, std::string::npos);
        const auto shards_end = pipeline.find_first_of(",}", shards);
        pipeline.replace(runtime, pipeline.find('}', runtime) + 1 - runtime,
                         "runtime: {workers: 1, batch_size: 1, " +
                             pipeline.substr(shards, shards_end - shards) + "}");
        write_text(work.file("pipeline.yaml"), pipeline);
        run_to_end(work, std::chrono::seconds(30));
        for (const auto& entry : fs::directory_iterator(source / "expected")) {
            EXPECT_EQ(read_file(work.file("out/" + entry.path().filename().string())),
                      read_file(entry.path().string()))
                << entry.path().filename();
        }
    }
}

// The same with shards from the workers (`shards: auto`): one, two and four workers, with
// batches of 1, 7 and 64 messages, must all write the expected files byte for byte. The events
// that timers raise at one instant for keys on different shards come out in one order.
TEST(GoldenStateful, TimerEventsAreTheSameWithAnyNumberOfWorkers) {
    const std::string name = "stateful-timers-shards";
    const fs::path source = cases_dir / name;
    const std::string pipeline = read_file((source / "pipeline.yaml").string());
    const std::string runtime = "runtime: {workers: 2, shards: auto, batch_size: 16}";
    ASSERT_NE(pipeline.find(runtime), std::string::npos);
    for (const int workers : {1, 2, 4}) {
        for (const int batch : {1, 7, 64}) {
            SCOPED_TRACE("workers " + std::to_string(workers) + ", batch " + std::to_string(batch));
            TempDir work("golden-workers-" + std::to_string(workers) + "-" + std::to_string(batch));
            fs::copy_file(source / "input.jsonl", fs::path(work.path()) / "input.jsonl");
            std::string text = pipeline;
            text.replace(text.find(runtime), runtime.size(),
                         "runtime: {workers: " + std::to_string(workers) +
                             ", shards: auto, batch_size: " + std::to_string(batch) + "}");
            write_text(work.file("pipeline.yaml"), text);
            run_to_end(work, std::chrono::seconds(30));
            for (const auto& entry : fs::directory_iterator(source / "expected")) {
                EXPECT_EQ(read_file(work.file("out/" + entry.path().filename().string())),
                          read_file(entry.path().string()))
                    << entry.path().filename();
            }
        }
    }
}
