// ServiceAccountToken: reading the projected token file, noticing the kubelet's rotation, and the
// JWT claims that say when to renew. The JWTs are made here, unsigned (tests/support/
// projected_token.h): only their payload is read.
#include "io/mqtt/service_account_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/projected_token.h"

namespace edgeflow {
namespace {

using namespace std::chrono_literals;
using test::base64url;
using test::fake_jwt;
using testing::HasSubstr;

std::chrono::system_clock::time_point at_unix(std::int64_t seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

class TokenFile : public testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "edgeflow-sat-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << text;
        return path.string();
    }
    std::filesystem::path dir_;
};

TEST_F(TokenFile, ReadsTheTokenWithoutTrailingWhitespace) {
    ServiceAccountToken token(write("t", "header.payload.signature \t\r\n\n"));
    ASSERT_TRUE(token.read());
    EXPECT_EQ(token.value(), "header.payload.signature");
    EXPECT_EQ(token.generation(), 1u);
}

TEST_F(TokenFile, AMissingFileIsAnErrorNamingThePath) {
    const std::string path = (dir_ / "absent").string();
    ServiceAccountToken token(path);
    const Status status = token.read();
    ASSERT_FALSE(status);
    EXPECT_EQ(status.message(), "the service account token file '" + path + "' does not exist");
}

TEST_F(TokenFile, AnEmptyFileIsAnError) {
    for (const char* text : {"", "\n", " \r\n"}) {
        const std::string path = write("empty", text);
        ServiceAccountToken token(path);
        const Status status = token.read();
        ASSERT_FALSE(status) << '"' << text << '"';
        EXPECT_EQ(status.message(), "the service account token file '" + path + "' is empty");
    }
}

TEST_F(TokenFile, ADirectoryIsNotAToken) {
    ServiceAccountToken token(dir_.string());
    const Status status = token.read();
    ASSERT_FALSE(status);
    EXPECT_THAT(status.message(), HasSubstr("is not a regular file"));
}

TEST_F(TokenFile, AnUnreadableFileIsAnError) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root reads any file";
    }
    const std::string path = write("locked", "a.b.c");
    ::chmod(path.c_str(), 0);
    ServiceAccountToken token(path);
    const Status status = token.read();
    ASSERT_FALSE(status);
    EXPECT_THAT(status.message(), HasSubstr("cannot open the service account token file '" + path +
                                            "': Permission denied"));
}

TEST_F(TokenFile, AFileOver64KiBIsRefused) {
    // 64 KiB with its newline: the largest token MQTT can carry, 65535 bytes.
    const std::string largest(ServiceAccountToken::max_token_bytes, 'x');
    ServiceAccountToken fits(write("fits", largest + "\n"));
    ASSERT_TRUE(fits.read());
    EXPECT_EQ(fits.value().size(), 65535u);

    const std::string path = write("big", largest + "xy");
    ServiceAccountToken big(path);
    const Status status = big.read();
    ASSERT_FALSE(status);
    EXPECT_EQ(status.message(), "the service account token file '" + path +
                                    "' holds 65537 bytes, more than the 65536 a token file may "
                                    "have");
    // 64 KiB with no whitespace to trim is one byte more than authentication data holds.
    const std::string exact = write("exact", largest + "y");
    ServiceAccountToken too_long(exact);
    const Status too_long_status = too_long.read();
    ASSERT_FALSE(too_long_status);
    EXPECT_THAT(too_long_status.message(),
                HasSubstr("65536 bytes, more than the 65535 MQTT authentication data can carry"));
}

TEST_F(TokenFile, AFailedReadKeepsTheTokenItHad) {
    const std::string path = write("t", "first");
    ServiceAccountToken token(path);
    ASSERT_TRUE(token.read());
    std::filesystem::remove(path);
    EXPECT_FALSE(token.read());
    EXPECT_EQ(token.value(), "first");
}

TEST(JwtClaims, ExpAndIatAreReadFromThePayload) {
    const std::string jwt = fake_jwt(R"({"aud":["aio-internal"],"exp":1700003600,"iat":1700000000,
        "kubernetes.io":{"namespace":"azure-iot-operations","exp":5}})");
    EXPECT_EQ(jwt_numeric_claim(jwt, "exp"), 1700003600);
    EXPECT_EQ(jwt_numeric_claim(jwt, "iat"), 1700000000);
    EXPECT_EQ(jwt_numeric_claim(jwt, "nbf"), std::nullopt);
}

TEST(JwtClaims, AFractionalNumericDateIsCutToWholeSeconds) {
    EXPECT_EQ(jwt_numeric_claim(fake_jwt(R"({"exp":1700000000.75})"), "exp"), 1700000000);
}

TEST(JwtClaims, PaddedPayloadIsAccepted) {
    const std::string payload = base64url(R"({"exp":1})") + "==";
    EXPECT_EQ(jwt_numeric_claim("e30." + payload + ".sig", "exp"), 1);
}

TEST(JwtClaims, AnythingElseHasNoClaim) {
    const std::string body = base64url(R"({"exp":1700000000})");
    for (const std::string& token : {
             std::string("opaque-token-without-dots"),
             "e30." + body,                          // two parts
             "e30." + body + ".sig.extra",           // four parts
             std::string("e30.!!!.sig"),             // not base64url
             "e30." + base64url("not json") + ".s",  // not JSON
             "e30." + base64url("[1,2]") + ".s",     // not an object
             fake_jwt(R"({"exp":"1700000000"})"),    // a string, not a number
             fake_jwt(R"({"nested":{"exp":1700000000}})"),
             fake_jwt(R"({"exp":1e300})"),
         }) {
        EXPECT_EQ(jwt_numeric_claim(token, "exp"), std::nullopt) << token;
    }
}

TEST_F(TokenFile, RenewalIsAt90PercentOfTheLifetimeOrAMinuteBeforeExp) {
    // One hour: 90% (54 min) comes before a minute before exp.
    ServiceAccountToken hour(
        write("hour", test::fake_service_account_jwt(1'000'000 + 3600, 1'000'000)));
    ASSERT_TRUE(hour.read());
    EXPECT_EQ(hour.expires_at(), at_unix(1'003'600));
    EXPECT_EQ(hour.renew_at(), at_unix(1'000'000 + 3240));
    // 100 s: a minute before exp comes first.
    ServiceAccountToken brief(write("brief", test::fake_service_account_jwt(1'000'100, 1'000'000)));
    ASSERT_TRUE(brief.read());
    EXPECT_EQ(brief.renew_at(), at_unix(1'000'040));
    // Without iat the lifetime is unknown: a minute before exp.
    ServiceAccountToken no_iat(write("no-iat", test::fake_service_account_jwt(1'003'600)));
    ASSERT_TRUE(no_iat.read());
    EXPECT_EQ(no_iat.renew_at(), at_unix(1'003'540));
    // Not a JWT: no exp, no renewal time; only a new file renews it.
    ServiceAccountToken opaque(write("opaque", "opaque-token"));
    ASSERT_TRUE(opaque.read());
    EXPECT_EQ(opaque.expires_at(), std::nullopt);
    EXPECT_EQ(opaque.renew_at(), std::nullopt);
}

TEST(TokenRotation, TheKubeletsSymlinkSwapIsNoticed) {
    test::ProjectedToken projected("token-one");
    ServiceAccountToken token(projected.path().string(), 0ms);
    ASSERT_TRUE(token.read());
    auto now = std::chrono::steady_clock::now();
    auto changed = token.check(now);
    ASSERT_TRUE(changed);
    EXPECT_FALSE(changed.value()) << "nothing changed yet";

    projected.rotate("token-two\n");
    changed = token.check(now += 1ms);
    ASSERT_TRUE(changed) << changed.error();
    EXPECT_TRUE(changed.value());
    EXPECT_EQ(token.value(), "token-two");
    EXPECT_EQ(token.generation(), 2u);
    changed = token.check(now += 1ms);
    ASSERT_TRUE(changed);
    EXPECT_FALSE(changed.value()) << "the same rotation counted twice";
}

TEST(TokenRotation, AFileRenamedOverThePathIsNoticed) {
    test::ProjectedToken projected("unused");
    const auto path = projected.dir() / "plain-token";
    std::ofstream(path) << "first";
    ServiceAccountToken token(path.string(), 0ms);
    ASSERT_TRUE(token.read());
    const auto temporary = projected.dir() / "plain-token.new";
    std::ofstream(temporary) << "second";
    std::filesystem::rename(temporary, path);
    const auto changed = token.check(std::chrono::steady_clock::now());
    ASSERT_TRUE(changed);
    EXPECT_TRUE(changed.value());
    EXPECT_EQ(token.value(), "second");
}

TEST(TokenRotation, TheSameTokenWrittenAgainIsNoChange) {
    test::ProjectedToken projected("same");
    ServiceAccountToken token(projected.path().string(), 0ms);
    ASSERT_TRUE(token.read());
    projected.rotate("same\n");
    const auto changed = token.check(std::chrono::steady_clock::now());
    ASSERT_TRUE(changed);
    EXPECT_FALSE(changed.value());
    EXPECT_EQ(token.generation(), 1u);
}

TEST(TokenRotation, TheFileIsLookedAtAtMostOncePerInterval) {
    test::ProjectedToken projected("one");
    ServiceAccountToken token(projected.path().string(), 1s);
    ASSERT_TRUE(token.read());
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(token.check(start));
    projected.rotate("two");
    const auto early = token.check(start + 999ms);
    ASSERT_TRUE(early);
    EXPECT_FALSE(early.value()) << "looked again before the interval passed";
    EXPECT_EQ(token.value(), "one");
    const auto later = token.check(start + 1s);
    ASSERT_TRUE(later);
    EXPECT_TRUE(later.value());
    EXPECT_EQ(token.value(), "two");
}

TEST(TokenRotation, AVanishedFileIsAnErrorAndTheTokenIsKept) {
    test::ProjectedToken projected("kept");
    ServiceAccountToken token(projected.path().string(), 0ms);
    ASSERT_TRUE(token.read());
    std::filesystem::remove(projected.dir() / "..data");
    const auto changed = token.check(std::chrono::steady_clock::now());
    ASSERT_FALSE(changed);
    EXPECT_THAT(changed.error(),
                HasSubstr("cannot look at the service account token file '" +
                          projected.path().string() + "': No such file or directory"));
    EXPECT_EQ(token.value(), "kept");
}

}  // namespace
}  // namespace edgeflow
