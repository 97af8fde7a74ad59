// What the heuristics tests share: the destinations they name, a heuristics stage built from
// rules and run as a one-stage section, and readers of the events it emits.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "stages/heuristics/heuristics_stage.h"
#include "tests/support/stateful.h"

namespace edgeflow::heuristics_test {

using test::Emitted;
using test::SectionRun;

// 2024-01-01T00:00:00.000Z, a multiple of every window size used here.
constexpr std::int64_t t0 = 1'704'067'200'000;
constexpr std::int32_t events_destination = 1;
constexpr std::int32_t alerts_destination = 2;

// Destinations by index as the tests name them: output (0), events (1) and alerts (2).
inline const PipelineConfig& destinations() {
    static const PipelineConfig config = [] {
        PipelineConfig c;
        for (const char* name : {"output", "events", "alerts"}) {
            EndpointConfig d;
            d.name = name;
            c.destinations.push_back(d);
        }
        return c;
    }();
    return config;
}

inline std::unique_ptr<HeuristicsStage> build_heuristics(const std::string& text,
                                                         std::size_t shards, ClockMode clock,
                                                         ConfigErrors& errors,
                                                         std::int64_t lateness_ms = 0) {
    BuildContext ctx{destinations(), errors};
    ctx.shards = shards;
    ctx.event_time.clock = clock;
    ctx.event_time.allowed_lateness_ms = lateness_ms;
    ctx.emitted_only.assign(destinations().destinations.size(), false);
    return HeuristicsStage::build(test::yaml(text), ctx);
}

// A heuristics stage with `rules` (YAML list items, indented by two) and a section to run it;
// event_time.allowed_lateness is `lateness_ms` (0 unless a test is about late data).
class Heuristics {
public:
    explicit Heuristics(std::string_view rules, unsigned shards = 1,
                        ClockMode clock = ClockMode::wall, std::size_t emit_per_shard = 256,
                        std::int64_t lateness_ms = 0)
        : stage_(build(rules, shards, clock, lateness_ms)),
          run_({stage_.get()}, shards, 4, emit_per_shard) {}

    /// One message for key `key` as a batch of its own, processed at its event time.
    std::vector<Emitted> one(std::string_view json, std::int64_t t, std::string_view key = "k",
                             std::string_view topic = "plant/k/telemetry") {
        run_.add(topic, json, key, t);
        return run_.run(t);
    }
    /// An empty batch at processing time `clock`: only timers run.
    std::vector<Emitted> tick(std::int64_t clock) { return run_.run(clock); }

    SectionRun& run() noexcept { return run_; }
    AnyStage& stage() noexcept { return *stage_; }
    const heuristics::Rule& rule(std::size_t i) {
        return *static_cast<StageAdapter<HeuristicsStage>&>(*stage_).stage().rules().at(i);
    }

private:
    static std::unique_ptr<AnyStage> build(std::string_view rules, unsigned shards,
                                           ClockMode clock, std::int64_t lateness_ms) {
        const std::string text = "kind: heuristics\nevents: events\nrules:\n" + std::string(rules);
        ConfigErrors errors("test.yaml");
        auto built = build_heuristics(text, shards, clock, errors, lateness_ms);
        EXPECT_TRUE(built != nullptr && errors.empty()) << errors.to_string();
        if (!built) {
            return nullptr;
        }
        return make_stage(std::move(*built));
    }

    std::unique_ptr<AnyStage> stage_;
    SectionRun run_;
};

inline std::vector<std::string> states(const std::vector<Emitted>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        out.push_back(e.text("state"));
    }
    return out;
}

inline double number(const Emitted& e, std::string_view value) {
    const ValueRef v = e.values(value);
    EXPECT_TRUE(v.valid()) << value << " in " << test::json_of(e.record);
    return v.valid() ? v.as_double() : -1e300;
}

inline std::int64_t integer(const Emitted& e, std::string_view value) {
    const ValueRef v = e.values(value);
    EXPECT_TRUE(v.valid() && v.type() == ValueType::int64)
        << value << " in " << test::json_of(e.record);
    return v.valid() ? v.as_int64() : INT64_MIN;
}

inline std::string v(double value) {
    return R"({"v": )" + std::to_string(value) + "}";
}

using Strings = std::vector<std::string>;

}  // namespace edgeflow::heuristics_test
