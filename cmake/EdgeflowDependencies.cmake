# Every dependency edgeflow uses, found in one place. All come from Debian 12 packages
# (scripts/install-deps installs them); nothing is vendored.
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)                      # libtbb-dev
find_package(simdjson REQUIRED)                 # libsimdjson-dev
find_package(yaml-cpp REQUIRED)                 # libyaml-cpp-dev
find_package(PkgConfig REQUIRED)
# TLS for the MQTT transport (io/mqtt/transport/); the MQTT protocol itself is our own codec.
find_package(OpenSSL 3 REQUIRED)                # libssl-dev
# The load generators in perf/ drive the broker with a client that is not ours, so a fault in
# our transport cannot flatter its own measurements. The product does not link it.
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)   # libmosquitto-dev
# The rule language's regular expressions. 10.41 is the first release that keeps backtracking
# memory in the reusable match data block, which is what makes matching allocation-free.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8>=10.41)  # libpcre2-dev
# The HTTP endpoint of `edgeflow run` (/metrics, /healthz, /readyz) and the tests' client.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)      # libcpp-httplib-dev

# libconcurrentqueue-dev ships headers only, without a CMake package.
find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)
add_library(edgeflow_concurrentqueue INTERFACE)
target_include_directories(edgeflow_concurrentqueue SYSTEM INTERFACE ${CONCURRENTQUEUE_INCLUDE_DIR})
add_library(moodycamel::concurrentqueue ALIAS edgeflow_concurrentqueue)

if(EDGEFLOW_BUILD_TESTS)
    find_package(GTest REQUIRED)                # libgtest-dev, libgmock-dev
    # The tests publish and subscribe with a second, independent client implementation.
    find_package(PahoMqttCpp REQUIRED)          # libpaho-mqttpp-dev
    find_program(MOSQUITTO_EXECUTABLE mosquitto PATHS /usr/sbin /sbin)
    if(NOT MOSQUITTO_EXECUTABLE)
        message(WARNING "mosquitto not found: the MQTT integration tests will fail")
    endif()
    # The transport tests make a password file and certificates for their brokers.
    find_program(MOSQUITTO_PASSWD_EXECUTABLE mosquitto_passwd)   # mosquitto
    find_program(OPENSSL_EXECUTABLE openssl)                     # openssl
    if(NOT MOSQUITTO_PASSWD_EXECUTABLE OR NOT OPENSSL_EXECUTABLE)
        message(WARNING "mosquitto_passwd or openssl not found: the MQTT transport tests will fail")
    endif()
endif()
if(EDGEFLOW_BUILD_BENCH)
    find_package(benchmark REQUIRED)            # libbenchmark-dev
endif()
