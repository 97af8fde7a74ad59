// The heuristic rule kinds: one row each (name, constructor). The heuristics stage looks kinds
// up here, and every text that lists them (errors, `check`) is made from these rows. A rule
// kind is its own file (stages/heuristics/<kind>.cpp) defining its factory, plus its row in
// rule_kinds.cpp.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/config/map_reader.h"
#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {

struct RuleKind {
    std::string_view name;
    /// Reads the kind's own keys from `reader` (the common ones are read already) and returns
    /// the rule, or null after adding errors.
    std::unique_ptr<Rule> (*make)(RuleCommon common, MapReader& reader, RuleBuild& build);
};

std::span<const RuleKind> rule_kinds() noexcept;
/// The kind names separated by ", " and, before the last, by `last`.
std::string rule_kind_names(std::string_view last = " or ");
/// The row called `name`, or null.
const RuleKind* find_rule_kind(std::string_view name) noexcept;

}  // namespace edgeflow::heuristics
