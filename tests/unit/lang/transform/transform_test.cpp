// Transform::apply on a warm scratch: every rule kind at once allocates nothing per message.
// (The semantics are covered by the golden cases, file to file.)
#include "lang/transform/transform.h"

#include <gtest/gtest.h>

#include "core/config/yaml_loader.h"
#include "core/json_writer.h"
#include "tests/support/malloc_counter.h"

namespace edgeflow::transform {
namespace {

// {"deviceId":"dev-2","temperature":21.5,"status":"ok","sequence":9,"meta":{"line":1}}
void fill(Message& m) {
    m.topic = "plant/line1/telemetry";
    m.record.clear();
    const auto root = m.record.open_object({});
    m.record.add_string("deviceId", "dev-2");
    m.record.add_double("temperature", 21.5);
    m.record.add_string("status", "ok");
    m.record.add_int64("sequence", 9);
    const auto meta = m.record.open_object("meta");
    m.record.add_int64("line", 1);
    m.record.close(meta);
    m.record.close(root);
    m.property_count = 0;
    m.add_property("site", "s7");
}

TEST(TransformApply, WarmScratchAllocatesNothing) {
    if (!test::malloc_counted) {
        GTEST_SKIP() << "allocations are not counted under sanitizers";
    }
    ConfigErrors errors("transform");
    auto node = load_yaml_text(R"(
datasets:
  - {key: assets as a, inputs: [$source.deviceId, $context.id], expression: '$1 == $2'}
filter:
  - {inputs: [temperature], drop_when: '$1 > 1000'}
map:
  - {inputs: ['*'], output: '*'}
  - {inputs: [temperature], output: temperature, expression: 'round_n(cToF($1), 1)'}
  - {inputs: ['humidity ? $last ?? 0.5'], output: humidity}
  - {inputs: [status, sequence], output: label, expression: 'str::to_uppercase($1) + "-" + $2'}
  - {inputs: ['$context(a).site'], output: site}
  - {inputs: [$metadata.user_property.site], output: $metadata.user_property.origin}
  - {inputs: [deviceId], output: $metadata.topic, expression: '"out/" + $1'}
  - {inputs: ['meta.*'], output: 'flat.*'}
  - {inputs: [sequence], output: ''}
)",
                               errors);
    ASSERT_TRUE(node.has_value()) << errors.to_string();
    auto assets = std::make_shared<Dataset>("assets", 100);
    const auto spec = parse_transform_spec(*node, errors);
    auto t = Transform::compile(spec, parse_partition_key(nullptr, errors), {{"assets", assets}},
                                errors);
    ASSERT_TRUE(t.has_value()) << errors.to_string();
    ASSERT_TRUE(
        assets->load("{\"id\":\"dev-1\",\"site\":\"A\"}\n{\"id\":\"dev-2\",\"site\":\"B\"}\n"));

    Message m;
    TransformScratch scratch;
    std::string json;
    fill(m);
    ASSERT_EQ(t->apply(m, scratch), Outcome::kept) << m.dead_letter_detail;
    json::append_record(json, m.record);
    // temperature and meta.line are specialized by later rules (converted, promoted), so the
    // pass-through keeps neither where it was; sequence is deleted.
    EXPECT_EQ(json,
              "{\"deviceId\":\"dev-2\",\"status\":\"ok\",\"temperature\":70.7,\"humidity\":0.5,"
              "\"label\":\"OK-9\",\"site\":\"B\",\"flat\":{\"line\":1}}");
    EXPECT_EQ(m.output_topic, "out/dev-2");
    ASSERT_EQ(m.property_count, 2u);
    EXPECT_EQ(m.properties[1].value, "s7");

    // The output Record is swapped with the message's, so the two buffers take turns: a few
    // messages grow both to the larger document; after that nothing is allocated.
    for (int i = 0; i < 3; ++i) {
        fill(m);
        ASSERT_EQ(t->apply(m, scratch), Outcome::kept);
    }
    const std::size_t before = test::allocation_count();
    for (int i = 0; i < 1000; ++i) {
        fill(m);
        ASSERT_EQ(t->apply(m, scratch), Outcome::kept);
    }
    EXPECT_EQ(test::allocation_count(), before);
}

// The static-plan path (plain rules after a pass-through) and the direct path (a rule writing
// into a field the copy keeps) are warm-allocation-free too.
TEST(TransformApply, PlanAndDirectPathsAllocateNothing) {
    if (!test::malloc_counted) {
        GTEST_SKIP() << "allocations are not counted under sanitizers";
    }
    struct Case {
        const char* map;
        const char* output;
    };
    for (const Case& c : {
             Case{"map:\n  - {inputs: ['*'], output: '*'}\n"
                  "  - {inputs: [temperature], output: temperature, expression: 'cToF($1)'}\n"
                  "  - {inputs: [deviceId], output: device.id}\n"
                  "  - {inputs: [sequence], output: ''}\n",
                  "{\"status\":\"ok\",\"meta\":{\"line\":1},\"temperature\":70.7,"
                  "\"device\":{\"id\":\"dev-2\"}}"},
             Case{"map:\n  - {inputs: ['*'], output: '*'}\n"
                  "  - {inputs: [sequence], output: meta.seq}\n",  // merges into the copied meta
                  "{\"deviceId\":\"dev-2\",\"temperature\":21.5,\"status\":\"ok\","
                  "\"meta\":{\"line\":1,\"seq\":9}}"},
         }) {
        const char* map = c.map;
        ConfigErrors errors("transform");
        auto node = load_yaml_text(map, errors);
        ASSERT_TRUE(node.has_value()) << errors.to_string();
        auto t = Transform::compile(parse_transform_spec(*node, errors),
                                    parse_partition_key(nullptr, errors), {}, errors);
        ASSERT_TRUE(t.has_value()) << errors.to_string();
        Message m;
        TransformScratch scratch;
        for (int i = 0; i < 4; ++i) {
            fill(m);
            ASSERT_EQ(t->apply(m, scratch), Outcome::kept);
        }
        std::string json;
        json::append_record(json, m.record);
        EXPECT_EQ(json, c.output);
        const std::size_t before = test::allocation_count();
        for (int i = 0; i < 1000; ++i) {
            fill(m);
            ASSERT_EQ(t->apply(m, scratch), Outcome::kept);
        }
        EXPECT_EQ(test::allocation_count(), before) << map;
    }
}

}  // namespace
}  // namespace edgeflow::transform
