// The moodycamel queues messages travel through (ingest, egress, pools), as the engine uses
// them: preallocated capacity, explicit producer and consumer tokens, try_enqueue (never the
// allocating enqueue on the hot path).
//
// BM_queue_hop_single/N  one thread: N try_enqueue then N try_dequeue, one item per call.
// BM_queue_hop_bulk/N    the same N items with one try_enqueue_bulk and one try_dequeue_bulk.
// BM_blocking_queue_2threads/N
//                        the benchmark thread produces, a second thread consumes through a
//                        BlockingConcurrentQueue (the ingest queue's type): N = 1 hops one item
//                        per call (try_enqueue / wait_dequeue), N > 1 hops bursts of N
//                        (try_enqueue_bulk / wait_dequeue_bulk). Wall-clock time; a full
//                        queue makes the producer yield, so the rate is the slower side's.
// An item is one message pointer moved from producer to consumer.
#include <benchmark/benchmark.h>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "bench/bench_support.h"

namespace edgeflow::bench {
namespace {

constexpr std::size_t queue_capacity = 4096;

// Distinct message pointers to move around; the queues never dereference them.
struct Items {
    explicit Items(std::size_t count) : storage(count), pointers(count) {
        for (std::size_t i = 0; i < count; ++i) {
            pointers[i] = &storage[i];
        }
    }
    std::vector<Message> storage;
    std::vector<Message*> pointers;
};

void BM_queue_hop_single(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    Items items(count);
    std::vector<Message*> out(count);
    moodycamel::ConcurrentQueue<Message*> queue(queue_capacity);
    moodycamel::ProducerToken producer(queue);
    moodycamel::ConsumerToken consumer(queue);
    std::size_t failures = 0;
    const AllocationProbe allocations;
    for (auto _ : state) {
        for (Message* item : items.pointers) {
            failures += queue.try_enqueue(producer, item) ? 0 : 1;
        }
        for (auto& slot : out) {
            failures += queue.try_dequeue(consumer, slot) ? 0 : 1;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, count);
    set_rates(state, count, 0);
    if (failures != 0) {
        state.SkipWithError("a try_enqueue or try_dequeue failed");
    }
}
BENCHMARK(BM_queue_hop_single)->Arg(64)->Arg(256);

void BM_queue_hop_bulk(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    Items items(count);
    std::vector<Message*> out(count);
    moodycamel::ConcurrentQueue<Message*> queue(queue_capacity);
    moodycamel::ProducerToken producer(queue);
    moodycamel::ConsumerToken consumer(queue);
    std::size_t failures = 0;
    const AllocationProbe allocations;
    for (auto _ : state) {
        failures += queue.try_enqueue_bulk(producer, items.pointers.data(), count) ? 0 : 1;
        failures += queue.try_dequeue_bulk(consumer, out.data(), count) == count ? 0 : 1;
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocations.report(state, count);
    set_rates(state, count, 0);
    if (failures != 0) {
        state.SkipWithError("a bulk enqueue or dequeue moved fewer items than asked");
    }
}
BENCHMARK(BM_queue_hop_bulk)->Arg(64)->Arg(256);

void BM_blocking_queue_2threads(benchmark::State& state) {
    const auto burst = static_cast<std::size_t>(state.range(0));
    Items items(burst);
    moodycamel::BlockingConcurrentQueue<Message*> queue(queue_capacity);
    moodycamel::ProducerToken producer(queue);
    std::vector<Message*> slots(burst);
    std::uint64_t received = 0;
    // The consumer stops at a null pointer, which the producer sends after the timed loop.
    std::thread consumer_thread([&] {
        moodycamel::ConsumerToken consumer(queue);
        while (true) {
            std::size_t n = 1;
            if (burst == 1) {
                queue.wait_dequeue(consumer, slots[0]);
            } else {
                n = queue.wait_dequeue_bulk(consumer, slots.data(), burst);
            }
            for (std::size_t i = 0; i < n; ++i) {
                if (slots[i] == nullptr) {
                    return;
                }
                ++received;
            }
        }
    });
    std::uint64_t full_waits = 0;
    const AllocationProbe allocations;
    for (auto _ : state) {
        if (burst == 1) {
            while (!queue.try_enqueue(producer, items.pointers[0])) {
                ++full_waits;
                std::this_thread::yield();
            }
        } else {
            while (!queue.try_enqueue_bulk(producer, items.pointers.data(), burst)) {
                ++full_waits;
                std::this_thread::yield();
            }
        }
    }
    allocations.report(state, burst);
    while (!queue.try_enqueue(producer, nullptr)) {
        std::this_thread::yield();
    }
    consumer_thread.join();
    set_rates(state, burst, 0);
    state.counters["full_waits/item"] =
        benchmark::Counter(static_cast<double>(full_waits) /
                           static_cast<double>(std::max<std::int64_t>(1, state.iterations()) *
                                               static_cast<std::int64_t>(burst)));
    if (received != static_cast<std::uint64_t>(state.iterations()) * burst) {
        state.SkipWithError("the consumer did not receive every item");
    }
}
BENCHMARK(BM_blocking_queue_2threads)->Arg(1)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace edgeflow::bench
