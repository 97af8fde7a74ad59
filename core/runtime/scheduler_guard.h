// SchedulerGuard: when it goes out of scope, waits for oneTBB's worker threads to end.
//
// The workers outlive the engines that used them; a worker still inside the engine's observer
// callback when the engine goes away keeps a record the library frees only when that worker
// ends. Declared before the engines of a command (so it is destroyed after them), it lets every
// worker finish and free what it holds before the process exits. Create it after the command
// has set its signal mask: attaching may start the library's threads, which inherit the mask.
// A test program that runs engines holds one for its whole run (a global test environment).
#pragma once

#include <oneapi/tbb/global_control.h>

#include <new>

namespace edgeflow {

class SchedulerGuard {
public:
    SchedulerGuard() : handle_(tbb::attach{}) {}
    ~SchedulerGuard() { static_cast<void>(tbb::finalize(handle_, std::nothrow)); }
    SchedulerGuard(const SchedulerGuard&) = delete;
    SchedulerGuard& operator=(const SchedulerGuard&) = delete;

private:
    tbb::task_scheduler_handle handle_;
};

}  // namespace edgeflow
