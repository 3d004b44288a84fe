// The current config snapshot, swapped atomically on reload.
//
// Request handlers call Get() once and use that snapshot to the end;
// Reload() (from the signal thread on SIGHUP) builds a whole new snapshot
// from the file, or keeps the old one and logs why; the admin API installs
// snapshots it compiled itself through Install(), so both paths warn and
// log alike. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "config/snapshot.h"

namespace hive::policy::config {

// Whether two admin sections grant the same access (principals, tokens,
// local role: everything but the listener and its TLS).
bool AccessEquals(const hive::config::v1::AdminServer& a, const hive::config::v1::AdminServer& b);

// Whether two server sections are the same: listeners, request size, TLS,
// admin.
bool SameServerSettings(const ServerSettings& a, const ServerSettings& b);

class SnapshotHolder {
 public:
  SnapshotHolder(std::string path, SnapshotPtr initial) : path_(std::move(path)), current_(std::move(initial)) {}

  SnapshotPtr Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void Set(SnapshotPtr snapshot) {
    std::lock_guard lock(mu_);
    current_ = std::move(snapshot);
  }

  // Re-reads the file given at construction. On error the current snapshot
  // stays and the error (naming file, line and field) is returned, logged
  // and kept for LastReloadFailure. A file the start check refuses is such
  // an error: what passes a reload must also start.
  absl::Status Reload();
  // What a restart would refuse beyond compiling (main.cc: the listeners'
  // addresses and the admin API's access settings). Set it before serving.
  using StartCheck = std::function<absl::Status(const PolicySnapshot&)>;
  void SetStartCheck(StartCheck check) { start_check_ = std::move(check); }
  // The last Reload that failed since a snapshot was last installed:
  // `version` is the refused text's (ConfigVersion; "" when the file could
  // not be read), `error` what Reload returned.
  struct ReloadFailure {
    std::string version;
    std::string error;
  };
  std::optional<ReloadFailure> LastReloadFailure() const {
    std::lock_guard lock(mu_);
    return failure_;
  }
  // Swaps in a snapshot that compiled, warning about settings that only
  // apply after a restart; `why` ("reloaded", "admin apply") starts the log
  // line. Calls the observers.
  void Install(SnapshotPtr next, std::string_view why);
  // Called after every Install, in the order added (metrics' config
  // version, the admin API's access settings). Add them before serving;
  // they run on the installing thread.
  void AddObserver(std::function<void(const PolicySnapshot&)> observer) { observers_.push_back(std::move(observer)); }
  // Whether an observer applies server.admin's tokens, principals and local
  // role (main.cc, the policy in the file): then a change to them is not
  // warned about as waiting for a restart. Set before serving.
  void SetAccessFollowsReloads(bool follows) { access_follows_reloads_ = follows; }
  // With the policy in Redis (main.cc) what is installed comes from the
  // store, but the settings read at start (server, counter store, metrics
  // endpoint, log format) always come from this replica's file, never from
  // a stored version: an install then warns about none of them (a restart
  // would not apply them either). Set before serving.
  void SetStartSettingsFromFile(bool from_file) { start_settings_from_file_ = from_file; }

 private:
  // Settings main.cc reads at start only: a change says it waits for a
  // restart.
  void WarnOfStartOnlyChanges(const PolicySnapshot& old, const PolicySnapshot& next) const;

  const std::string path_;
  mutable std::mutex mu_;
  SnapshotPtr current_;
  std::optional<ReloadFailure> failure_;
  std::vector<std::function<void(const PolicySnapshot&)>> observers_;
  bool access_follows_reloads_ = false;
  bool start_settings_from_file_ = false;
  StartCheck start_check_;
};

}  // namespace hive::policy::config
