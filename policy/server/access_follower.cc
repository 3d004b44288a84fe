#include "server/access_follower.h"

#include "absl/strings/str_cat.h"
#include "config/snapshot_holder.h"
#include "server/admin_convert.h"
#include "support/log.h"

namespace hive::policy::server {

void WarnOfLocalRole(const AccessSettings& settings) {
  if (settings.plaintext && settings.local_role != Role::kNone) {
    hive::log::Warning(absl::StrCat("admin API: every local client without credentials has role ",
                                    RoleName(settings.local_role), " (server.admin.local_role)"));
  }
}

AccessFollower::AccessFollower(AccessControl& access, admin::PolicyRepository& audit, bool plaintext,
                               hive::config::v1::AdminServer in_force)
    : access_(access), audit_(audit), plaintext_(plaintext), in_force_(std::move(in_force)) {}

void AccessFollower::Follow(const hive::config::v1::AdminServer& admin) {
  std::lock_guard lock(mu_);
  if (config::AccessEquals(admin, in_force_)) return;
  absl::StatusOr<AccessSettings> next = AccessSettingsFrom(admin, plaintext_);
  if (!next.ok()) {
    hive::log::Error(absl::StrCat("admin: access settings not changed: ", next.status().message()));
    return;
  }
  WarnOfLocalRole(*next);
  hive::log::Info(absl::StrCat("admin: access settings in force: ", next->tokens.size(), " tokens, ",
                               next->principals.size(), " principals, local role ", RoleName(next->local_role)));
  hive::admin::v1::AdminAccess names;
  AccessToProto(*next, names);
  (void)audit_.Audit("hive-policyd", "access", names.ShortDebugString());
  access_.Update(*std::move(next));
  in_force_ = admin;
}

}  // namespace hive::policy::server
