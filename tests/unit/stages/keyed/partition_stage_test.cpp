#include "stages/keyed/partition_stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/stateful.h"

namespace edgeflow {
namespace {

// A message whose event time cannot be read is a dead letter whose detail names the field and
// what it held (cut to a bounded length), so the record says what to fix.
TEST(PartitionStage, ABadEventTimeNamesTheFieldAndTheValue) {
    ConfigErrors errors("test.yaml");
    const auto spec = transform::parse_formula(test::yaml("{inputs: [ts]}"), errors);
    auto time = transform::Formula::compile(spec, "the event time", nullptr, errors);
    ASSERT_TRUE(time.has_value()) << errors.to_string();
    auto stage = make_stage(
        PartitionStage(nullptr, std::make_shared<const transform::Formula>(std::move(*time)),
                       TimeFormat::auto_detect));
    stage->prepare(1);

    const std::string long_text(200, 'x');
    const std::vector<std::string> payloads = {R"({"ts":"2026-01-01T00:00:00Z"})", R"({"other":1})",
                                               R"({"ts":"yesterday"})", R"({"ts":{"s":1}})",
                                               "{\"ts\":\"" + long_text + "\"}"};
    std::vector<Message> messages(payloads.size());
    Batch batch(payloads.size(), 1, 1, 1);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        messages[i].topic = "t";
        messages[i].record = test::record_of(payloads[i]);
        batch.push(&messages[i]);
    }
    StageContext ctx{0, stage->counters};
    stage->process(batch, ctx);

    EXPECT_EQ(messages[0].dead_letter, DeadLetterReason::none);
    for (std::size_t i = 1; i < messages.size(); ++i) {
        EXPECT_EQ(messages[i].dead_letter, DeadLetterReason::event_time_invalid) << i;
        EXPECT_EQ(messages[i].dead_letter_stage, "partition");
    }
    EXPECT_EQ(messages[1].dead_letter_detail, "event_time ts: missing");
    EXPECT_EQ(messages[2].dead_letter_detail, "event_time ts: \"yesterday\", not a timestamp");
    EXPECT_EQ(messages[3].dead_letter_detail, "event_time ts: an object, not a timestamp");
    EXPECT_EQ(messages[4].dead_letter_detail,
              "event_time ts: \"" + long_text.substr(0, 64) + "...\", not a timestamp");
}

}  // namespace
}  // namespace edgeflow
