#include "lang/transform/last_value.h"

#include <unordered_map>

#include "core/log.h"
#include "lang/transform/dataset.h"
#include "lang/transform/formula.h"
#include "lang/transform/transform.h"

namespace edgeflow::transform {
namespace {

// A hash of this file's own keeps the map's code local to it, so the compiler may inline the
// lookup into select(), its one caller, as it did when this state lived in transform.cpp
// (about 20 instructions a message on a keyed transform).
struct KeyHash : StringHash {};

}  // namespace

struct LastValueTable::Table {
    std::unordered_map<std::string, LastValues, KeyHash, std::equal_to<>> keys;
};

LastValueTable::LastValueTable() : table_(std::make_unique<Table>()) {}
LastValueTable::LastValueTable(std::uint32_t slots, std::uint64_t max_keys,
                               std::vector<RulePath> key_inputs,
                               std::optional<expr::Program> key_expression)
    : slots_(slots),
      max_keys_(max_keys),
      key_inputs_(std::move(key_inputs)),
      key_expression_(std::move(key_expression)),
      table_(std::make_unique<Table>()) {}
LastValueTable::LastValueTable(LastValueTable&&) noexcept = default;
LastValueTable& LastValueTable::operator=(LastValueTable&&) noexcept = default;
LastValueTable::~LastValueTable() = default;

std::size_t LastValueTable::keys() const noexcept {
    return table_->keys.size();
}

// A message whose key cannot be computed has no last values: `? $last` finds nothing for it.
LastValues* LastValueTable::select(const Message& m, TransformScratch& s,
                                   std::string_view transform) noexcept {
    s.key.clear();
    if (key_inputs_.empty()) {
        s.key.append(m.topic);
    } else {
        s.key_values.clear();
        for (const RulePath& path : key_inputs_) {
            s.key_values.push_back(path.is_metadata()
                                       ? read_metadata(path, m, s.eval.arena)
                                       : expr::Value::from(path.resolve(m.record.root())));
        }
        const expr::Value k =
            key_expression_ ? key_expression_->eval(s.key_values.data(), s.eval) : s.key_values[0];
        if (!append_key(s.key, k)) {
            ++keys_missing_;
            return nullptr;
        }
    }
    auto& table = table_->keys;
    auto it = table.find(std::string_view(s.key));
    if (it == table.end()) {
        if (table.size() >= max_keys_) {
            if (keys_refused_++ == 0) {
                log_warn("transform", "transform '" + std::string(transform) +
                                          "': " + std::to_string(max_keys_) +
                                          " keys have last values (last_values.max_keys); "
                                          "further keys get none");
            }
            return nullptr;  // not remembered: `? $last` finds nothing for this key
        }
        it = table.emplace(s.key, LastValues{}).first;
        it->second.slots.resize(slots_);
    }
    return &it->second;
}

}  // namespace edgeflow::transform
