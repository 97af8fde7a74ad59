#include "stages/lkv/lkv_stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lang/transform/formula.h"
#include "tests/support/stateful.h"

namespace edgeflow {
namespace {

using expr::Kind;
using expr::Value;
using test::SectionRun;

// 2024-01-01T00:00:00.000Z.
constexpr std::int64_t t0 = 1'704'067'200'000;
constexpr std::size_t store_destination = 3;

struct Lkv {
    std::shared_ptr<LkvStore> store;
    std::unique_ptr<AnyStage> stage;

    AnyStage* operator->() const noexcept { return stage.get(); }

    /// The stored value of `path` for `key` at processing time `now`.
    Value read(std::string_view key, std::string_view path, std::int64_t now) const {
        const auto field = store->field(path);
        EXPECT_TRUE(field.has_value()) << path;
        return field ? store->read(key, *field, now) : Value::missing();
    }
};

Lkv make_lkv(std::string_view yaml, unsigned shards = 1) {
    ConfigErrors errors("test.yaml");
    LkvConfig config = LkvConfig::parse(test::yaml(yaml), errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    if (config.persist) {
        config.persist->destination_index = store_destination;
    }
    auto store = std::make_shared<LkvStore>(std::move(config), shards);
    return {store, make_stage(LkvStage(store))};
}

double number(const Value& v) {
    EXPECT_TRUE(v.is_number()) << "kind " << expr::to_string(v.kind);
    return v.is_number() ? v.number() : -1e300;
}

std::string json(const Message& m) {
    return test::json_of(m.record);
}

TEST(LkvStage, ConfiguredFieldsAreTheOnlyOnesKept) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature, humidity]}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("plant/dev-1", R"({"temperature": 20, "humidity": 50, "other": 1})", "dev-1", t0);
    EXPECT_TRUE(run.run(t0).empty());
    // Without fill_missing or write, messages pass unchanged.
    EXPECT_EQ(json(*run.last()[0]), R"({"temperature":20,"humidity":50,"other":1})");
    EXPECT_EQ(number(lkv.read("dev-1", "temperature", t0)), 20);
    EXPECT_EQ(number(lkv.read("dev-1", "humidity", t0)), 50);
    EXPECT_FALSE(lkv.store->field("other").has_value());

    run.add("plant/dev-1", R"({"temperature": 21.5})", "dev-1", t0 + 1000);
    run.run(t0 + 1000);
    EXPECT_EQ(json(*run.last()[0]), R"({"temperature":21.5})");
    EXPECT_EQ(number(lkv.read("dev-1", "temperature", t0 + 1000)), 21.5);
    EXPECT_EQ(number(lkv.read("dev-1", "humidity", t0 + 1000)), 50);
    EXPECT_TRUE(lkv.read("dev-2", "temperature", t0 + 1000).is_missing());
    EXPECT_EQ(load(lkv->counters.in), 2u);
    EXPECT_EQ(load(lkv->counters.out), 2u);
}

TEST(LkvStage, NestedFieldsAndNonNumbersAreStored) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [meta.line, status, limits], fill_missing: true}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"meta": {"line": "L1"}, "status": null, "limits": {"hi": [1, 2]}})", "k", t0);
    run.add("t", R"({"x": true})", "k", t0 + 1);
    run.run(t0 + 1);
    EXPECT_EQ(json(*run.last()[1]),
              R"({"x":true,"meta":{"line":"L1"},"status":null,"limits":{"hi":[1,2]}})");
    const Value line = lkv.read("k", "meta.line", t0 + 1);
    ASSERT_EQ(line.kind, Kind::string);
    EXPECT_EQ(line.text, "L1");
    EXPECT_EQ(lkv.read("k", "status", t0 + 1).kind, Kind::null);
}

TEST(LkvStage, EveryLeafModeTracksEachLeafItSees) {
    Lkv lkv = make_lkv("{kind: lkv, fill_missing: true}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"a": 1, "b": {"c": "x", "d": true}, "e": [1, 2]})", "k", t0);
    run.add("t", R"({"a": 2})", "k", t0 + 1);
    run.add("t", R"({"b": {"d": false}, "f": 3})", "k", t0 + 2);
    run.run(t0 + 2);
    const Message& second = *run.last()[1];
    EXPECT_EQ(second.record.root().member("a").as_int64(), 2);
    EXPECT_EQ(second.record.root().member("b").member("c").as_string(), "x");
    EXPECT_TRUE(second.record.root().member("b").member("d").as_bool());
    EXPECT_EQ(test::json_of(second.record), R"({"a":2,"b":{"c":"x","d":true},"e":[1,2]})");
    const Message& third = *run.last()[2];
    EXPECT_FALSE(third.record.root().member("b").member("d").as_bool());
    EXPECT_EQ(third.record.root().member("b").member("c").as_string(), "x");
    EXPECT_EQ(third.record.root().member("a").as_int64(), 2);
    EXPECT_EQ(third.record.root().member("f").as_int64(), 3);
    // Every-leaf ids are per shard: `$lkv` cannot name them.
    EXPECT_FALSE(lkv.store->field("a").has_value());
}

TEST(LkvStage, AnOlderEventTimeNeverOverwritesANewerValue) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature], fill_missing: true}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 21})", "k", t0 + 2000);
    run.add("t", R"({"temperature": 5})", "k", t0 + 1000);  // late, but within lateness
    run.add("t", R"({})", "k", t0 + 1500);
    run.run(t0 + 2000);
    EXPECT_EQ(number(lkv.read("k", "temperature", t0 + 2000)), 21);
    // The late message keeps its own value; a message without one gets the newest.
    EXPECT_EQ(json(*run.last()[1]), R"({"temperature":5})");
    EXPECT_EQ(json(*run.last()[2]), R"({"temperature":21})");

    run.add("t", R"({"temperature": 22})", "k", t0 + 2000);  // same time: taken
    run.add("t", R"({"temperature": 1})", "k", t0 + 1999);
    run.run(t0 + 2000);
    EXPECT_EQ(number(lkv.read("k", "temperature", t0 + 2000)), 22);
}

TEST(LkvStage, EachFieldExpiresAgainstTheProcessingClock) {
    Lkv lkv = make_lkv(R"({kind: lkv, expiration: 1m, fill_missing: true,
                          fields: [{path: temperature, expiration: 10s}, humidity]})");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 20, "humidity": 50})", "k", t0);
    run.run(t0);
    EXPECT_EQ(number(lkv.read("k", "temperature", t0 + 10'000)), 20);  // exactly 10 s: kept
    EXPECT_TRUE(lkv.read("k", "temperature", t0 + 10'001).is_missing());
    EXPECT_EQ(number(lkv.read("k", "humidity", t0 + 10'001)), 50);
    EXPECT_EQ(number(lkv.read("k", "humidity", t0 + 60'000)), 50);
    EXPECT_TRUE(lkv.read("k", "humidity", t0 + 60'001).is_missing());

    // Expiry counts from the value's event time, on the message's processing clock.
    run.add("t", R"({})", "k", t0 + 30'000, t0 + 30'000);
    run.add("t", R"({})", "k", t0 + 1000, t0 + 5000);
    run.run(t0 + 30'000);
    EXPECT_EQ(json(*run.last()[0]), R"({"humidity":50})");
    EXPECT_EQ(json(*run.last()[1]), R"({"temperature":20,"humidity":50})");
}

TEST(LkvStage, AValueArrivingAfterItsExpirationIsNotUsed) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature], expiration: 10s}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 20})", "k", t0, t0 + 20'000);
    run.run(t0 + 20'000);
    EXPECT_TRUE(lkv.read("k", "temperature", t0 + 20'000).is_missing());
    EXPECT_EQ(number(lkv.read("k", "temperature", t0 + 5'000)), 20);
}

TEST(LkvStage, WithoutFillMissingMessagesAreLeftAlone) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature, humidity]}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 20, "humidity": 50})", "k", t0);
    run.add("t", R"({"temperature": 21})", "k", t0 + 1);
    run.run(t0 + 1);
    EXPECT_EQ(json(*run.last()[1]), R"({"temperature":21})");
}

TEST(LkvStage, WritesThePreviousValueWithItsTime) {
    Lkv lkv = make_lkv(R"({kind: lkv, fields: [temperature], timestamp_suffix: Time,
                          write: {temperature: previous.temperature}})");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 20})", "k", t0);
    run.add("t", R"({"temperature": 21})", "k", t0 + 5000);
    run.add("t", R"({"temperature": 19})", "k", t0 + 1000);  // older: the store keeps 21
    run.add("t", R"({"temperature": 19})", "other", t0);
    run.run(t0 + 5000);
    EXPECT_EQ(json(*run.last()[0]), R"({"temperature":20})");  // nothing before it
    EXPECT_EQ(json(*run.last()[1]), R"({"temperature":21,"previous":{"temperature":20,)"
                                    R"("temperatureTime":"2024-01-01T00:00:00.000Z"}})");
    EXPECT_EQ(json(*run.last()[2]), R"({"temperature":19,"previous":{"temperature":21,)"
                                    R"("temperatureTime":"2024-01-01T00:00:05.000Z"}})");
    EXPECT_EQ(json(*run.last()[3]), R"({"temperature":19})");  // another key: nothing yet
    EXPECT_EQ(number(lkv.read("k", "temperature", t0 + 5000)), 21);
}

TEST(LkvStage, TimestampSuffixBesideFilledValues) {
    Lkv lkv = make_lkv(
        "{kind: lkv, fields: [temperature, humidity], fill_missing: true, timestamp_suffix: _ts}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 20, "humidity": 50})", "k", t0 + 1500);
    run.add("t", R"({"temperature": 21})", "k", t0 + 61'234);
    run.run(t0 + 61'234);
    // Only the value written in gets a time; the message's own value does not.
    EXPECT_EQ(json(*run.last()[1]),
              R"({"temperature":21,"humidity":50,"humidity_ts":"2024-01-01T00:00:01.500Z"})");
}

TEST(LkvStage, MaxKeysEvictsTheLeastRecentlyUpdatedAndCountsIt) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature, humidity], max_keys: 2}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 1, "humidity": 10})", "a", t0);
    run.add("t", R"({"temperature": 2})", "b", t0 + 1);
    run.add("t", R"({"temperature": 3})", "c", t0 + 2);  // evicts a
    run.run(t0 + 2);
    EXPECT_TRUE(lkv.read("a", "temperature", t0 + 2).is_missing());
    EXPECT_EQ(number(lkv.read("b", "temperature", t0 + 2)), 2);
    EXPECT_EQ(number(lkv.read("c", "temperature", t0 + 2)), 3);

    run.add("t", R"({"temperature": 4})", "b", t0 + 3);  // b is now newer than c
    run.add("t", R"({"humidity": 11})", "a", t0 + 4);    // evicts c, not b
    run.run(t0 + 4);
    EXPECT_TRUE(lkv.read("c", "temperature", t0 + 4).is_missing());
    EXPECT_EQ(number(lkv.read("b", "temperature", t0 + 4)), 4);
    // a came back as a new key: nothing of its first life is left.
    EXPECT_TRUE(lkv.read("a", "temperature", t0 + 4).is_missing());
    EXPECT_EQ(number(lkv.read("a", "humidity", t0 + 4)), 11);
    EXPECT_EQ(lkv.store->keys(), 2u);
    EXPECT_EQ(lkv->state(), "keys: 2, evicted: 2");
}

TEST(LkvStage, MaxKeysIsSplitOverTheShards) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature], max_keys: 2}", 2);
    const std::string a = test::key_on_shard("a", 0, 2);
    const std::string b = test::key_on_shard("b", 0, 2);
    const std::string c = test::key_on_shard("c", 1, 2);
    SectionRun run({lkv.stage.get()}, 2);
    run.add("t", R"({"temperature": 1})", a, t0);
    run.add("t", R"({"temperature": 2})", c, t0);
    run.add("t", R"({"temperature": 3})", b, t0);  // one key per shard: evicts a
    run.run(t0);
    EXPECT_TRUE(lkv.read(a, "temperature", t0).is_missing());
    EXPECT_EQ(number(lkv.read(b, "temperature", t0)), 3);
    EXPECT_EQ(number(lkv.read(c, "temperature", t0)), 2);
}

TEST(LkvStage, LkvReadsThroughAFormula) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature], expiration: 10s}");
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 21})", "dev-7", t0);
    run.run(t0);

    ConfigErrors errors("test.yaml");
    const auto spec = transform::parse_formula(
        test::yaml(R"({inputs: [id, '$lkv("dev-" + $1).temperature'], expression: '$2 * 2'})"),
        errors);
    auto doubled = transform::Formula::compile(spec, "test", lkv.store.get(), errors);
    const auto direct_spec =
        transform::parse_formula(test::yaml(R"({inputs: ['$lkv("dev-7").temperature']})"), errors);
    auto direct = transform::Formula::compile(direct_spec, "test", lkv.store.get(), errors);
    ASSERT_TRUE(doubled && direct) << errors.to_string();
    EXPECT_TRUE(doubled->reads_lkv());

    Message m;
    m.record = test::record_of(R"({"id": "7"})");
    m.clock_ms = t0 + 1000;
    expr::EvalScratch eval;
    EXPECT_EQ(number(doubled->eval(m, eval)), 42);
    eval.reset();
    EXPECT_EQ(number(direct->eval(m, eval)), 21);

    m.record = test::record_of(R"({"id": "8"})");  // a key never seen
    eval.reset();
    const Value unknown = doubled->eval(m, eval);
    EXPECT_FALSE(unknown.is_number());

    m.clock_ms = t0 + 10'001;  // expired
    eval.reset();
    EXPECT_TRUE(direct->eval(m, eval).is_missing());
}

// Without `fields` a write's key names the field to track: a key that is not a field path is a
// config error, never a failure when the stage is built.
TEST(LkvStage, WriteKeyThatIsNotAPathIsAConfigError) {
    ConfigErrors errors("test.yaml");
    const LkvConfig config =
        LkvConfig::parse(test::yaml(R"({kind: lkv, write: {"a..b": previous.a}})"), errors);
    EXPECT_NE(errors.to_string().find("a write keyed by a field path, found \"a..b\""),
              std::string::npos)
        << errors.to_string();
    EXPECT_TRUE(config.write.empty());
}

TEST(LkvStage, LkvOfAFieldNotTrackedIsAConfigError) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature]}");
    ConfigErrors errors("test.yaml");
    const auto spec =
        transform::parse_formula(test::yaml(R"({inputs: ['$lkv("a").pressure']})"), errors);
    EXPECT_FALSE(transform::Formula::compile(spec, "test", lkv.store.get(), errors).has_value());
    EXPECT_NE(errors.to_string().find("pressure"), std::string::npos) << errors.to_string();

    ConfigErrors without("test.yaml");
    EXPECT_FALSE(transform::Formula::compile(spec, "test", nullptr, without).has_value());
    EXPECT_FALSE(without.empty());
}

TEST(LkvStage, KeysOnDifferentShardsNeverSeeEachOthersState) {
    Lkv lkv = make_lkv("{kind: lkv, fields: [temperature, humidity], fill_missing: true}", 2);
    const std::string a = test::key_on_shard("dev-", 0, 2);
    const std::string b = test::key_on_shard("dev-", 1, 2);
    ASSERT_NE(key_hash(a) % 2, key_hash(b) % 2);
    SectionRun run({lkv.stage.get()}, 2);
    run.add("t", R"({"temperature": 1, "humidity": 2})", a, t0);
    run.add("t", R"({"temperature": 3})", b, t0);
    run.run(t0);
    run.add("t", R"({})", a, t0 + 1);
    run.add("t", R"({})", b, t0 + 1);
    run.run(t0 + 1);
    EXPECT_EQ(json(*run.last()[0]), R"({"temperature":1,"humidity":2})");
    EXPECT_EQ(json(*run.last()[1]), R"({"temperature":3})");
    EXPECT_EQ(number(lkv.read(a, "temperature", t0 + 1)), 1);
    EXPECT_EQ(number(lkv.read(b, "temperature", t0 + 1)), 3);
    EXPECT_TRUE(lkv.read(b, "humidity", t0 + 1).is_missing());
    EXPECT_EQ(lkv.store->keys(), 2u);
    EXPECT_EQ(load(lkv->counters.in), 4u);  // each message counted once, by its own shard
}

// ---- Persistence ------------------------------------------------------------------------------

constexpr std::string_view persisted = R"({kind: lkv, fields: [temperature, status],
    persist: {destination: lkv-store, topic_prefix: edgeflow/lkv/line-1, interval: 1s}})";

TEST(LkvPersist, OneSnapshotPerChangedKeyPerInterval) {
    Lkv lkv = make_lkv(persisted);
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 1})", "a", t0);
    run.add("t", R"({"temperature": 2, "status": "ok"})", "a", t0 + 1);
    run.add("t", R"({"temperature": 5})", "b", t0);
    auto snapshots = run.run(t0);
    ASSERT_EQ(snapshots.size(), 2u);
    const auto& a = snapshots[0];
    EXPECT_EQ(a.target, static_cast<std::int32_t>(store_destination));
    EXPECT_EQ(a.output_topic, "edgeflow/lkv/line-1/a");
    EXPECT_EQ(a.trigger, 3u);  // after the batch's messages
    EXPECT_EQ(a.key, "a");
    EXPECT_EQ(test::json_of(a.record),
              R"({"key":"a","fields":{"temperature":{"value":2,"time":1704067200001},)"
              R"("status":{"value":"ok","time":1704067200001}}})");
    EXPECT_EQ(snapshots[1].output_topic, "edgeflow/lkv/line-1/b");
    EXPECT_EQ(test::json_of(snapshots[1].record),
              R"({"key":"b","fields":{"temperature":{"value":5,"time":1704067200000}}})");

    // Within the interval: changes wait.
    run.add("t", R"({"temperature": 3})", "a", t0 + 500);
    EXPECT_TRUE(run.run(t0 + 500).empty());
    run.add("t", R"({"temperature": 4})", "a", t0 + 600);
    EXPECT_TRUE(run.run(t0 + 999).empty());
    // The interval is over: only the changed key, once, with its newest values.
    snapshots = run.run(t0 + 1000);
    ASSERT_EQ(snapshots.size(), 1u);
    EXPECT_EQ(test::json_of(snapshots[0].record),
              R"({"key":"a","fields":{"temperature":{"value":4,"time":1704067200600},)"
              R"("status":{"value":"ok","time":1704067200001}}})");
    // Nothing changed since: nothing written.
    EXPECT_TRUE(run.run(t0 + 5000).empty());
    // A message that changes nothing (an older value) writes nothing either.
    run.add("t", R"({"temperature": 0})", "b", t0 - 1);
    EXPECT_TRUE(run.run(t0 + 10'000).empty());
}

TEST(LkvPersist, WildcardsInKeysBecomeUnderscoresInTheTopic) {
    Lkv lkv = make_lkv(persisted);
    SectionRun run({lkv.stage.get()}, 1);
    run.add("t", R"({"temperature": 1})", "line+1/#x", t0);
    const auto snapshots = run.run(t0);
    ASSERT_EQ(snapshots.size(), 1u);
    EXPECT_EQ(snapshots[0].output_topic, "edgeflow/lkv/line-1/line_1/_x");
    EXPECT_EQ(snapshots[0].text("key"), "line+1/#x");
}

TEST(LkvPersist, EachShardWritesItsOwnKeys) {
    Lkv lkv = make_lkv(persisted, 2);
    const std::string a = test::key_on_shard("dev-", 0, 2);
    const std::string b = test::key_on_shard("dev-", 1, 2);
    SectionRun run({lkv.stage.get()}, 2);
    run.add("t", R"({"temperature": 1})", a, t0);
    run.add("t", R"({"temperature": 2})", b, t0);
    const auto snapshots = run.run(t0);
    ASSERT_EQ(snapshots.size(), 2u);
    EXPECT_EQ(snapshots[0].text("key"), a);
    EXPECT_EQ(snapshots[1].text("key"), b);
}

TEST(LkvPersist, HydrateRestoresASnapshot) {
    Lkv writer = make_lkv(persisted);
    SectionRun run({writer.stage.get()}, 1);
    run.add("t", R"({"temperature": 21.5, "status": "ok"})", "dev/1", t0 + 42);
    const auto snapshots = run.run(t0 + 42);
    ASSERT_EQ(snapshots.size(), 1u);
    const std::string payload = test::json_of(snapshots[0].record);

    Lkv reader = make_lkv(persisted);
    ASSERT_TRUE(reader.store->hydrate(payload).is_ok());
    EXPECT_EQ(reader.store->hydrated(), 1u);
    EXPECT_EQ(reader.store->keys(), 1u);
    EXPECT_EQ(number(reader.read("dev/1", "temperature", t0 + 100)), 21.5);
    const Value status = reader.read("dev/1", "status", t0 + 100);
    ASSERT_EQ(status.kind, Kind::string);
    EXPECT_EQ(status.text, "ok");

    // The restored time still decides: an older message does not replace it, a newer one does.
    SectionRun after({reader.stage.get()}, 1);
    after.add("t", R"({"temperature": 1})", "dev/1", t0 + 41);
    after.run(t0 + 100);
    EXPECT_EQ(number(reader.read("dev/1", "temperature", t0 + 100)), 21.5);
    after.add("t", R"({"temperature": 2})", "dev/1", t0 + 43);
    after.run(t0 + 100);
    EXPECT_EQ(number(reader.read("dev/1", "temperature", t0 + 100)), 2);
}

TEST(LkvPersist, HydrateRestoresEveryLeafFields) {
    constexpr std::string_view every_leaf = R"({kind: lkv, fill_missing: true,
        persist: {destination: lkv-store, topic_prefix: p, interval: 0s}})";
    Lkv writer = make_lkv(every_leaf);
    SectionRun run({writer.stage.get()}, 1);
    run.add("t", R"({"a": {"b": 1}, "c": "x"})", "k", t0);
    const auto snapshots = run.run(t0);
    ASSERT_EQ(snapshots.size(), 1u);

    Lkv reader = make_lkv(every_leaf);
    ASSERT_TRUE(reader.store->hydrate(test::json_of(snapshots[0].record)).is_ok());
    SectionRun after({reader.stage.get()}, 1);
    after.add("t", R"({"d": 2})", "k", t0 + 1);
    after.run(t0 + 1);
    EXPECT_EQ(json(*after.last()[0]), R"({"d":2,"a":{"b":1},"c":"x"})");
}

TEST(LkvPersist, HydrateRefusesWhatIsNoSnapshot) {
    Lkv lkv = make_lkv(persisted);
    EXPECT_FALSE(lkv.store->hydrate("not json").is_ok());
    EXPECT_FALSE(lkv.store->hydrate(R"({"key": 1, "fields": {}})").is_ok());
    EXPECT_FALSE(lkv.store->hydrate(R"({"key": "a"})").is_ok());
    EXPECT_FALSE(lkv.store->hydrate(R"({"key": "a", "fields": [1]})").is_ok());
    EXPECT_EQ(lkv.store->hydrated(), 0u);
    EXPECT_EQ(lkv.store->keys(), 0u);
}

}  // namespace
}  // namespace edgeflow
