#include "io/envelope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace edgeflow {
namespace {

using testing::HasSubstr;

constexpr std::size_t max_line = 4096;

std::vector<std::pair<std::string, std::string>> properties_of(const Message& message) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < message.property_count; ++i) {
        out.emplace_back(message.properties[i].key, message.properties[i].value);
    }
    return out;
}

class EnvelopeDecode : public testing::Test {
protected:
    // Decodes `line`, expecting success.
    void decode_ok(std::string_view line) {
        std::string_view why;
        ASSERT_TRUE(decoder_.decode(line, message_, why)) << line << ": " << why;
    }
    // Decodes `line`, expecting failure; returns the explanation.
    std::string decode_error(std::string_view line) {
        std::string_view why;
        EXPECT_FALSE(decoder_.decode(line, message_, why)) << line;
        EXPECT_FALSE(why.empty()) << line;
        return std::string(why);
    }

    EnvelopeDecoder decoder_{max_line};
    Message message_;
};

TEST_F(EnvelopeDecode, PayloadObjectIsItsJsonText) {
    decode_ok(R"({"topic":"plant/line1/t","payload":{"v":21.5,"tags":["a","b"],"o":{}}})");
    EXPECT_EQ(message_.topic, "plant/line1/t");
    EXPECT_EQ(message_.payload, R"({"v":21.5,"tags":["a","b"],"o":{}})");
    EXPECT_EQ(message_.property_count, 0u);
}

TEST_F(EnvelopeDecode, PayloadObjectKeepsItsOwnSpacing) {
    decode_ok(R"({ "topic" : "t" , "payload" : { "v" : [ 1 , 2 ] } })");
    // The object's own text; whitespace after it may come along (still the same JSON).
    const std::string_view object = R"({ "v" : [ 1 , 2 ] })";
    ASSERT_GE(message_.payload.size(), object.size());
    EXPECT_EQ(message_.payload.substr(0, object.size()), object);
    EXPECT_EQ(message_.payload.find_first_not_of(" ", object.size()), std::string::npos);
}

TEST_F(EnvelopeDecode, PayloadArrayIsItsJsonText) {
    decode_ok(R"({"topic":"t","payload":[1,"two",null,[3]]})");
    EXPECT_EQ(message_.payload, R"([1,"two",null,[3]])");
}

TEST_F(EnvelopeDecode, PayloadStringIsTheUnescapedText) {
    decode_ok(R"({"topic":"t","payload":"line \"one\"\n\u00e9\\"})");
    EXPECT_EQ(message_.payload, "line \"one\"\n\xc3\xa9\\");
}

TEST_F(EnvelopeDecode, PayloadStringMayBeEmpty) {
    decode_ok(R"({"topic":"t","payload":""})");
    EXPECT_EQ(message_.payload, "");
}

TEST_F(EnvelopeDecode, PayloadNumbers) {
    decode_ok(R"({"topic":"t","payload":42})");
    EXPECT_EQ(message_.payload, "42");
    decode_ok(R"({"topic":"t","payload":-1.5e3 ,"properties":{}})");
    EXPECT_EQ(message_.payload, "-1.5e3");
    decode_ok(R"({"payload": 7 , "topic":"t"})");
    EXPECT_EQ(message_.payload, "7");
}

TEST_F(EnvelopeDecode, PayloadLiterals) {
    decode_ok(R"({"topic":"t","payload":true})");
    EXPECT_EQ(message_.payload, "true");
    decode_ok(R"({"topic":"t","payload":false})");
    EXPECT_EQ(message_.payload, "false");
    decode_ok(R"({"topic":"t","payload":null})");
    EXPECT_EQ(message_.payload, "null");
}

TEST_F(EnvelopeDecode, PayloadLeavesRoomForInPlaceParsing) {
    decode_ok(R"({"topic":"t","payload":{"v":1}})");
    EXPECT_GE(message_.payload.capacity(), message_.payload.size() + simdjson::SIMDJSON_PADDING);
}

TEST_F(EnvelopeDecode, PayloadBase64GivesTheRawBytes) {
    decode_ok(R"({"topic":"t","payload_base64":"//4AAWJpbmFyeQ=="})");
    EXPECT_EQ(message_.payload, std::string("\xff\xfe\x00\x01"
                                            "binary",
                                            10));
}

TEST_F(EnvelopeDecode, Properties) {
    decode_ok(R"({"topic":"t","payload":1,"properties":{"unit":"C","k\u00e9y":"a\"b","e":""}})");
    EXPECT_EQ(properties_of(message_), (std::vector<std::pair<std::string, std::string>>{
                                           {"unit", "C"}, {"k\xc3\xa9y", "a\"b"}, {"e", ""}}));
}

TEST_F(EnvelopeDecode, PropertiesOfAPreviousMessageDoNotLeak) {
    decode_ok(R"({"topic":"t","payload":1,"properties":{"a":"1","b":"2","c":"3"}})");
    ASSERT_EQ(message_.property_count, 3u);
    decode_ok(R"({"topic":"u","payload":2,"properties":{"z":"9"}})");
    EXPECT_EQ(properties_of(message_),
              (std::vector<std::pair<std::string, std::string>>{{"z", "9"}}));
    decode_ok(R"({"topic":"u","payload":2})");
    EXPECT_EQ(message_.property_count, 0u);
}

TEST_F(EnvelopeDecode, KeysInAnyOrderAndTrailingWhitespace) {
    decode_ok("{\"payload\":{\"a\":1},\"properties\":{\"p\":\"q\"},\"topic\":\"x/y\"}  \t");
    EXPECT_EQ(message_.topic, "x/y");
    EXPECT_EQ(message_.payload, R"({"a":1})");
    EXPECT_EQ(message_.property_count, 1u);
}

TEST_F(EnvelopeDecode, NotJson) {
    decode_error("this is not json");
    decode_error(R"({"topic":"t","payload":)");
    decode_error(R"({"topic":"t","payload":{"v":1})");
    decode_error("");
}

TEST_F(EnvelopeDecode, NotAnObject) {
    EXPECT_EQ(decode_error(R"([{"topic":"t","payload":1}])"), "envelope is not one JSON object");
    EXPECT_EQ(decode_error(R"("topic")"), "envelope is not one JSON object");
    EXPECT_EQ(decode_error("42"), "envelope is not one JSON object");
}

TEST_F(EnvelopeDecode, MissingTopic) {
    EXPECT_EQ(decode_error(R"({"payload":{"v":1}})"), "envelope has no \"topic\"");
}

TEST_F(EnvelopeDecode, EmptyOrNonStringTopic) {
    EXPECT_EQ(decode_error(R"({"topic":"","payload":1})"),
              "envelope \"topic\" is not a non-empty string");
    EXPECT_EQ(decode_error(R"({"topic":5,"payload":1})"),
              "envelope \"topic\" is not a non-empty string");
    EXPECT_EQ(decode_error(R"({"topic":null,"payload":1})"),
              "envelope \"topic\" is not a non-empty string");
}

TEST_F(EnvelopeDecode, MissingPayload) {
    EXPECT_EQ(decode_error(R"({"topic":"t"})"), "envelope has no \"payload\"");
    EXPECT_EQ(decode_error(R"({"topic":"t","properties":{"a":"b"}})"),
              "envelope has no \"payload\"");
}

TEST_F(EnvelopeDecode, UnknownKey) {
    EXPECT_EQ(decode_error(R"({"topic":"t","payload":1,"qos":1})"),
              "envelope has a key other than topic, payload, payload_base64, properties");
}

TEST_F(EnvelopeDecode, TrailingText) {
    decode_error(R"({"topic":"t","payload":1} trailing)");
    decode_error(R"({"topic":"t","payload":1} 5)");
    EXPECT_EQ(decode_error(R"({"topic":"t","payload":1} {"topic":"u","payload":2})"),
              "envelope has text after the JSON object");
}

TEST_F(EnvelopeDecode, PropertyValuesMustBeStrings) {
    EXPECT_EQ(decode_error(R"({"topic":"t","payload":1,"properties":{"n":1}})"),
              "envelope property values must be strings");
    EXPECT_EQ(decode_error(R"({"topic":"t","payload":1,"properties":{"a":"x","n":null}})"),
              "envelope property values must be strings");
}

TEST_F(EnvelopeDecode, PropertiesMustBeAnObject) {
    EXPECT_EQ(decode_error(R"({"topic":"t","payload":1,"properties":["a","b"]})"),
              "envelope \"properties\" is not an object");
}

TEST_F(EnvelopeDecode, PayloadBase64MustBeBase64) {
    EXPECT_EQ(decode_error(R"({"topic":"t","payload_base64":"not base64!"})"),
              "envelope \"payload_base64\" is not a base64 string");
    EXPECT_EQ(decode_error(R"({"topic":"t","payload_base64":5})"),
              "envelope \"payload_base64\" is not a base64 string");
}

TEST_F(EnvelopeDecode, LineLongerThanTheLimit) {
    EnvelopeDecoder small(32);
    const std::string line = R"({"topic":"t","payload":")" + std::string(40, 'x') + "\"}";
    std::string_view why;
    EXPECT_FALSE(small.decode(line, message_, why));
    EXPECT_THAT(std::string(why), HasSubstr("longer"));
}

TEST_F(EnvelopeDecode, RecoversAfterAnError) {
    decode_error(R"({"topic":"t","payload":)");
    decode_ok(R"({"topic":"after","payload":[1]})");
    EXPECT_EQ(message_.topic, "after");
    EXPECT_EQ(message_.payload, "[1]");
}

TEST(AppendEnvelope, JsonPayloadIsEmbedded) {
    std::string out;
    const UserProperty properties[] = {{"unit", "C"}, {"q\"k", "v\n"}};
    append_envelope(out, "plant/t", R"({"v":1})", true, properties);
    EXPECT_EQ(out,
              R"({"topic":"plant/t","payload":{"v":1},"properties":{"unit":"C","q\"k":"v\n"}})");
}

TEST(AppendEnvelope, TextPayloadIsAString) {
    std::string out;
    append_envelope(out, "t", "hello \"x\"", false, {});
    EXPECT_EQ(out, R"({"topic":"t","payload":"hello \"x\""})");
}

TEST(AppendEnvelope, NonUtf8PayloadIsBase64) {
    std::string out;
    append_envelope(out, "t", std::string_view("\xff\x00", 2), false, {});
    EXPECT_EQ(out, R"({"topic":"t","payload_base64":"/wA="})");
}

TEST(AppendEnvelope, AppendsToExistingText) {
    std::string out = "x";
    append_envelope(out, "t", "1", true, {});
    EXPECT_EQ(out, R"(x{"topic":"t","payload":1})");
}

struct RoundTripCase {
    std::string name;
    std::string topic;
    std::string payload;
    bool payload_is_json;
    std::vector<UserProperty> properties;
};

class EnvelopeRoundTrip : public testing::TestWithParam<RoundTripCase> {};

TEST_P(EnvelopeRoundTrip, DecoderReadsBackWhatAppendWrote) {
    const auto& c = GetParam();
    std::string line;
    append_envelope(line, c.topic, c.payload, c.payload_is_json, c.properties);

    EnvelopeDecoder decoder(max_line);
    Message message;
    std::string_view why;
    ASSERT_TRUE(decoder.decode(line, message, why)) << line << ": " << why;
    EXPECT_EQ(message.topic, c.topic);
    EXPECT_EQ(message.payload, c.payload);
    ASSERT_EQ(message.property_count, c.properties.size());
    for (std::size_t i = 0; i < c.properties.size(); ++i) {
        EXPECT_EQ(message.properties[i].key, c.properties[i].key);
        EXPECT_EQ(message.properties[i].value, c.properties[i].value);
    }
}

std::string all_bytes() {
    std::string bytes;
    for (int c = 0; c < 256; ++c) {
        bytes.push_back(static_cast<char>(c));
    }
    return bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, EnvelopeRoundTrip,
    testing::Values(
        RoundTripCase{"json_object", "a/b", R"({"v":[1,2.5,"x"],"o":{"k":null}})", true, {}},
        RoundTripCase{"json_array", "a", R"([true,false])", true, {}},
        RoundTripCase{"json_number", "a", "-12.5", true, {}},
        RoundTripCase{"json_null", "a", "null", true, {}},
        RoundTripCase{"text", "a", "plain text with \"quotes\", \\ and \t\n", false, {}},
        RoundTripCase{"empty_text", "a", "", false, {}},
        RoundTripCase{"utf8_text", "caf\xc3\xa9/t", "\xe2\x98\x83 snow", false, {}},
        RoundTripCase{"binary", "bin", std::string("\xff\xfe\x00\x01\x80", 5), false, {}},
        RoundTripCase{"all_bytes", "bin", all_bytes(), false, {}},
        RoundTripCase{"properties",
                      "p/q",
                      R"({"v":1})",
                      true,
                      {{"unit", "C"}, {"with \"quote\"", "line\nbreak"}, {"empty", ""}}}),
    [](const testing::TestParamInfo<RoundTripCase>& param) { return param.param.name; });

TEST(AssignPadded, ReservesSimdjsonPadding) {
    std::string out;
    assign_padded(out, "abc");
    EXPECT_EQ(out, "abc");
    EXPECT_GE(out.capacity(), 3 + simdjson::SIMDJSON_PADDING);
    const std::string big(1000, 'x');
    assign_padded(out, big);
    EXPECT_EQ(out, big);
    EXPECT_GE(out.capacity(), big.size() + simdjson::SIMDJSON_PADDING);
}

}  // namespace
}  // namespace edgeflow
