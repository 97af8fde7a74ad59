// What `edgeflow test` compares: the messages a test expects each destination to receive, read
// from a JSON Lines file, against the messages the destinations did receive, and a readable
// report of the differences.
//
// Messages are compared by topic (exactly), user properties (as a set of pairs) and payload as
// JSON values: object member order is ignored, strings are compared byte for byte, and an
// integer never equals a float (the engine keeps 1 and 1.0 apart). Each destination's messages
// are aligned in order by an edit-distance diff (bounded: a stream that differs in too many
// places is compared position by position instead), so one missing message is reported as
// missing rather than as every later message differing.
//
// Single-threaded; everything is allocated per call. The report is bounded: at most
// `max_reported` differing messages and a few differences within each are written out, the
// rest only counted.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace edgeflow::app {

struct ComparedMessage {
    std::string topic;
    std::string payload;                                          ///< compact JSON text
    std::vector<std::pair<std::string, std::string>> properties;  ///< sorted
    std::uint64_t line = 0;  ///< expected: line of the expect file; received: of the input file
    std::string canonical;   ///< equal exactly when two messages compare equal
    std::size_t hash = 0;    ///< of `canonical`, to rule most pairs out quickly

    bool same_as(const ComparedMessage& other) const noexcept {
        return hash == other.hash && canonical == other.canonical;
    }
};

/// Fills in ComparedMessage::canonical (and rewrites the payload compactly). Reuse one: it owns
/// a simdjson parser.
class MessageCanonicalizer {
public:
    /// False when `message.payload` is not one JSON value.
    bool canonicalize(ComparedMessage& message);

private:
    simdjson::dom::parser parser_;
};

/// Where the lines of an expect file go.
struct ExpectTargets {
    std::vector<std::string> destinations;  ///< the pipeline's destination names, by index
    std::vector<bool> dead_letter;          ///< by index
    /// Destination of lines without "destination"; nullopt when there is no single one.
    std::optional<std::size_t> default_destination;
    /// Set by --destination: lines may name only this destination.
    std::optional<std::size_t> only;
};

/// Reads an expect file: one envelope per line ({"topic", "payload", "properties"}) with an
/// optional "destination". Returns the expected messages per destination index, or every
/// problem found (up to a limit), one per line as FILE:LINE: WHAT.
Result<std::vector<std::vector<ComparedMessage>>> read_expectations(const std::string& path,
                                                                    const ExpectTargets& targets);

struct DestinationOutputs {
    std::string name;
    std::vector<ComparedMessage> expected;
    std::vector<ComparedMessage> received;
    std::uint64_t received_not_kept = 0;  ///< received beyond what was kept: all unexpected
};

struct DiffTotals {
    std::uint64_t expected = 0;
    std::uint64_t matched = 0;
    std::uint64_t differing = 0;   ///< expected messages received with other content
    std::uint64_t missing = 0;     ///< expected messages not received
    std::uint64_t unexpected = 0;  ///< received messages not expected

    bool all_match() const noexcept { return matched == expected && unexpected == 0; }
};

/// Compares every destination and appends the report (one line per difference, then the
/// summary line) to `report`.
DiffTotals compare_outputs(const std::vector<DestinationOutputs>& destinations,
                           std::size_t max_reported, std::string& report);

}  // namespace edgeflow::app
