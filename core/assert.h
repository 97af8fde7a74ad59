// EDGEFLOW_ASSERT: invariant checks that are on in debug and sanitizer builds and compiled out
// of release builds (NDEBUG). A failed assertion prints the expression and location and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>

#ifdef NDEBUG
#define EDGEFLOW_ASSERT(cond) static_cast<void>(0)
#else
#define EDGEFLOW_ASSERT(cond)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "edgeflow: assertion failed: %s at %s:%d\n", #cond, __FILE__, \
                         __LINE__);                                                            \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)
#endif
