// A child process started by a test and stopped by its PID, never by name.
// stdout and stderr go to a log file so a failing test can show them.
// Stop() sends SIGTERM, waits (bounded), then SIGKILL; the destructor stops.
// Pause() / Resume(): SIGSTOP / SIGCONT, as a hung service would behave.
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace hive::testing {

class Process {
 public:
  // Starts argv[0] (a path) with the arguments; output appended to log_path.
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  bool Running();
  // Exit status as from waitpid once it has exited, -1 while running.
  int ExitStatus();
  // Waits for exit up to `timeout`; true when it exited.
  bool WaitExit(std::chrono::milliseconds timeout);
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL now, as a crash would.
  void Kill();
  // SIGSTOP, returning once every thread has stopped (waitpid WUNTRACED):
  // kill() returns before a running thread stops, and a request sent in
  // that gap was answered. False if it exited instead.
  bool Pause();
  // SIGCONT after Pause(); nothing otherwise.
  void Resume();

 private:
  void Reap(int options);

  pid_t pid_ = -1;
  int status_ = -1;
  bool paused_ = false;
  std::string log_path_;
};

}  // namespace hive::testing
