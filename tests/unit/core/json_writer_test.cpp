#include "core/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace edgeflow {
namespace {

std::string as_json(std::string_view text) {
    std::string out;
    json::append_string(out, text);
    return out;
}

std::string number(double value) {
    std::string out;
    json::append_double(out, value);
    return out;
}

// Reads a JSON string literal back with simdjson, as a consumer of our output would.
std::string unquote(const std::string& literal) {
    simdjson::dom::parser parser;
    std::string_view text;
    const auto error = parser.parse(literal).get(text);
    EXPECT_EQ(error, simdjson::SUCCESS) << literal;
    return std::string(text);
}

TEST(JsonWriterString, EscapesQuoteAndBackslash) {
    EXPECT_EQ(as_json(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
}

TEST(JsonWriterString, UsesShortEscapesForCommonControlCharacters) {
    EXPECT_EQ(as_json("a\bb\fc\nd\re\tf"), R"("a\bb\fc\nd\re\tf")");
}

TEST(JsonWriterString, EscapesOtherControlCharactersAsUnicode) {
    EXPECT_EQ(as_json(std::string_view("\x00", 1)), R"("\u0000")");
    EXPECT_EQ(as_json("\x01"), R"("\u0001")");
    EXPECT_EQ(as_json("\x1f"), R"("\u001f")");
    EXPECT_EQ(as_json("x\x0by"), R"("x\u000by")");
}

TEST(JsonWriterString, PassesPrintableAsciiSlashAndDelThrough) {
    EXPECT_EQ(as_json("a/b c~\x7f"), "\"a/b c~\x7f\"");
}

TEST(JsonWriterString, PassesUtf8Through) {
    const std::string text = "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80";  // café ☃ 😀
    EXPECT_EQ(as_json(text), "\"" + text + "\"");
}

TEST(JsonWriterString, EmptyStringIsTwoQuotes) {
    EXPECT_EQ(as_json(""), "\"\"");
}

TEST(JsonWriterString, EveryAsciiByteReadsBackUnchanged) {
    std::string all;
    for (int c = 0; c < 0x80; ++c) {
        all.push_back(static_cast<char>(c));
    }
    EXPECT_EQ(unquote(as_json(all)), all);
}

TEST(JsonWriterString, AppendsToExistingText) {
    std::string out = "prefix:";
    json::append_string(out, "v");
    EXPECT_EQ(out, "prefix:\"v\"");
}

TEST(JsonWriterNumber, WholeDoublesKeepADecimalPoint) {
    EXPECT_EQ(number(21.0), "21.0");
    EXPECT_EQ(number(0.0), "0.0");
    EXPECT_EQ(number(-0.0), "-0.0");
    EXPECT_EQ(number(-3.0), "-3.0");
    EXPECT_EQ(number(100.0), "100.0");
}

TEST(JsonWriterNumber, DoublesUseTheShortestText) {
    EXPECT_EQ(number(0.1), "0.1");
    EXPECT_EQ(number(21.5), "21.5");
    EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(number(1e21), "1e+21");
    EXPECT_EQ(number(1.5e-7), "1.5e-07");
}

TEST(JsonWriterNumber, DoublesReadBackToTheSameValue) {
    const double values[] = {0.1,
                             1.0 / 3.0,
                             -2.5e-300,
                             5e-324,
                             1.7976931348623157e308,
                             123456789012345680000.0,
                             9007199254740993.0,
                             -0.000123};
    for (const double value : values) {
        const std::string text = number(value);
        EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
        // And a JSON parser reads it as a float, never as an integer.
        simdjson::dom::parser parser;
        simdjson::dom::element element;
        ASSERT_EQ(parser.parse(text).get(element), simdjson::SUCCESS) << text;
        EXPECT_TRUE(element.is_double()) << text;
    }
}

TEST(JsonWriterNumber, NonFiniteDoublesAreNull) {
    EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriterNumber, IntegersAtTheirLimits) {
    std::string out;
    json::append_int(out, std::numeric_limits<std::int64_t>::min());
    out.push_back(' ');
    json::append_int(out, std::numeric_limits<std::int64_t>::max());
    out.push_back(' ');
    json::append_uint(out, std::numeric_limits<std::uint64_t>::max());
    out.push_back(' ');
    json::append_int(out, 0);
    out.push_back(' ');
    json::append_uint(out, 0);
    EXPECT_EQ(out, "-9223372036854775808 9223372036854775807 18446744073709551615 0 0");
}

TEST(JsonWriterRecord, WritesEveryTypeCompactly) {
    Record record;
    const auto root = record.open_object({});
    record.add_string("s", "a\"b");
    record.add_int64("i", -5);
    record.add_uint64("u", std::numeric_limits<std::uint64_t>::max());
    record.add_double("d", 21.0);
    record.add_bool("t", true);
    record.add_bool("f", false);
    record.add_null("n");
    const auto list = record.open_array("list");
    record.add_int64({}, 1);
    const auto inner = record.open_object({});
    record.close(inner);
    const auto empty = record.open_array({});
    record.close(empty);
    record.close(list);
    const auto nested = record.open_object("o");
    record.add_string("k", "v");
    record.close(nested);
    record.close(root);

    std::string out;
    json::append_record(out, record);
    EXPECT_EQ(out, R"({"s":"a\"b","i":-5,"u":18446744073709551615,"d":21.0,"t":true,"f":false,)"
                   R"("n":null,"list":[1,{},[]],"o":{"k":"v"}})");
}

TEST(JsonWriterRecord, ScalarRootAndEmptyRecord) {
    Record record;
    std::string out;
    json::append_record(out, record);
    EXPECT_EQ(out, "null");

    record.add_string({}, "only");
    out.clear();
    json::append_record(out, record);
    EXPECT_EQ(out, "\"only\"");
}

TEST(JsonWriterRecord, AppendValueWritesOneSubtree) {
    Record record;
    const auto root = record.open_object({});
    const auto a = record.open_array("a");
    record.add_double({}, 1.5);
    record.add_null({});
    record.close(a);
    record.add_int64("b", 2);
    record.close(root);

    std::string out;
    json::append_value(out, record.root().member("a"));
    EXPECT_EQ(out, "[1.5,null]");
}

std::string encode(std::string_view bytes) {
    std::string out;
    json::append_base64(out, bytes);
    return out;
}

TEST(JsonWriterBase64, EncodesTheRfc4648Vectors) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg==");
    EXPECT_EQ(encode("fo"), "Zm8=");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg==");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(JsonWriterBase64, UsesPlusAndSlash) {
    EXPECT_EQ(encode("\xfb\xff\xbf"), "+/+/");
}

TEST(JsonWriterBase64, DecodesTheRfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
    };
    for (const auto& [text, bytes] : vectors) {
        std::string out = "stale";
        EXPECT_TRUE(json::decode_base64(text, out)) << text;
        EXPECT_EQ(out, bytes) << text;
    }
}

TEST(JsonWriterBase64, EveryByteValueRoundTrips) {
    std::string bytes;
    for (int c = 0; c < 256; ++c) {
        bytes.push_back(static_cast<char>(c));
    }
    // Lengths with each padding case: 0, 1 and 2 bytes left over.
    for (std::size_t length : {std::size_t{254}, std::size_t{255}, std::size_t{256}}) {
        const std::string input = bytes.substr(0, length);
        std::string decoded;
        ASSERT_TRUE(json::decode_base64(encode(input), decoded)) << length;
        EXPECT_EQ(decoded, input) << length;
    }
}

TEST(JsonWriterBase64, RejectsMalformedText) {
    const std::string_view bad[] = {
        "Zg=",           // not a multiple of 4
        "Zg",            // missing padding
        "Z===",          // padding in the second place
        "====",          // nothing but padding
        "Zg=a",          // data after padding
        "Zm9vYg==Zm9v",  // padding in the middle
        "Zm9v!A==",      // not in the alphabet
        "Zm 9",          // whitespace
        "Zm9-",          // base64url alphabet
    };
    for (const auto text : bad) {
        std::string out;
        EXPECT_FALSE(json::decode_base64(text, out)) << text;
    }
}

}  // namespace
}  // namespace edgeflow
