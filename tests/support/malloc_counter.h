// Counts heap allocations, for tests that check a hot path allocates nothing after warm-up.
//
// Replaces malloc, calloc, realloc and free with versions that count and forward to glibc's
// allocator, so it sees C libraries' allocations (PCRE2's, say) as well as operator new. It
// defines those functions, so include it in exactly one source file of a test executable.
// Sanitizer builds replace the allocator themselves: there `malloc_counted` is false and the
// count stays 0, and tests should skip.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDGEFLOW_MALLOC_COUNTED 0
#else
#define EDGEFLOW_MALLOC_COUNTED 1
#endif

namespace edgeflow::test {

inline constexpr bool malloc_counted = EDGEFLOW_MALLOC_COUNTED != 0;
inline std::atomic<std::size_t> allocations{0};

/// Allocations by every thread so far.
inline std::size_t allocation_count() noexcept {
    return allocations.load(std::memory_order_relaxed);
}

}  // namespace edgeflow::test

#if EDGEFLOW_MALLOC_COUNTED
extern "C" {
// glibc's own entry points to its allocator, which the replacements forward to.
// NOLINTBEGIN(bugprone-reserved-identifier, readability-identifier-naming)
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void __libc_free(void* pointer);
// NOLINTEND(bugprone-reserved-identifier, readability-identifier-naming)

void* malloc(std::size_t size) noexcept {
    edgeflow::test::allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
    edgeflow::test::allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) noexcept {
    edgeflow::test::allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(pointer, size);
}
void free(void* pointer) noexcept {
    __libc_free(pointer);
}
}
#endif
