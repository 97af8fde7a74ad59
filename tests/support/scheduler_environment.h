// Including this header registers a gtest environment that waits for oneTBB's workers once
// every test of the binary has run, so the records they hold for the engines' observers are
// freed before the leak check at exit. For test binaries that start engines in process.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core/runtime/scheduler_guard.h"

namespace edgeflow::test {

class SchedulerEnvironment final : public testing::Environment {
public:
    void SetUp() override { guard_ = std::make_unique<SchedulerGuard>(); }
    void TearDown() override { guard_.reset(); }

private:
    std::unique_ptr<SchedulerGuard> guard_;
};

/// One registration per test binary, however many of its files include this.
inline const testing::Environment* const scheduler_environment =
    testing::AddGlobalTestEnvironment(new SchedulerEnvironment);

}  // namespace edgeflow::test
