// Child processes for tests: start a program with arguments, its stdout and stderr captured to
// files, then wait for it with a deadline or signal it. A Process still running when destroyed
// is killed, so a failing test never leaves one behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace edgeflow::test {

class Process {
public:
    /// Starts `argv[0]` (a path) with `argv`; output goes to `<log_prefix>.out` and `.err`.
    /// With `cwd`, the program runs in that directory.
    Process(std::vector<std::string> argv, const std::string& log_prefix,
            const std::string& cwd = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    bool started() const noexcept { return pid_ > 0; }
    pid_t pid() const noexcept { return pid_; }
    void signal(int sig) const;
    /// Exit code, or nullopt when it did not exit in time (it is then left running).
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();
    std::string out() const;
    std::string err() const;
    /// Waits until `text` appears in stderr (the engine's JSON log); false when the time runs
    /// out or the process ends first.
    bool wait_for_err(const std::string& text, std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string out_path_;
    std::string err_path_;
};

/// Whole file as a string ("" when missing).
std::string read_file(const std::string& path);
/// The file's lines, without newlines.
std::vector<std::string> read_lines(const std::string& path);
/// A fresh empty directory under the system temp dir, removed by the returned guard.
class TempDir {
public:
    explicit TempDir(const std::string& name);
    ~TempDir();
    const std::string& path() const noexcept { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace edgeflow::test
