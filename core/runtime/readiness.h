// Readiness: named conditions that must all hold before the pipeline is ready for traffic —
// the engine running, each MQTT source connected and subscribed, each MQTT destination
// connected, each dataset loaded, state restored. `/readyz` reports them.
//
// Conditions are added at start-up (add() takes a lock and allocates) and then set true or
// false from any thread with one atomic store, without locking. A condition lives as long as the
// registry; the pointer add() returns stays valid. Reading (ready(), conditions()) takes the
// lock only to walk the list.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeflow {

class ReadinessCondition {
public:
    explicit ReadinessCondition(std::string name) : name_(std::move(name)) {}
    const std::string& name() const noexcept { return name_; }
    void set(bool value) noexcept { value_.store(value, std::memory_order_release); }
    bool get() const noexcept { return value_.load(std::memory_order_acquire); }

private:
    std::string name_;
    std::atomic<bool> value_{false};
};

class Readiness {
public:
    /// Adds a condition, false until set; a name added twice returns the same condition.
    ReadinessCondition* add(std::string name) {
        std::lock_guard lock(mutex_);
        for (auto& c : conditions_) {
            if (c.name() == name) {
                return &c;
            }
        }
        return &conditions_.emplace_back(std::move(name));
    }
    /// Sets a condition by name, adding it first when it is new.
    void set(std::string_view name, bool value) { add(std::string(name))->set(value); }

    /// True when every condition holds (and there is at least one).
    bool ready() const {
        std::lock_guard lock(mutex_);
        if (conditions_.empty()) {
            return false;
        }
        for (const auto& c : conditions_) {
            if (!c.get()) {
                return false;
            }
        }
        return true;
    }
    /// Every condition and its value, in the order they were added.
    std::vector<std::pair<std::string, bool>> conditions() const {
        std::lock_guard lock(mutex_);
        std::vector<std::pair<std::string, bool>> out;
        for (const auto& c : conditions_) {
            out.emplace_back(c.name(), c.get());
        }
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::deque<ReadinessCondition> conditions_;  ///< a deque never moves its elements
};

}  // namespace edgeflow
