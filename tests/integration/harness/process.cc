#include "harness/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace hive::testing {

Process::Process(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    // Its own process group, so a terminal's Ctrl-C reaches only the test.
    setpgid(0, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
}

Process::~Process() { Stop(); }

void Process::Reap(int options) {
  if (pid_ < 0 || status_ != -1) return;
  int status = 0;
  if (waitpid(pid_, &status, options) == pid_) status_ = status;
}

bool Process::Running() {
  Reap(WNOHANG);
  return pid_ > 0 && status_ == -1;
}

int Process::ExitStatus() {
  Reap(WNOHANG);
  return status_;
}

bool Process::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void Process::Stop(std::chrono::milliseconds grace) {
  if (!Running()) return;
  Resume();  // a stopped process would not act on SIGTERM
  kill(pid_, SIGTERM);
  if (!WaitExit(grace)) Kill();
}

void Process::Kill() {
  if (!Running()) return;
  kill(pid_, SIGKILL);
  Reap(0);
}

bool Process::Pause() {
  if (!Running() || kill(pid_, SIGSTOP) != 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WUNTRACED);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  if (!WIFSTOPPED(status)) {
    status_ = status;
    return false;
  }
  paused_ = true;
  return true;
}

void Process::Resume() {
  if (paused_ && pid_ > 0) kill(pid_, SIGCONT);
  paused_ = false;
}

}  // namespace hive::testing
