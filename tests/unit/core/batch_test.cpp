// Batch: emitted messages merge in an order that does not depend on the shard that emitted
// them, and the room for them costs memory only as it is used.
#include "core/batch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace edgeflow {
namespace {

std::vector<std::string> merged(Batch& batch, std::size_t sources) {
    batch.merge_emitted();
    std::vector<std::string> out;
    for (std::size_t i = sources; i < batch.size(); ++i) {
        out.push_back(std::to_string(batch[i].trigger) + "/" + std::to_string(batch[i].emit_rank) +
                      "/" + batch[i].key);
    }
    return out;
}

TEST(Batch, EmittedMessagesMergeByTriggerRankAndKeyWhicheverShardEmittedThem) {
    Message m0;
    Message m1;
    // The same emissions, spread over the shards two ways.
    struct Emission {
        std::uint32_t trigger;
        std::uint32_t rank;
        const char* key;
    };
    const std::vector<Emission> emissions = {{1, 3, "b"}, {0, 3, "z"}, {1, 3, "a"},
                                             {1, 2, "c"}, {0, 1, "y"}, {1, 3, "a"}};
    std::vector<std::vector<std::string>> results;
    for (const unsigned shards : {1u, 3u}) {
        Batch batch(2, 0, shards, 16);
        batch.push(&m0);
        batch.push(&m1);
        for (std::size_t i = 0; i < emissions.size(); ++i) {
            // Same key, same shard: as the stateful stages place keys.
            const unsigned shard = static_cast<unsigned>(emissions[i].key[0]) % shards;
            Message* e = batch.emit(shard, emissions[i].trigger, emissions[i].rank);
            ASSERT_NE(e, nullptr);
            e->key = emissions[i].key;
            e->payload = std::to_string(i);
        }
        results.push_back(merged(batch, 2));
        // The two "a" events of rank 3 keep the order they were emitted in.
        std::vector<std::string> a;
        for (std::size_t i = 2; i < batch.size(); ++i) {
            if (batch[i].key == "a") {
                a.push_back(batch[i].payload);
            }
        }
        EXPECT_EQ(a, (std::vector<std::string>{"2", "5"}));
    }
    EXPECT_EQ(results[0],
              (std::vector<std::string>{"0/1/y", "0/3/z", "1/2/c", "1/3/a", "1/3/a", "1/3/b"}));
    EXPECT_EQ(results[0], results[1]);
}

std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    statm >> size >> resident;
    return resident * 4096;
}

// The room a generous max_emitted_per_batch allows (16 shards × 65,536 here) is not taken when
// a batch is built: a hundred such batches stay within a few megabytes until events fill them.
TEST(Batch, RoomForEmittedMessagesIsNotReservedUpFront) {
    const std::uint64_t before = resident_bytes();
    std::vector<std::unique_ptr<Batch>> batches;
    for (int i = 0; i < 100; ++i) {
        batches.push_back(std::make_unique<Batch>(1, 4, 16, 65536));
    }
    EXPECT_LT(resident_bytes() - before, std::uint64_t{32} << 20);
    // And the room is there when it is used.
    Message source;
    Batch& batch = *batches.front();
    batch.push(&source);
    for (int i = 0; i < 3000; ++i) {
        Message* e = batch.emit(static_cast<unsigned>(i % 16), 0, 0);
        ASSERT_NE(e, nullptr);
    }
    batch.merge_emitted();
    EXPECT_EQ(batch.size(), 3001u);
}

}  // namespace
}  // namespace edgeflow
