#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

// ---- anomaly -----------------------------------------------------------------------------------

TEST(Anomaly, NothingBeforeMinSamplesThenBeyondKSigma) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: ewma, alpha: 0.5, k: 3, min_samples: 5}
)");
    // Key a: the outlier is its fifth sample, with four behind it: warming up.
    for (double x : {10.0, 12.0, 10.0, 12.0}) {
        EXPECT_TRUE(h.one(v(x), t0, "a").empty());
    }
    EXPECT_TRUE(h.one(v(100), t0, "a").empty());

    // Key b: five samples behind it. With alpha 0.5 the EWMA goes
    // mean 10, 11, 10.5, 11.25, 10.625 and variance 0, 1, 0.75, 0.9375, 0.859375.
    for (double x : {10.0, 12.0, 10.0, 12.0, 10.0}) {
        EXPECT_TRUE(h.one(v(x), t0, "b").empty());
    }
    EXPECT_TRUE(h.one(v(11), t0, "c").empty());
    const auto fired = h.one(v(100), t0 + 1, "b");
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_DOUBLE_EQ(number(fired[0], "mean"), 10.625);
    EXPECT_DOUBLE_EQ(number(fired[0], "stddev"), std::sqrt(0.859375));
    EXPECT_DOUBLE_EQ(number(fired[0], "sigma"), (100 - 10.625) / std::sqrt(0.859375));
    EXPECT_EQ(integer(fired[0], "samples"), 5);
    EXPECT_EQ(number(fired[0], "value"), 100);
}

TEST(Anomaly, EwmaWithinKSigmaDoesNotFire) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: ewma, alpha: 0.5, k: 3, min_samples: 5}
)");
    for (double x : {10.0, 12.0, 10.0, 12.0, 10.0}) {
        h.one(v(x), t0);
    }
    // 3 sigma around 10.625 is ±2.78.
    EXPECT_TRUE(h.one(v(13.3), t0).empty());
}

TEST(Anomaly, ConstantInputNeverFires) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, min_samples: 3}
)");
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(h.one(v(5), t0 + i).empty());
    }
}

TEST(Anomaly, RollingUsesOnlyTheLastSamples) {
    Heuristics h(R"(
  - {id: odd, kind: anomaly, input: v, method: rolling, samples: 4, k: 2, min_samples: 4}
)");
    for (double x : {10.0, 12.0, 10.0, 12.0}) {
        EXPECT_TRUE(h.one(v(x), t0).empty());
    }
    // Mean 11, deviation 1: 13 is exactly 2 sigma away, which is not beyond.
    EXPECT_TRUE(h.one(v(13), t0).empty());
    // The last four (12, 10, 12, 13): mean 11.75, deviation sqrt(1.1875) ≈ 1.09, so 9.3 is
    // 2.25 sigma away. Over all five (mean 11.4, deviation 1.2) it would be 1.75.
    const auto fired = h.one(v(9.3), t0);
    ASSERT_EQ(states(fired), Strings{"fired"});
    EXPECT_DOUBLE_EQ(number(fired[0], "mean"), 11.75);
    EXPECT_NEAR(number(fired[0], "stddev"), std::sqrt(1.1875), 1e-12);
    EXPECT_EQ(integer(fired[0], "samples"), 5);
}

}  // namespace
}  // namespace edgeflow
