// A tiny authoritative DNS responder for tests: UDP on 127.0.0.1, a free
// port, A records from a table, NXDOMAIN for every other name. It can play
// a dead server (never answers), a slow one (answers after a delay) or a
// broken one (SERVFAIL), and counts the queries it received so that tests
// can see what a cache saved. Never touches the network beyond loopback.
//
//   LoopbackDnsServer dns;
//   dns.Add("example.com.uribl.test", {0x7f000002}, 300);
//   resolver options: servers = {dns.address()}   // "127.0.0.1:<port>"
//
// Thread-safety: the configuration calls and counters are safe while the
// server thread runs; the destructor stops and joins it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hive::testing {

class LoopbackDnsServer {
 public:
  enum class Mode { kAnswer, kDrop, kServfail };

  LoopbackDnsServer();  // binds and starts; aborts the test binary if it cannot bind
  ~LoopbackDnsServer();
  LoopbackDnsServer(const LoopbackDnsServer&) = delete;
  LoopbackDnsServer& operator=(const LoopbackDnsServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Names are matched without case and without a trailing dot.
  void Add(const std::string& name, std::vector<std::uint32_t> addresses, std::uint32_t ttl = 300);
  void SetMode(Mode mode);
  void SetDelay(std::chrono::milliseconds delay);

  int queries() const { return queries_.load(); }
  int queries_for(const std::string& name) const;

 private:
  struct Record {
    std::vector<std::uint32_t> addresses;
    std::uint32_t ttl = 0;
  };
  struct Delayed {
    std::chrono::steady_clock::time_point due;
    std::vector<unsigned char> reply;
    std::vector<unsigned char> peer;  // sockaddr_in bytes
  };
  void Run();
  // The reply to one query datagram; empty when it is not worth one.
  std::vector<unsigned char> Reply(const unsigned char* query, std::size_t size);

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;
  std::map<std::string, int> counts_;
  Mode mode_ = Mode::kAnswer;
  std::chrono::milliseconds delay_{0};
  std::vector<Delayed> delayed_;  // server thread only
  std::thread thread_;
};

}  // namespace hive::testing
