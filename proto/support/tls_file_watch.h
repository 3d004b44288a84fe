// Watches the certificate, key and CA files of TLS listeners as gRPC's
// FileWatcherCertificateProvider re-reads them (grpc_tls.h), and checks each
// change when it lands (CheckServerFiles): gRPC loads a renewed key and
// certificate as a pair without checking that they belong together, and an
// unreadable or mismatched set fails new handshakes until it is fixed. The
// operator learns of it from the report within one interval, without a
// SIGHUP.
//
// A change is any difference in a file's inode, size or modification time
// (stat follows symlinks: swapping a directory symlink is seen). The files
// as they are at construction are the baseline, not reported: the daemon
// checked them at start.
//
// Usage: TlsFileWatch watch({{tls, "server.tls"}}, 5s,
//            [](const std::string& field, const absl::Status& s) { ... });
//        watch.CheckNow();  // SIGHUP: check and report every listener
//
// Thread-safety: the report runs on the watch's own thread or on the
// caller of CheckNow(), one at a time. The destructor stops the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "hive/config/v1/tls.pb.h"

namespace hive::tls {

class TlsFileWatch {
 public:
  struct Listener {
    hive::config::v1::ServerTls tls;
    std::string field;  // "server.tls": names the files in reports
  };
  using Report = std::function<void(const std::string& field, const absl::Status& files)>;

  TlsFileWatch(std::vector<Listener> listeners, std::chrono::milliseconds interval, Report report);
  ~TlsFileWatch();
  TlsFileWatch(const TlsFileWatch&) = delete;
  TlsFileWatch& operator=(const TlsFileWatch&) = delete;

  void CheckNow();

 private:
  struct Watched {
    Listener listener;
    std::string signature;  // of its files as last seen
  };
  void Run();
  void CheckChanged();

  const std::chrono::milliseconds interval_;
  const Report report_;
  std::mutex check_mu_;  // one check at a time; guards watched_
  std::vector<Watched> watched_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread thread_;
};

}  // namespace hive::tls
