#include "stages/keyed/key_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgeflow {
namespace {

std::uint64_t hash_of(std::string_view key) {
    return std::hash<std::string_view>{}(key);
}

KeyTable::Insert insert(KeyTable& table, std::string_view key) {
    return table.insert(key, hash_of(key));
}

std::uint32_t find(const KeyTable& table, std::string_view key) {
    return table.find(key, hash_of(key));
}

// Keys from the least to the most recently updated.
std::vector<std::string> lru_order(const KeyTable& table) {
    std::vector<std::string> keys;
    for (std::uint32_t s = table.oldest(); s != KeyTable::none; s = table.newer(s)) {
        keys.emplace_back(table.key(s));
    }
    return keys;
}

TEST(KeyTable, EmptyTableFindsNothing) {
    KeyTable table(4);
    EXPECT_EQ(find(table, "a"), KeyTable::none);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.capacity(), 4u);
    EXPECT_EQ(table.oldest(), KeyTable::none);
}

TEST(KeyTable, InsertThenFindAndInsertAgain) {
    KeyTable table(4);
    const auto a = insert(table, "a");
    EXPECT_TRUE(a.inserted);
    EXPECT_FALSE(a.evicted);
    ASSERT_NE(a.slot, KeyTable::none);
    EXPECT_EQ(table.key(a.slot), "a");
    EXPECT_TRUE(table.used(a.slot));

    const auto b = insert(table, "b");
    EXPECT_TRUE(b.inserted);
    EXPECT_NE(b.slot, a.slot);
    EXPECT_EQ(find(table, "a"), a.slot);
    EXPECT_EQ(find(table, "b"), b.slot);
    EXPECT_EQ(find(table, "c"), KeyTable::none);

    const auto again = insert(table, "a");
    EXPECT_FALSE(again.inserted);
    EXPECT_FALSE(again.evicted);
    EXPECT_EQ(again.slot, a.slot);
    EXPECT_EQ(table.size(), 2u);
}

TEST(KeyTable, SameHashDifferentKeysAreDistinct) {
    KeyTable table(4);
    const auto a = table.insert("a", 42);
    const auto b = table.insert("b", 42);
    EXPECT_TRUE(b.inserted);
    EXPECT_NE(a.slot, b.slot);
    EXPECT_EQ(table.find("a", 42), a.slot);
    EXPECT_EQ(table.find("b", 42), b.slot);
    EXPECT_EQ(table.find("c", 42), KeyTable::none);
    // The same key under another hash is another entry as far as the table can tell.
    EXPECT_EQ(table.find("a", 43), KeyTable::none);
}

TEST(KeyTable, EraseFreesTheSlotAndKeepsCollidingKeysFindable) {
    KeyTable table(4);
    const auto a = table.insert("a", 7);
    const auto b = table.insert("b", 7);
    const auto c = table.insert("c", 7);
    table.erase(a.slot);
    EXPECT_FALSE(table.used(a.slot));
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.find("a", 7), KeyTable::none);
    // b and c probed past a's bucket: they must still be found once it is empty.
    EXPECT_EQ(table.find("b", 7), b.slot);
    EXPECT_EQ(table.find("c", 7), c.slot);
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"b", "c"}));

    const auto again = table.insert("a", 7);
    EXPECT_TRUE(again.inserted);
    EXPECT_FALSE(again.evicted);
    EXPECT_EQ(table.size(), 3u);
    EXPECT_EQ(table.find("a", 7), again.slot);
}

TEST(KeyTable, TouchMovesAKeyToTheNewestEnd) {
    KeyTable table(4);
    const auto a = insert(table, "a");
    insert(table, "b");
    insert(table, "c");
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"a", "b", "c"}));
    table.touch(a.slot);
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"b", "c", "a"}));
    table.touch(a.slot);  // already the newest
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(KeyTable, FullTableEvictsTheLeastRecentlyUpdated) {
    KeyTable table(3);
    const auto a = insert(table, "a");
    const auto b = insert(table, "b");
    insert(table, "c");
    table.touch(a.slot);  // order: b, c, a

    const auto d = insert(table, "d");
    EXPECT_TRUE(d.inserted);
    EXPECT_TRUE(d.evicted);
    EXPECT_EQ(d.slot, b.slot);  // b's slot, reused
    EXPECT_EQ(table.size(), 3u);
    EXPECT_EQ(find(table, "b"), KeyTable::none);
    EXPECT_EQ(find(table, "d"), d.slot);
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"c", "a", "d"}));

    // An existing key is found without evicting anything, even when the table is full.
    const auto c = insert(table, "c");
    EXPECT_FALSE(c.inserted);
    EXPECT_FALSE(c.evicted);
    EXPECT_EQ(table.size(), 3u);

    const auto e = insert(table, "e");
    EXPECT_TRUE(e.evicted);
    EXPECT_EQ(find(table, "c"), KeyTable::none);  // c was the oldest: insert() does not touch
    EXPECT_EQ(lru_order(table), (std::vector<std::string>{"a", "d", "e"}));
}

TEST(KeyTable, AfterAnEraseAFullTableHasRoomWithoutEvicting) {
    KeyTable table(2);
    const auto a = insert(table, "a");
    insert(table, "b");
    table.erase(a.slot);
    const auto c = insert(table, "c");
    EXPECT_TRUE(c.inserted);
    EXPECT_FALSE(c.evicted);
    EXPECT_NE(find(table, "b"), KeyTable::none);
}

TEST(KeyTable, CapacityOne) {
    KeyTable table(1);
    const auto a = insert(table, "a");
    EXPECT_TRUE(a.inserted);
    EXPECT_FALSE(a.evicted);
    EXPECT_EQ(insert(table, "a").slot, a.slot);

    const auto b = insert(table, "b");
    EXPECT_TRUE(b.inserted);
    EXPECT_TRUE(b.evicted);
    EXPECT_EQ(b.slot, a.slot);
    EXPECT_EQ(find(table, "a"), KeyTable::none);
    EXPECT_EQ(find(table, "b"), b.slot);
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(table.oldest(), b.slot);
    EXPECT_EQ(table.newer(b.slot), KeyTable::none);

    table.erase(b.slot);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.oldest(), KeyTable::none);
    const auto c = insert(table, "c");
    EXPECT_TRUE(c.inserted);
    EXPECT_FALSE(c.evicted);
}

// The table against a model (a map and a recency list), with operations drawn at random. Hashes
// come from a handful of values so that keys collide, runs of occupied buckets form and wrap
// around the end of the index, and backward-shift deletion moves entries on almost every erase.
class KeyTableModel : public testing::TestWithParam<int> {};

TEST_P(KeyTableModel, MatchesAMapWithAnLruList) {
    const int hash_values = GetParam();
    constexpr std::size_t capacity = 12;
    constexpr int key_space = 40;
    for (unsigned seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        std::vector<std::uint64_t> hashes;
        for (int i = 0; i < hash_values; ++i) {
            hashes.push_back(rng());
        }
        std::vector<std::uint64_t> hash_of_key(key_space);
        for (auto& h : hash_of_key) {
            h = hash_values == 0 ? rng() : hashes[rng() % hashes.size()];
        }
        const auto name = [](int k) { return "key-" + std::to_string(k); };

        KeyTable table(capacity);
        std::unordered_map<std::string, std::uint32_t> slots;
        std::list<std::string> recency;  // front: least recently updated
        const auto touch_model = [&](const std::string& key) {
            recency.remove(key);
            recency.push_back(key);
        };

        for (int op = 0; op < 3000; ++op) {
            const int k = static_cast<int>(rng() % key_space);
            const std::string key = name(k);
            const std::uint64_t hash = hash_of_key[static_cast<std::size_t>(k)];
            const auto choice = rng() % 10;
            if (choice < 6) {  // insert and touch, as a stage does per message
                const auto result = table.insert(key, hash);
                const auto known = slots.find(key);
                if (known != slots.end()) {
                    ASSERT_FALSE(result.inserted) << "seed " << seed << " op " << op;
                    ASSERT_EQ(result.slot, known->second);
                } else {
                    ASSERT_TRUE(result.inserted) << "seed " << seed << " op " << op;
                    const bool full = slots.size() == capacity;
                    ASSERT_EQ(result.evicted, full) << "seed " << seed << " op " << op;
                    if (full) {
                        const std::string victim = recency.front();
                        recency.pop_front();
                        ASSERT_EQ(slots[victim], result.slot);
                        slots.erase(victim);
                    }
                    slots[key] = result.slot;
                }
                table.touch(result.slot);
                touch_model(key);
            } else if (choice < 8) {  // erase a key that is there
                if (slots.empty()) {
                    continue;
                }
                auto it = slots.begin();
                std::advance(it, static_cast<long>(rng() % slots.size()));
                table.erase(it->second);
                recency.remove(it->first);
                slots.erase(it);
            } else {  // look one up
                const auto known = slots.find(key);
                ASSERT_EQ(table.find(key, hash),
                          known == slots.end() ? KeyTable::none : known->second)
                    << "seed " << seed << " op " << op;
            }

            ASSERT_EQ(table.size(), slots.size());
            for (const auto& [present, slot] : slots) {
                const int pk = std::stoi(present.substr(4));
                ASSERT_EQ(table.find(present, hash_of_key[static_cast<std::size_t>(pk)]), slot)
                    << "seed " << seed << " op " << op << ": " << present << " lost";
                ASSERT_TRUE(table.used(slot));
                ASSERT_EQ(table.key(slot), present);
            }
            ASSERT_EQ(lru_order(table), std::vector<std::string>(recency.begin(), recency.end()))
                << "seed " << seed << " op " << op;
        }
    }
}

// 0: every key its own random hash; otherwise keys share that many hash values.
INSTANTIATE_TEST_SUITE_P(HashValues, KeyTableModel, testing::Values(0, 1, 3, 6),
                         [](const testing::TestParamInfo<int>& param) {
                             return param.param == 0 ? std::string("distinct")
                                                     : "shared_" + std::to_string(param.param);
                         });

}  // namespace
}  // namespace edgeflow
