// MessagePool: a stack of reusable messages, shared by the source threads and the egress
// thread without locks.
#include "core/runtime/message_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

namespace edgeflow {
namespace {

TEST(MessagePool, HandsOutEveryMessageOnceThenNothing) {
    MessagePool pool(5, 2);
    std::set<Message*> taken;
    for (int i = 0; i < 5; ++i) {
        Message* m = pool.take();
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->destination_topics.size(), 2u);
        taken.insert(m);
    }
    EXPECT_EQ(taken.size(), 5u);
    EXPECT_EQ(pool.take(), nullptr);
}

TEST(MessagePool, TheMessagePutBackLastIsTakenFirst) {
    MessagePool pool(4, 1);
    Message* a = pool.take();
    Message* b = pool.take();
    pool.put(a);
    pool.put(b);
    EXPECT_EQ(pool.take(), b);
    EXPECT_EQ(pool.take(), a);
    pool.put(a);
    EXPECT_EQ(pool.take(), a) << "a trickle keeps reusing the same warm message";
}

TEST(MessagePool, PutResetsTheMessageButKeepsItsBuffers) {
    MessagePool pool(1, 1);
    Message* m = pool.take();
    m->topic = "a/b";
    m->payload.assign(2000, 'x');
    const auto capacity = m->payload.capacity();
    pool.put(m);
    Message* again = pool.take();
    ASSERT_EQ(again, m);
    EXPECT_TRUE(again->topic.empty());
    EXPECT_TRUE(again->payload.empty());
    EXPECT_EQ(again->payload.capacity(), capacity);
}

// Threads take and put back as fast as they can; a message handed to two threads at once
// (a broken exchange) shows up as a lost or duplicated message at the end, or as a tag write
// seen by the wrong owner.
TEST(MessagePool, ConcurrentTakersAndPuttersNeverShareAMessage) {
    constexpr std::size_t size = 64;
    constexpr int threads = 4;
    constexpr int rounds = 50'000;
    MessagePool pool(size, 1);
    std::atomic<int> clashes{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<Message*> held;
            for (int r = 0; r < rounds; ++r) {
                if (Message* m = pool.take()) {
                    // Owned by this thread alone until put back.
                    m->source = static_cast<std::uint32_t>(t) + 1;
                    m->property_count = static_cast<std::size_t>(r);
                    if (m->source != static_cast<std::uint32_t>(t) + 1 ||
                        m->property_count != static_cast<std::size_t>(r)) {
                        clashes.fetch_add(1);
                    }
                    held.push_back(m);
                }
                if (held.size() > 3 || (r % 3 == 0 && !held.empty())) {
                    pool.put(held.back());
                    held.pop_back();
                }
            }
            for (Message* m : held) {
                pool.put(m);
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    EXPECT_EQ(clashes.load(), 0);
    std::set<Message*> all;
    while (Message* m = pool.take()) {
        EXPECT_TRUE(all.insert(m).second) << "a message was on the stack twice";
    }
    EXPECT_EQ(all.size(), size);
}

}  // namespace
}  // namespace edgeflow
