// stale: a key not heard from for `after` (processing time) raises; hearing from it again
// clears, with the time it was silent. Timers run on the processing clock after every batch,
// and an idle engine still sends an empty batch through the stateful stages every tick, so a
// device that stops communicating raises without any other message arriving.
//
// Keys are kept in a list ordered by when they were last heard: `after` is the same for all of
// them, so the keys due first are always at the front, and each clock tick looks only at those.
#include "stages/heuristics/rule.h"

namespace edgeflow::heuristics {
namespace {

constexpr std::uint32_t none = 0xffffffffu;

class StaleRule final : public Rule {
public:
    StaleRule(RuleCommon common, std::int64_t after_ms, std::size_t shards)
        : Rule(std::move(common)), after_ms_(after_ms), state_(shards), lists_(shards) {}

    void reset(unsigned shard, std::uint32_t slot) noexcept override {
        State& st = state_.at(shard, slot);
        if (st.linked) {
            unlink(shard, slot);
        }
        st.stale = false;
        st.deferred = false;
    }

    void on_message(unsigned shard, std::uint32_t slot, Sample& s, Emit& emit) noexcept override {
        State& st = state_.at(shard, slot);
        const std::int64_t now = s.message.clock_ms;
        if (st.stale) {
            st.stale = false;
            EventBuilder event;
            if (event.begin(emit, common_, s.key, "cleared", s.message.event_time_ms, now,
                            s.position, &s.message)) {
                Record& v = event.values();
                v.add_int64("silent_ms", now - st.last_heard_ms);
                v.add_int64("time_in_state_ms", now - st.raised_at_ms);
                event.finish();
            }
        }
        if (st.linked) {
            unlink(shard, slot);
        }
        st.last_heard_ms = now;
        if (st.key != s.key) {
            st.key.assign(s.key);
        }
        if (st.topic != s.message.topic) {
            st.topic.assign(s.message.topic);
        }
        push_back(shard, slot);
    }

    void on_clock(unsigned shard, std::int64_t now_ms, Emit& emit) noexcept override {
        List& list = lists_[shard];
        while (list.head != none) {
            const std::uint32_t slot = list.head;
            State& st = state_.at(shard, slot);
            if (st.last_heard_ms + after_ms_ > now_ms) {
                return;  // the rest were heard later still
            }
            EventBuilder event;
            if (!event.begin(emit, common_, st.key, "raised", st.last_heard_ms + after_ms_, now_ms,
                             emit.position, nullptr, &st.deferred)) {
                return;  // outbox full: next tick
            }
            Record& v = event.values();
            v.add_int64("silent_ms", now_ms - st.last_heard_ms);
            v.add_int64("after_ms", after_ms_);
            event.finish(st.topic);
            st.stale = true;
            st.raised_at_ms = now_ms;
            unlink(shard, slot);
        }
    }

    std::string describe() const override {
        return "stale '" + common_.id + "': raised after " + std::to_string(after_ms_) +
               " ms without a message";
    }

public:
    std::size_t state_bytes_per_key() const noexcept override {
        return sizeof(State) + 2 * assumed_text_bytes;
    }

private:
    struct State {
        std::int64_t last_heard_ms = 0;
        std::int64_t raised_at_ms = 0;
        std::uint32_t prev = none;
        std::uint32_t next = none;
        bool linked = false;
        bool stale = false;
        std::string key;
        std::string topic;
        bool deferred = false;  // its raise found the outbox full: counted as delayed once
    };
    struct List {
        std::uint32_t head = none;  // heard longest ago
        std::uint32_t tail = none;
    };

    void unlink(unsigned shard, std::uint32_t slot) noexcept {
        State& st = state_.at(shard, slot);
        List& list = lists_[shard];
        (st.prev != none ? state_.at(shard, st.prev).next : list.head) = st.next;
        (st.next != none ? state_.at(shard, st.next).prev : list.tail) = st.prev;
        st.prev = st.next = none;
        st.linked = false;
    }
    void push_back(unsigned shard, std::uint32_t slot) noexcept {
        State& st = state_.at(shard, slot);
        List& list = lists_[shard];
        st.prev = list.tail;
        st.next = none;
        (list.tail != none ? state_.at(shard, list.tail).next : list.head) = slot;
        list.tail = slot;
        st.linked = true;
    }

    std::int64_t after_ms_;
    KeyedState<State> state_;
    std::vector<List> lists_;
};

}  // namespace

std::unique_ptr<Rule> make_stale(RuleCommon common, MapReader& reader, RuleBuild& build) {
    std::int64_t after_ms = 0;
    if (!reader.required_duration("after", after_ms, 1, 365LL * 86'400'000)) {
        return nullptr;
    }
    return std::make_unique<StaleRule>(std::move(common), after_ms, build.shards);
}

}  // namespace edgeflow::heuristics
