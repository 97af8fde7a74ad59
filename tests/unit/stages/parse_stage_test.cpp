#include "stages/parse_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "io/envelope.h"

namespace edgeflow {
namespace {

using testing::HasSubstr;

constexpr std::size_t worker_slots = 2;

class ParseStageTest : public testing::Test {
protected:
    explicit ParseStageTest(ParseConfig config = {}) : stage_(config) {
        stage_.prepare(worker_slots);
    }

    // Parses `payload` (copied with simdjson padding, as sources do) on worker 1.
    bool parse(std::string_view payload) {
        message_.reset();
        assign_padded(message_.payload, payload);
        return stage_.parse(message_, 1);
    }
    ValueRef root() const { return message_.record.root(); }

    // The record written back as JSON, to compare whole documents.
    std::string json() const {
        std::string out;
        json::append_record(out, message_.record);
        return out;
    }

    void expect_invalid_json(std::string_view payload) {
        SCOPED_TRACE(testing::Message() << "payload: " << payload);
        EXPECT_FALSE(parse(payload));
        EXPECT_EQ(message_.dead_letter, DeadLetterReason::invalid_json);
        EXPECT_EQ(message_.dead_letter_stage, "parse");
        EXPECT_FALSE(message_.dead_letter_detail.empty());
        EXPECT_TRUE(message_.record.empty());
    }

    ParseStage stage_;
    Message message_;
};

TEST_F(ParseStageTest, ObjectWithEveryType) {
    ASSERT_TRUE(parse(R"({"s":"x","i":-3,"u":18446744073709551615,"d":2.5,"t":true,"f":false,)"
                      R"("n":null,"a":[1,"two",[],{}],"o":{"k":{"deep":[null]}}})"));
    EXPECT_FALSE(message_.dead());
    const ValueRef r = root();
    ASSERT_EQ(r.type(), ValueType::object);
    EXPECT_EQ(r.size(), 9u);
    EXPECT_EQ(r.member("s").as_string(), "x");
    EXPECT_EQ(r.member("i").type(), ValueType::int64);
    EXPECT_EQ(r.member("i").as_int64(), -3);
    EXPECT_EQ(r.member("u").type(), ValueType::uint64);
    EXPECT_EQ(r.member("u").as_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(r.member("d").type(), ValueType::float64);
    EXPECT_EQ(r.member("d").as_double(), 2.5);
    EXPECT_TRUE(r.member("t").as_bool());
    EXPECT_FALSE(r.member("f").as_bool());
    EXPECT_EQ(r.member("n").type(), ValueType::null);
    EXPECT_EQ(r.member("a").size(), 4u);
    EXPECT_EQ(r.member("a").element(1).as_string(), "two");
    EXPECT_EQ(r.member("o").member("k").member("deep").element(0).type(), ValueType::null);
    EXPECT_EQ(json(), R"({"s":"x","i":-3,"u":18446744073709551615,"d":2.5,"t":true,"f":false,)"
                      R"("n":null,"a":[1,"two",[],{}],"o":{"k":{"deep":[null]}}})");
}

TEST_F(ParseStageTest, ScalarRoots) {
    struct Case {
        std::string_view payload;
        ValueType type;
        std::string_view json;
    };
    const Case cases[] = {
        {"42", ValueType::int64, "42"},
        {"-42", ValueType::int64, "-42"},
        {"9223372036854775807", ValueType::int64, "9223372036854775807"},
        {"-9223372036854775808", ValueType::int64, "-9223372036854775808"},
        {"9223372036854775808", ValueType::uint64, "9223372036854775808"},
        {"18446744073709551615", ValueType::uint64, "18446744073709551615"},
        {"1.25", ValueType::float64, "1.25"},
        {"1e2", ValueType::float64, "100.0"},
        {"-0.0", ValueType::float64, "-0.0"},
        {"\"text\"", ValueType::string, "\"text\""},
        {"\"\\u00e9\\n\"", ValueType::string, "\"\xc3\xa9\\n\""},
        {"true", ValueType::boolean, "true"},
        {"false", ValueType::boolean, "false"},
        {"null", ValueType::null, "null"},
        {"[]", ValueType::array, "[]"},
        {"{}", ValueType::object, "{}"},
        {"  [1, 2]  \n", ValueType::array, "[1,2]"},
    };
    for (const auto& c : cases) {
        ASSERT_TRUE(parse(c.payload)) << c.payload << ": " << message_.dead_letter_detail;
        ASSERT_TRUE(root().valid()) << c.payload;
        EXPECT_EQ(root().type(), c.type) << c.payload;
        EXPECT_EQ(json(), c.json) << c.payload;
    }
}

TEST_F(ParseStageTest, ArrayRootWithNestedValues) {
    ASSERT_TRUE(parse(R"([{"a":[true,{"b":null}]},-1,1.5,"s",[[]]])"));
    EXPECT_EQ(root().size(), 5u);
    EXPECT_EQ(json(), R"([{"a":[true,{"b":null}]},-1,1.5,"s",[[]]])");
}

TEST_F(ParseStageTest, EscapedKeysAndStrings) {
    ASSERT_TRUE(parse(R"({"k\"ey":"v\\al\u0001","caf\u00e9":1})"));
    EXPECT_EQ(root().member("k\"ey").as_string(), "v\\al\x01");
    EXPECT_EQ(root().member("caf\xc3\xa9").as_int64(), 1);
}

TEST_F(ParseStageTest, IntegersBeyondUint64BecomeDoubles) {
    ASSERT_TRUE(parse("123456789012345678901234567890")) << message_.dead_letter_detail;
    EXPECT_EQ(root().type(), ValueType::float64);
    EXPECT_DOUBLE_EQ(root().as_double(), 1.2345678901234568e29);

    ASSERT_TRUE(parse("18446744073709551616")) << message_.dead_letter_detail;
    EXPECT_EQ(root().type(), ValueType::float64);
    EXPECT_DOUBLE_EQ(root().as_double(), 18446744073709551616.0);

    ASSERT_TRUE(parse(R"({"big":123456789012345678901234567890,"neg":-99999999999999999999,)"
                      R"("list":[18446744073709551616],"after":1})"))
        << message_.dead_letter_detail;
    EXPECT_EQ(root().member("big").type(), ValueType::float64);
    EXPECT_DOUBLE_EQ(root().member("big").as_double(), 1.2345678901234568e29);
    EXPECT_EQ(root().member("neg").type(), ValueType::float64);
    EXPECT_DOUBLE_EQ(root().member("neg").as_double(), -1e20);
    EXPECT_EQ(root().member("list").element(0).type(), ValueType::float64);
    EXPECT_EQ(root().member("after").as_int64(), 1);
}

TEST_F(ParseStageTest, InvalidJsonIsRejected) {
    for (std::string_view payload : {
             R"({"a":)",             // truncated
             R"({"a":1)",            // unclosed
             R"([1,2)",              // unclosed array
             R"({"a":1} x)",         // trailing content
             R"({"a":1} {"b":2})",   // two documents
             "1 2",                  // two scalars
             "",                     // empty
             "   ",                  // only whitespace
             "hello world",          // words
             "nul",                  // broken literal
             "tru",                  // broken literal
             "[1,]",                 // trailing comma
             R"({"a" 1})",           // missing colon
             R"({a:1})",             // unquoted key
             "01",                   // leading zero
             "\"unterminated",       // open string
             "\"tab\there\"",        // unescaped control character
             "{\"v\":\"caf\xe9\"}",  // Latin-1, not UTF-8
             "\xff\xfe\x00\x01",     // binary
             "[\"\xc3\"]",           // truncated UTF-8 sequence
         }) {
        expect_invalid_json(payload);
    }
}

TEST_F(ParseStageTest, InvalidJsonDetailIsSimdjsonsExplanation) {
    EXPECT_FALSE(parse(R"({"v":1} {"v":2})"));
    EXPECT_EQ(message_.dead_letter_detail, "Unexpected trailing content in the JSON input.");
    EXPECT_FALSE(parse("{\"v\":\"caf\xe9\"}"));
    EXPECT_EQ(message_.dead_letter_detail, "The input is not valid UTF-8");
}

TEST_F(ParseStageTest, ParsesAgainAfterAFailure) {
    expect_invalid_json(R"({"a":)");
    ASSERT_TRUE(parse(R"({"b":2})"));
    EXPECT_EQ(json(), R"({"b":2})");
}

TEST_F(ParseStageTest, ReplacesThePreviousRecord) {
    ASSERT_TRUE(parse(R"({"first":1,"list":[1,2,3]})"));
    message_.dead_letter = DeadLetterReason::none;
    assign_padded(message_.payload, R"({"second":2})");
    ASSERT_TRUE(stage_.parse(message_, 0));
    EXPECT_EQ(json(), R"({"second":2})");
}

TEST_F(ParseStageTest, ShorterPayloadInAReusedBuffer) {
    // Bytes of the previous, longer payload stay beyond size() in the buffer.
    ASSERT_TRUE(parse(R"({"a":"a long previous payload that leaves bytes behind","b":[1,2,3]})"));
    message_.record.clear();
    message_.payload.assign("[7]");
    ASSERT_TRUE(stage_.parse(message_, 1));
    EXPECT_EQ(json(), "[7]");
}

TEST_F(ParseStageTest, PayloadWithoutPaddingIsCopied) {
    // A buffer built without simdjson's padding: the stage must not read past it in place.
    std::string payload =
        R"({"device":"pump-12","readings":[1.5,2.5,3.5],"ok":true,"meta":{"site":"north"}})";
    message_.payload = std::string(payload.data(), payload.size());
    message_.payload.shrink_to_fit();
    ASSERT_LT(message_.payload.capacity() - message_.payload.size(), simdjson::SIMDJSON_PADDING);
    ASSERT_TRUE(stage_.parse(message_, 0)) << message_.dead_letter_detail;
    EXPECT_EQ(json(), payload);

    // A short payload in the string's own small buffer.
    Message small;
    small.payload = "[1]";
    ASSERT_TRUE(stage_.parse(small, 1)) << small.dead_letter_detail;
    EXPECT_EQ(small.record.root().element(0).as_int64(), 1);
}

TEST_F(ParseStageTest, InvalidPayloadWithoutPaddingIsRejected) {
    Message m;
    m.payload = std::string(R"({"device":"pump-12","readings":[1.5,2.5,3.5],"ok":tru})");
    m.payload.shrink_to_fit();
    EXPECT_FALSE(stage_.parse(m, 0));
    EXPECT_EQ(m.dead_letter, DeadLetterReason::invalid_json);
}

std::string nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

class SmallParseStage : public ParseStageTest {
protected:
    SmallParseStage() : ParseStageTest(ParseConfig{16, 4}) {}
};

TEST_F(SmallParseStage, PayloadOverTheLimitIsTooLarge) {
    ASSERT_TRUE(parse(R"({"v":"12345678"})"));  // exactly 16 bytes
    EXPECT_FALSE(parse(R"({"v":"123456789"})"));
    EXPECT_EQ(message_.dead_letter, DeadLetterReason::payload_too_large);
    EXPECT_EQ(message_.dead_letter_stage, "parse");
    EXPECT_EQ(message_.dead_letter_detail, "payload is larger than runtime.max_payload_bytes");
    EXPECT_TRUE(message_.record.empty());
}

TEST_F(SmallParseStage, NestingUpToMaxDepthParses) {
    ASSERT_TRUE(parse("[[[1]]]")) << message_.dead_letter_detail;
    EXPECT_EQ(json(), "[[[1]]]");
}

TEST_F(SmallParseStage, NestingOfExactlyMaxDepthParses) {
    EXPECT_EXIT(
        {
            const bool parsed = parse(nested(4));
            std::exit(parsed ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

// Each payload runs in a child process: if the parser crashes on it, this test fails and the
// other tests still run. The child exits 0 only when the message was rejected as invalid_json.
TEST_F(SmallParseStage, NestingDeeperThanMaxDepthIsRejected) {
    EXPECT_EXIT(
        {
            const bool parsed = parse(nested(6));
            std::exit(!parsed && message_.dead_letter == DeadLetterReason::invalid_json ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

// 500 000 levels in 1 000 000 bytes, inside the default max_payload_bytes (1 MiB): a message
// anyone allowed to publish can send. Building the Record recurses once per level.
TEST_F(ParseStageTest, ExtremeNestingIsRejectedNotACrash) {
    EXPECT_EXIT(
        {
            const bool parsed = parse(nested(500000));
            std::exit(!parsed && message_.dead_letter == DeadLetterReason::invalid_json ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

TEST_F(ParseStageTest, NestingDeeperThanTheDefaultMaxDepthIsRejected) {
    EXPECT_EXIT(
        {
            const bool parsed = parse(nested(200));
            std::exit(!parsed && message_.dead_letter == DeadLetterReason::invalid_json ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

Message* add_message(std::vector<std::unique_ptr<Message>>& storage, Batch& batch,
                     std::string_view payload) {
    storage.push_back(std::make_unique<Message>());
    assign_padded(storage.back()->payload, payload);
    batch.push(storage.back().get());
    return storage.back().get();
}

TEST(ParseStageProcess, CountsAndSkipsRejectedMessages) {
    ParseStage stage(ParseConfig{64, 16});
    std::vector<std::unique_ptr<Message>> storage;
    Batch batch(8);
    Message* good1 = add_message(storage, batch, R"({"v":1})");
    Message* bad_json = add_message(storage, batch, R"({"v":)");
    Message* already_dead = add_message(storage, batch, R"({"v":3})");
    already_dead->reject(DeadLetterReason::invalid_envelope, "source", "not an envelope");
    Message* good2 = add_message(storage, batch, "[1,2]");
    Message* too_large = add_message(storage, batch, "[" + std::string(70, '1') + "]");

    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);

    EXPECT_FALSE(good1->dead());
    EXPECT_EQ(good1->record.root().member("v").as_int64(), 1);
    EXPECT_FALSE(good2->dead());
    EXPECT_EQ(good2->record.root().size(), 2u);
    EXPECT_EQ(bad_json->dead_letter, DeadLetterReason::invalid_json);
    EXPECT_EQ(too_large->dead_letter, DeadLetterReason::payload_too_large);
    // A message rejected before this stage is left as it was, unparsed.
    EXPECT_EQ(already_dead->dead_letter, DeadLetterReason::invalid_envelope);
    EXPECT_EQ(already_dead->dead_letter_stage, "source");
    EXPECT_TRUE(already_dead->record.empty());

    EXPECT_EQ(load(counters.in), 4u);
    EXPECT_EQ(load(counters.out), 2u);
    EXPECT_EQ(load(counters.errors), 2u);
    EXPECT_EQ(load(counters.dropped), 0u);
    EXPECT_EQ(load(counters.in),
              load(counters.out) + load(counters.errors) + load(counters.dropped));
}

TEST(ParseStageProcess, EmptyBatchIsANoOp) {
    ParseStage stage(ParseConfig{64, 16});
    Batch batch(4);
    StageCounters counters;
    StageContext ctx{0, counters};
    stage.process(batch, ctx);
    EXPECT_EQ(load(counters.in), 0u);
    EXPECT_EQ(load(counters.out), 0u);
    EXPECT_EQ(load(counters.errors), 0u);
}

TEST(ParseStageProcess, CountersAccumulateOverBatches) {
    ParseStage stage(ParseConfig{64, 16});
    StageCounters counters;
    StageContext ctx{0, counters};
    std::vector<std::unique_ptr<Message>> storage;
    for (int round = 0; round < 3; ++round) {
        Batch batch(2);
        add_message(storage, batch, "1");
        add_message(storage, batch, "x");
        stage.process(batch, ctx);
    }
    EXPECT_EQ(load(counters.in), 6u);
    EXPECT_EQ(load(counters.out), 3u);
    EXPECT_EQ(load(counters.errors), 3u);
}

}  // namespace
}  // namespace edgeflow
