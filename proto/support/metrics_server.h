// A minimal HTTP/1.1 server for Prometheus scrapes: GET /metrics answers
// the registry's text exposition; everything else gets 404 / 405 / 400.
//
// Usage: auto server = MetricsServer::Start("127.0.0.1:7452", registry);
// (port 0 picks a free one; port() tells which). Destroying it stops the
// thread and closes the socket.
//
// One thread serves one connection at a time and closes it after the
// answer (Connection: close): a scrape every few seconds needs no more.
// What a client can cost is bounded: the request head is at most
// kMaxRequestBytes, and reading it or writing the answer may take at most
// kIoTimeoutMs in all, after which the connection is dropped. There is no
// authentication: listen on loopback or a management network only.
//
// Thread-safety: Start and the destructor from one thread; the registry is
// read concurrently with its writers (Registry is thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "support/metrics.h"

namespace hive::metrics {

class MetricsServer {
 public:
  static constexpr std::size_t kMaxRequestBytes = 8192;
  static constexpr int kIoTimeoutMs = 2000;
  // Input read and discarded after the answer, before closing.
  static constexpr std::size_t kMaxDrainBytes = 64 * 1024;

  // `listen`: "HOST:PORT", "[IPV6]:PORT"; HOST must be a numeric address.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen, const Registry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  MetricsServer(int listen_fd, int stop_read, int stop_write, std::uint16_t port, const Registry& registry);
  void Serve();
  void HandleConnection(int fd) const;

  const int listen_fd_;
  const int stop_read_;   // a byte here (or EOF) stops Serve
  const int stop_write_;
  const std::uint16_t port_;
  const Registry& registry_;
  std::thread thread_;
};

// "GET /metrics HTTP/1.1\r\n..." -> the full HTTP response. Public for tests.
std::string HandleRequest(const std::string& head, const Registry& registry);

}  // namespace hive::metrics
