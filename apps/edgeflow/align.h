// Lining up what a destination received with what the test expected: an edit-distance diff
// (Myers), bounded so a stream that differs everywhere is compared position by position
// instead. Single-threaded; allocates per call.
#pragma once

#include <cstdint>
#include <vector>

#include "apps/edgeflow/output_diff.h"

namespace edgeflow::app::diff {

enum class Step : std::uint8_t { same, missing, unexpected };

/// How the received stream lines up with the expected one.
std::vector<Step> align(const std::vector<ComparedMessage>& expected,
                        const std::vector<ComparedMessage>& received);

}  // namespace edgeflow::app::diff
