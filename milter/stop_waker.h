// Makes hive-milter stop at once instead of after up to 5 s.
//
// libmilter's listener waits in select() with a timeout of MI_CHK_TIME, 5 s
// (libmilter.h), holding its listener mutex, and looks at its stop flag only
// between two waits. A stop (its own SIGTERM/SIGHUP thread, or smfi_stop)
// sets the flag, then waits for that mutex to close the listening socket:
// so smfi_main returned up to 5 s after the signal (measured 3.8-5.1 s).
//
// StopWaker watches the flag (libmilter's mi_stop(), exported by
// libmilter.so though only declared in its private header) and, once it is
// set, connects to the listening socket every few milliseconds until
// smfi_main has returned: select() wakes, the listener accepts the empty
// connection (a session that reads EOF at once, before any callback) and
// sees the flag. Nothing changes when no stop is asked.
//
// Usage: fds = ListeningSockets() (listen_socket.h) before smfi_opensocket;
// after it,
// StopWaker waker(fds); smfi_main(); waker.Done();
// Thread-safety: one instance, owned by main.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <thread>
#include <vector>

namespace hive::milter {

class StopWaker {
 public:
  // Watches the listening socket that is not among `before` (libmilter's);
  // without one (nothing new listens), it does nothing.
  explicit StopWaker(const std::vector<int>& before);
  ~StopWaker();
  StopWaker(const StopWaker&) = delete;
  StopWaker& operator=(const StopWaker&) = delete;

  // smfi_main has returned: stop watching.
  void Done();

 private:
  void Run();
  void Poke() const;

  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace hive::milter
