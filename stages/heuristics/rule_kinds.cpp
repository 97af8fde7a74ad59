#include "stages/heuristics/rule_kinds.h"

#include <vector>

namespace edgeflow::heuristics {

// Each factory is defined in its kind's own file.
std::unique_ptr<Rule> make_threshold(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_rate_of_change(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_deadband(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_stale(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_window(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_correlate(RuleCommon common, MapReader& reader, RuleBuild& build);
std::unique_ptr<Rule> make_anomaly(RuleCommon common, MapReader& reader, RuleBuild& build);

namespace {

constexpr RuleKind kinds[] = {
    {"threshold", make_threshold}, {"rate_of_change", make_rate_of_change},
    {"deadband", make_deadband},   {"stale", make_stale},
    {"window", make_window},       {"correlate", make_correlate},
    {"anomaly", make_anomaly},
};

}  // namespace

std::span<const RuleKind> rule_kinds() noexcept {
    return kinds;
}

std::string rule_kind_names(std::string_view last) {
    std::string text;
    const std::size_t n = std::size(kinds);
    for (std::size_t i = 0; i < n; ++i) {
        text += i == 0 ? "" : (i + 1 == n ? last : std::string_view(", "));
        text += kinds[i].name;
    }
    return text;
}

const RuleKind* find_rule_kind(std::string_view name) noexcept {
    for (const auto& kind : kinds) {
        if (kind.name == name) {
            return &kind;
        }
    }
    return nullptr;
}

}  // namespace edgeflow::heuristics
