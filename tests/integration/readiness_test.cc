// Readiness (issue 10): with NOTIFY_SOCKET set, as systemd sets it for a
// Type=notify unit, each daemon sends READY=1 (with its MAINPID) to a unix
// datagram socket this test owns, and only once its port accepts
// connections: when the datagram arrives the port answers at once, and a
// daemon that cannot listen (the port is taken) exits without ever sending
// READY=1. Loopback and a private socket only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>

#include "harness/net.h"
#include "harness/process.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr auto kStartTimeout = std::chrono::seconds(20);

// The systemd side: a datagram socket at dir/notify, exported as
// NOTIFY_SOCKET to the children this process starts afterwards.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("notify socket: " + std::string(std::strerror(errno)));
    }
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }
  // The next datagram, or "" when none came within `timeout`.
  std::string Receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// A plain TCP connect to 127.0.0.1:port, once, no retry.
bool ConnectsNow(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// A listener on 127.0.0.1:port without SO_REUSEPORT/SO_REUSEADDR, so a
// daemon's own bind on that port fails.
class PortSquatter {
 public:
  explicit PortSquatter(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 1) != 0) {
      throw std::runtime_error("squat: " + std::string(std::strerror(errno)));
    }
  }
  ~PortSquatter() { close(fd_); }

 private:
  int fd_ = -1;
};

struct Daemon {
  std::string name;
  // argv for the daemon listening on 127.0.0.1:port, its config in dir.
  std::function<std::vector<std::string>(const TempDir&, uint16_t port)> argv;
};

std::vector<Daemon> Daemons() {
  return {
      {"policyd",
       [](const TempDir& dir, uint16_t port) {
         WriteFile(dir.Sub("policyd.yaml"), "routing:\n  pools: [{name: main}]\n  default_pool: main\n");
         return std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir.Sub("policyd.yaml"), "--listen",
                                         "127.0.0.1:" + std::to_string(port)};
       }},
      {"milter",
       [](const TempDir& dir, uint16_t port) {
         WriteFile(dir.Sub("milter.yaml"), "");
         // No policyd behind it: readiness is about the milter's own socket.
         return std::vector<std::string>{HIVE_MILTER_BIN, "--config", dir.Sub("milter.yaml"), "--listen",
                                         "inet:" + std::to_string(port) + "@127.0.0.1", "--policy",
                                         "127.0.0.1:" + std::to_string(FreePort())};
       }},
  };
}

class ReadinessTest : public ::testing::TestWithParam<Daemon> {};

TEST_P(ReadinessTest, ReadyArrivesOnlyOnceThePortAcceptsConnections) {
  TempDir dir;
  NotifySocket notify(dir.Sub("notify"));
  const uint16_t port = FreePort();
  Process daemon(GetParam().argv(dir, port), dir.Sub("daemon.log"));
  const std::string message = notify.Receive(kStartTimeout);
  // Checked before anything else: the port must accept at the moment READY=1 arrives.
  const bool connects = ConnectsNow(port);
  ASSERT_THAT(message, HasSubstr("READY=1\n")) << ReadFile(dir.Sub("daemon.log"));
  EXPECT_TRUE(connects) << message;
  EXPECT_THAT(message, HasSubstr("MAINPID=" + std::to_string(daemon.pid()) + "\n"));
  EXPECT_THAT(message, HasSubstr("STATUS=hive-"));
  // Stopping announces itself before the process exits.
  daemon.Stop();
  EXPECT_THAT(notify.Receive(std::chrono::seconds(5)), HasSubstr("STOPPING=1"));
}

TEST_P(ReadinessTest, ADaemonThatCannotListenNeverSaysReady) {
  TempDir dir;
  NotifySocket notify(dir.Sub("notify"));
  const uint16_t port = FreePort();
  PortSquatter squatter(port);
  Process daemon(GetParam().argv(dir, port), dir.Sub("daemon.log"));
  ASSERT_TRUE(daemon.WaitExit(kStartTimeout)) << ReadFile(dir.Sub("daemon.log"));
  EXPECT_NE(daemon.ExitStatus(), 0);
  // Exited: anything it sent is already queued on our socket.
  EXPECT_THAT(notify.Receive(std::chrono::milliseconds(0)), ::testing::Not(HasSubstr("READY=1")));
}

INSTANTIATE_TEST_SUITE_P(Daemons, ReadinessTest, ::testing::ValuesIn(Daemons()),
                         [](const ::testing::TestParamInfo<Daemon>& d) { return d.param.name; });

}  // namespace
}  // namespace hive::testing
