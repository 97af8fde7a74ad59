# Every dependency edgeflow uses, found in one place. All come from Debian 12 packages
# (scripts/install-deps installs them); nothing is vendored.
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)                      # libtbb-dev
find_package(simdjson REQUIRED)                 # libsimdjson-dev
find_package(yaml-cpp REQUIRED)                 # libyaml-cpp-dev
find_package(PahoMqttCpp REQUIRED)              # libpaho-mqttpp-dev

# libconcurrentqueue-dev ships headers only, without a CMake package.
find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)
add_library(edgeflow_concurrentqueue INTERFACE)
target_include_directories(edgeflow_concurrentqueue SYSTEM INTERFACE ${CONCURRENTQUEUE_INCLUDE_DIR})
add_library(moodycamel::concurrentqueue ALIAS edgeflow_concurrentqueue)

if(EDGEFLOW_BUILD_TESTS)
    find_package(GTest REQUIRED)                # libgtest-dev, libgmock-dev
    find_program(MOSQUITTO_EXECUTABLE mosquitto PATHS /usr/sbin /sbin)
    if(NOT MOSQUITTO_EXECUTABLE)
        message(WARNING "mosquitto not found: the MQTT integration tests will fail")
    endif()
endif()
if(EDGEFLOW_BUILD_BENCH)
    find_package(benchmark REQUIRED)            # libbenchmark-dev
endif()
