option(EDGEFLOW_BUILD_TESTS "Build the GoogleTest suites" ON)
option(EDGEFLOW_BUILD_BENCH "Build the Google Benchmark micro-benchmarks" ON)
option(EDGEFLOW_WERROR "Treat compiler warnings as errors" OFF)
set(EDGEFLOW_SANITIZE "" CACHE STRING "Sanitizers to build with: empty, 'address' (ASan+UBSan) or 'thread'")
set_property(CACHE EDGEFLOW_SANITIZE PROPERTY STRINGS "" address thread)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
    set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()
