#include "tests/unit/stages/heuristics/heuristics_fixture.h"

namespace edgeflow {
namespace {

using namespace heuristics_test;

// ---- deadband ----------------------------------------------------------------------------------

std::vector<bool> live(const SectionRun& run) {
    std::vector<bool> out;
    for (const Message* m : run.last()) {
        out.push_back(m->live());
    }
    return out;
}

TEST(Deadband, PassDropsMessagesThatDidNotMove) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 0.5}
)");
    for (double x : {10.0, 10.3, 10.5, 10.6, 10.2, 10.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    EXPECT_TRUE(h.run().run(t0).empty());
    // 10 first; 10.3 and 10.5 within 0.5 of it; 10.6 beyond; 10.2 within 0.5 of 10.6; 10.0 not.
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, false, false, true, false, true}));
    for (const Message* m : h.run().last()) {
        EXPECT_FALSE(m->dead());
    }
    EXPECT_EQ(load(h.stage().counters.in), 6u);
    EXPECT_EQ(load(h.stage().counters.out), 3u);
    EXPECT_EQ(load(h.stage().counters.dropped), 3u);
    EXPECT_EQ(load(h.stage().counters.errors), 0u);
}

TEST(Deadband, FlagEmitsAnEventPerChangeAndDropsNothing) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 0.5, mode: flag}
)");
    for (double x : {10.0, 10.3, 10.5, 10.6, 10.2, 10.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    const auto events = h.run().run(t0);
    EXPECT_EQ(live(h.run()), std::vector<bool>(6, true));
    ASSERT_EQ(states(events), (Strings{"fired", "fired", "fired"}));
    EXPECT_EQ(number(events[0], "value"), 10);
    EXPECT_FALSE(events[0].values("previous").valid());  // the first value has none
    EXPECT_EQ(number(events[1], "value"), 10.6);
    EXPECT_EQ(number(events[1], "previous"), 10);
    EXPECT_EQ(number(events[2], "value"), 10);
    EXPECT_EQ(number(events[2], "previous"), 10.6);
    EXPECT_EQ(events[1].trigger, 3u);
}

TEST(Deadband, PercentBandIsRelativeToTheLastReportedValue) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band_percent: 10}
)");
    for (double x : {100.0, 109.0, 110.0, 111.0, 121.0, 122.0, 123.0}) {
        h.run().add("t", v(x), "k", t0);
    }
    h.run().run(t0);
    // 10 % of 100 is 10 (110 has not moved more than that); then 10 % of 111 is 11.1.
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, false, false, true, false, false, true}));
}

TEST(Deadband, EachKeyStartsWithItsFirstValue) {
    Heuristics h(R"(
  - {id: changes, kind: deadband, input: v, band: 5}
)");
    h.run().add("t", v(10), "a", t0);
    h.run().add("t", v(10), "b", t0);
    h.run().add("t", v(11), "a", t0);
    h.run().run(t0);
    EXPECT_EQ(live(h.run()), (std::vector<bool>{true, true, false}));
}

}  // namespace
}  // namespace edgeflow
