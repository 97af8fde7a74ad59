// The report of `edgeflow test`: each differing, missing or unexpected message with its
// differences, bounded, then the totals.
#include <string>

#include "apps/edgeflow/align.h"
#include "apps/edgeflow/json_diff.h"
#include "apps/edgeflow/output_diff.h"

namespace edgeflow::app {
namespace {

using namespace diff;

class Report {
public:
    Report(std::string& out, std::size_t max_reported) : out_(out), max_reported_(max_reported) {}

    void changed(const std::string& destination, std::size_t index, const ComparedMessage& want,
                 const ComparedMessage& got) {
        if (!room()) {
            return;
        }
        Differences differences;
        if (want.topic != got.topic) {
            differences.leaf("topic", json_text(want.topic), json_text(got.topic));
        }
        std::vector<std::pair<std::string, std::string>> only;
        std::set_difference(want.properties.begin(), want.properties.end(), got.properties.begin(),
                            got.properties.end(), std::back_inserter(only));
        for (const auto& [key, value] : only) {
            differences.add("properties: missing " + json_text(key) + ":" + json_text(value));
        }
        only.clear();
        std::set_difference(got.properties.begin(), got.properties.end(), want.properties.begin(),
                            want.properties.end(), std::back_inserter(only));
        for (const auto& [key, value] : only) {
            differences.add("properties: unexpected " + json_text(key) + ":" + json_text(value));
        }
        element a;
        element b;
        const std::size_t before = differences.count();
        if (want_parser_.parse(want.payload).get(a) == simdjson::SUCCESS &&
            got_parser_.parse(got.payload).get(b) == simdjson::SUCCESS) {
            std::string path = "payload";
            differences.values(a, b, path);
        }
        if (differences.count() == before && want.payload != got.payload) {
            // Equal by field, unequal as a whole: repeated member names, say.
            differences.leaf("payload", clip(want.payload, max_value_text),
                             clip(got.payload, max_value_text));
        }
        const std::string prefix = "destination " + destination + ", message " +
                                   std::to_string(index + 1) + " (input line " +
                                   std::to_string(got.line) + "): ";
        for (const auto& line : differences.lines()) {
            out_.append(prefix).append(line).push_back('\n');
        }
        if (differences.count() > differences.lines().size()) {
            out_.append(prefix).append(
                "… and " + std::to_string(differences.count() - differences.lines().size()) +
                " more difference(s)\n");
        }
    }

    void missing(const std::string& destination, std::size_t index, const ComparedMessage& want) {
        if (room()) {
            out_.append("destination " + destination + ", message " + std::to_string(index + 1) +
                        " (expect line " + std::to_string(want.line) +
                        "): missing from the output: " + show_message(want) + "\n");
        }
    }

    void unexpected(const std::string& destination, const ComparedMessage& got) {
        if (room()) {
            out_.append("destination " + destination + ", unexpected message (input line " +
                        std::to_string(got.line) + "): " + show_message(got) + "\n");
        }
    }

    void unexpected_not_kept(const std::string& destination, std::uint64_t count) {
        if (room()) {
            out_.append("destination " + destination + ": … and " + std::to_string(count) +
                        " more unexpected message(s), not kept\n");
        }
    }

    void finish() {
        if (not_shown_ > 0) {
            out_.append("… and " + std::to_string(not_shown_) +
                        " more differing message(s) not shown\n");
        }
    }

private:
    bool room() {
        if (shown_ < max_reported_) {
            ++shown_;
            return true;
        }
        ++not_shown_;
        return false;
    }

    std::string& out_;
    std::size_t max_reported_;
    std::size_t shown_ = 0;
    std::uint64_t not_shown_ = 0;
    simdjson::dom::parser want_parser_;
    simdjson::dom::parser got_parser_;
};

std::string plural(std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

DiffTotals compare_outputs(const std::vector<DestinationOutputs>& destinations,
                           std::size_t max_reported, std::string& report) {
    DiffTotals totals;
    Report out(report, max_reported);
    for (const auto& destination : destinations) {
        const auto& expected = destination.expected;
        const auto& received = destination.received;
        totals.expected += expected.size();
        const auto steps = align(expected, received);
        std::size_t i = 0;
        std::size_t j = 0;
        for (std::size_t s = 0; s < steps.size();) {
            if (steps[s] == Step::same) {
                ++totals.matched;
                ++i;
                ++j;
                ++s;
                continue;
            }
            // One run of edits: pair what is missing with what came instead, in order; what is
            // left over was dropped or added.
            std::vector<std::size_t> gone;
            std::vector<std::size_t> added;
            for (; s < steps.size() && steps[s] != Step::same; ++s) {
                if (steps[s] == Step::missing) {
                    gone.push_back(i++);
                } else {
                    added.push_back(j++);
                }
            }
            const std::size_t pairs = std::min(gone.size(), added.size());
            for (std::size_t p = 0; p < pairs; ++p) {
                out.changed(destination.name, gone[p], expected[gone[p]], received[added[p]]);
            }
            for (std::size_t p = pairs; p < gone.size(); ++p) {
                out.missing(destination.name, gone[p], expected[gone[p]]);
            }
            for (std::size_t p = pairs; p < added.size(); ++p) {
                out.unexpected(destination.name, received[added[p]]);
            }
            totals.differing += pairs;
            totals.missing += gone.size() - pairs;
            totals.unexpected += added.size() - pairs;
        }
        if (destination.received_not_kept > 0) {
            out.unexpected_not_kept(destination.name, destination.received_not_kept);
            totals.unexpected += destination.received_not_kept;
        }
    }
    out.finish();
    report += std::to_string(totals.matched) + " of " + std::to_string(totals.expected) +
              " messages match";
    std::string details;
    const auto add = [&](std::uint64_t n, const std::string& text) {
        if (n > 0) {
            details += (details.empty() ? "" : ", ") + text;
        }
    };
    add(totals.differing, plural(totals.differing, "differs", "differ"));
    add(totals.missing, std::to_string(totals.missing) + " missing");
    add(totals.unexpected, std::to_string(totals.unexpected) + " unexpected");
    if (!details.empty()) {
        report += "; " + details;
    }
    report += "\n";
    return totals;
}

}  // namespace edgeflow::app
