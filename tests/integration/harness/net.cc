#include "harness/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hive::testing {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Claims `port` for this process across every test process of the machine:
// a file named after it holds the claiming PID. A claim whose process is
// gone is taken over. Without it, a test that stops its hive-policyd frees
// the port for a concurrent test's FreePort(), whose daemon then answers
// the first test's milter (seen once in CI: "policy down" met a policyd).
constexpr char kClaimDir[] = "/tmp/hive-test-ports";

std::string ClaimPath(uint16_t port) { return std::string(kClaimDir) + "/" + std::to_string(port); }

// The ports this process handed out (FreePort), and the lock of both.
std::mutex g_ports_mu;
std::set<uint16_t> g_handed_out;

// At exit, the claims this process still holds go: without it the
// directory grew by a file per port ever handed out (thousands per run).
void ReleaseClaims() {
  std::lock_guard lock(g_ports_mu);
  for (uint16_t port : g_handed_out) {
    std::ifstream in(ClaimPath(port));
    pid_t owner = 0;
    if (in >> owner && owner == getpid()) unlink(ClaimPath(port).c_str());
  }
}

bool ClaimAcrossProcesses(uint16_t port) {
  if (mkdir(kClaimDir, 0777) == 0) chmod(kClaimDir, 01777);  // shared like /tmp
  const std::string path = ClaimPath(port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string pid = std::to_string(getpid());
      const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      close(fd);
      return written;
    }
    // No registry here (not writable): within one process is all there is.
    if (errno != EEXIST) return true;
    std::ifstream in(path);
    pid_t owner = 0;
    // A claim being written right now reads as 0: not taken over.
    if (!(in >> owner) || owner <= 0 || owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH) return false;
    unlink(path.c_str());
  }
  return false;
}

// Below the kernel's ephemeral range (32768-60999 by default), where a
// client connection of a concurrent test can hold a port without listening
// on it; and below the 20000-32767 that run-miltertest.sh picks from.
constexpr uint16_t kFirstTestPort = 10000;
constexpr uint16_t kLastTestPort = 19999;

}  // namespace

uint16_t FreePort() {
  static std::mt19937 pick(static_cast<std::mt19937::result_type>(std::random_device{}() ^ getpid()));
  [[maybe_unused]] static const bool release_at_exit = std::atexit(ReleaseClaims) == 0;
  std::lock_guard lock(g_ports_mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<uint16_t>(kFirstTestPort + pick() % (kLastTestPort - kFirstTestPort + 1));
    if (g_handed_out.count(port) != 0) continue;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in addr = Loopback(port);
    const bool free = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free && ClaimAcrossProcesses(port)) {
      g_handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port");
}

bool WaitForListener(uint16_t port, std::chrono::milliseconds timeout, bool ipv6) {
  return WaitForListener(ipv6 ? "::1" : "127.0.0.1", port, timeout);
}

bool WaitForListener(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  sockaddr_in6 addr6{};
  addr6.sin6_family = AF_INET6;
  addr6.sin6_port = htons(port);
  const bool ipv6 = inet_pton(AF_INET6, host.c_str(), &addr6.sin6_addr) == 1;
  if (!ipv6 && inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool up = ipv6 ? connect(fd, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6) == 0
                         : connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string ScrapeMetrics(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[8192];
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  const std::size_t body = out.find("\r\n\r\n");
  return out.rfind("HTTP/1.1 200 ", 0) == 0 && body != std::string::npos ? out.substr(body + 4) : "";
}

double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace hive::testing
