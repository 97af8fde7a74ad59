# Warnings and sanitizers live on INTERFACE targets linked PRIVATE by our own targets, so
# -Werror applies to edgeflow's code and never to third-party headers (found as SYSTEM).
add_library(edgeflow_warnings INTERFACE)
target_compile_options(edgeflow_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                   -Wnon-virtual-dtor -Wold-style-cast)
if(EDGEFLOW_WERROR)
    target_compile_options(edgeflow_warnings INTERFACE -Werror)
endif()

add_library(edgeflow_sanitizers INTERFACE)
if(EDGEFLOW_SANITIZE STREQUAL "address")
    # vptr is off: oneTBB's flow graph downcasts tasks created inside libtbb, whose type
    # information the checker cannot see, and reports them falsely.
    target_compile_options(edgeflow_sanitizers INTERFACE -fsanitize=address,undefined
                                                         -fno-sanitize=vptr
                                                         -fno-omit-frame-pointer
                                                         -fno-sanitize-recover=undefined)
    target_link_options(edgeflow_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(EDGEFLOW_SANITIZE STREQUAL "thread")
    target_compile_options(edgeflow_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(edgeflow_sanitizers INTERFACE -fsanitize=thread)
elseif(NOT EDGEFLOW_SANITIZE STREQUAL "")
    message(FATAL_ERROR "EDGEFLOW_SANITIZE must be empty, 'address' or 'thread'")
endif()

# Applies edgeflow's warnings and sanitizers to one of its own targets.
function(edgeflow_target_defaults target)
    target_link_libraries(${target} PRIVATE edgeflow_warnings edgeflow_sanitizers)
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
