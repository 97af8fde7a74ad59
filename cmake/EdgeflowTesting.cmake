include(GoogleTest)

# edgeflow_add_test(name SOURCES a.cpp ... [LIBS lib ...] LABELS unit|golden|integration
#                   [TIMEOUT seconds] [PREFIX text])
# One GoogleTest executable; every TEST in it becomes a ctest test carrying the labels, its
# name preceded by PREFIX when given (so `ctest -R <prefix>` selects one executable's tests).
function(edgeflow_add_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT;PREFIX" "SOURCES;LIBS;LABELS" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 60)
    endif()
    add_executable(${name} ${ARG_SOURCES})
    edgeflow_target_defaults(${name})
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
    target_compile_definitions(${name} PRIVATE
        EDGEFLOW_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
        EDGEFLOW_BINARY="$<TARGET_FILE:edgeflow>"
        EDGEFLOW_MOSQUITTO="${MOSQUITTO_EXECUTABLE}")
    add_dependencies(${name} edgeflow)
    gtest_discover_tests(${name}
        TEST_PREFIX "${ARG_PREFIX}"
        PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
        DISCOVERY_TIMEOUT 30)
endfunction()
