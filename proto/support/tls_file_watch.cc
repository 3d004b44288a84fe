#include "support/tls_file_watch.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "support/grpc_tls.h"

namespace hive::tls {
namespace {

// What says a file changed: "-" for one that cannot be read.
std::string Signature(const hive::config::v1::ServerTls& tls) {
  std::string out;
  for (const std::string* path : {&tls.cert_file(), &tls.key_file(), &tls.ca_file()}) {
    struct stat st {};
    if (path->empty() || stat(path->c_str(), &st) != 0) {
      out += "-;";
      continue;
    }
    absl::StrAppend(&out, st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  return out;
}

}  // namespace

TlsFileWatch::TlsFileWatch(std::vector<Listener> listeners, std::chrono::milliseconds interval, Report report)
    : interval_(interval), report_(std::move(report)) {
  for (Listener& l : listeners) {
    std::string signature = Signature(l.tls);
    watched_.push_back({std::move(l), std::move(signature)});
  }
  if (!watched_.empty()) thread_ = std::thread([this] { Run(); });
}

TlsFileWatch::~TlsFileWatch() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TlsFileWatch::CheckNow() {
  std::lock_guard lock(check_mu_);
  for (Watched& w : watched_) {
    w.signature = Signature(w.listener.tls);
    report_(w.listener.field, CheckServerFiles(w.listener.tls, w.listener.field));
  }
}

void TlsFileWatch::CheckChanged() {
  std::lock_guard lock(check_mu_);
  for (Watched& w : watched_) {
    std::string now = Signature(w.listener.tls);
    if (now == w.signature) continue;
    w.signature = std::move(now);
    report_(w.listener.field, CheckServerFiles(w.listener.tls, w.listener.field));
  }
}

void TlsFileWatch::Run() {
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    CheckChanged();
    lock.lock();
  }
}

}  // namespace hive::tls
