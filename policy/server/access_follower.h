// Puts a config's admin access (server.admin: tokens, principals, local
// role) in force on the running admin API when it differs from what is in
// force, saying so in the log and in the admin history (action "access",
// names and roles only): a leaked token is revoked without the restart
// that would lose the in-memory counters.
//
// Usage (main.cc): AccessFollower follower(access, repository, plaintext, start_admin);
//   follower.Follow(snapshot.server.admin);  // after every install, or SIGHUP
//
// Thread-safe: a SIGHUP and an admin apply may install at once.
#pragma once

#include <mutex>

#include "admin/policy_repository.h"
#include "hive/config/v1/policy_config.pb.h"
#include "server/access_control.h"

namespace hive::policy::server {

// A plaintext admin listener gives every local client without credentials
// `settings.local_role`: said at start and whenever a reload sets it.
void WarnOfLocalRole(const AccessSettings& settings);

class AccessFollower {
 public:
  // `plaintext`: the admin listener's (fixed at start); `in_force`: the
  // admin section `access` was built from.
  AccessFollower(AccessControl& access, admin::PolicyRepository& audit, bool plaintext,
                 hive::config::v1::AdminServer in_force);

  // A section that cannot be turned into settings leaves the access as it
  // is and says why (the start check refuses such a file before it gets
  // here).
  void Follow(const hive::config::v1::AdminServer& admin);

 private:
  AccessControl& access_;
  admin::PolicyRepository& audit_;
  const bool plaintext_;
  std::mutex mu_;
  hive::config::v1::AdminServer in_force_;  // guarded by mu_
};

}  // namespace hive::policy::server
