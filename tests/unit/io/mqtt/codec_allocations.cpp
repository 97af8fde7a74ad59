// Replaces the global operator new of the codec test executable so tests can show that a warm
// codec does not allocate. In its own file: the compiler then never sees malloc and free paired
// with new and delete in one translation unit.
#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/unit/io/mqtt/codec_bytes.h"

namespace {
std::atomic<std::size_t> count{0};

void* counted(std::size_t n) {
    count.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
}  // namespace

std::size_t edgeflow::mqtt::testing::allocation_count() noexcept {
    return count.load(std::memory_order_relaxed);
}

void* operator new(std::size_t n) {
    return counted(n);
}
void* operator new[](std::size_t n) {
    return counted(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
