#include "milter/stop_waker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "milter/listen_socket.h"

// libmilter's stop flag: MILTER_CONT (0) until a stop is asked.
extern "C" int mi_stop(void);

namespace hive::milter {
namespace {

constexpr auto kWatchInterval = std::chrono::milliseconds(20);

}  // namespace

StopWaker::StopWaker(const std::vector<int>& before) {
  for (const int fd : ListeningSockets()) {
    if (std::find(before.begin(), before.end(), fd) != before.end()) continue;
    addr_len_ = sizeof addr_;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr_), &addr_len_) != 0) addr_len_ = 0;
    break;
  }
  if (addr_len_ != 0) thread_ = std::thread([this] { Run(); });
}

StopWaker::~StopWaker() { Done(); }

void StopWaker::Done() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
}

void StopWaker::Run() {
  while (!done_.load()) {
    if (mi_stop() != 0) Poke();
    std::this_thread::sleep_for(kWatchInterval);
  }
}

void StopWaker::Poke() const {
  const int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  // Refused once libmilter has closed the socket: nothing left to wake.
  (void)connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  close(fd);
}

}  // namespace hive::milter
