// The admin API's write path, whatever the storage (policy_storage.h: the
// config file of one hive-policyd, or Redis for every replica): the
// algorithm is here, the bytes are there.
//
// Writes are optimistic: each names the version it was based on; a
// different current version is refused with FAILED_PRECONDITION carrying it
// as the payload kCurrentVersionPayload (and the storage checks again,
// atomically, when it publishes: a concurrent writer elsewhere loses the
// same way). A write validates the whole new text exactly as a reload
// would, publishes it (text, head and history entry together), then swaps
// the running snapshot: all of the change or none of it. Other replicas
// pick a Redis-held change up through their PolicyFollower.
//
// Every write, refusal and audit record is also one "audit:" log line; a
// refused write (stale version, invalid policy, unknown rollback version or
// object) is also a history entry with action "refused", as the access
// control's refusals are.
//
// Thread-safety: thread-safe; writes are serialised by one mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "admin/policy_storage.h"
#include "config/snapshot_holder.h"
#include "hive/admin/v1/admin.pb.h"
#include "ratelimit/clock.h"

namespace hive::policy::admin {

// applied false: a validation, or a write that would change nothing (the
// text that runs, or an object edit to what the object already is), in
// which case version == previous_version and nothing was written or audited.
struct ApplyOutcome {
  bool applied = false;
  std::string version;
  std::string previous_version;
  std::vector<std::string> changes;
};

class PolicyRepository {
 public:
  // Everything must outlive the repository. `source_name` prefixes the
  // errors of a validation (the config file's path, "redis host:port").
  PolicyRepository(PolicyStorage& storage, config::SnapshotHolder& holder, const ratelimit::Clock& clock,
                   std::string source_name)
      : storage_(storage), holder_(holder), clock_(clock), source_name_(std::move(source_name)) {}

  absl::StatusOr<PolicyText> Current() const { return storage_.Head(); }
  // validate_only: every check, nothing written or swapped.
  absl::StatusOr<ApplyOutcome> Apply(const std::string& yaml, std::string_view expected_version,
                                     std::string_view actor, std::string_view action, bool validate_only);
  absl::StatusOr<ApplyOutcome> Rollback(std::string_view version, std::string_view expected_version,
                                        std::string_view actor);
  // Newest first, at most `limit`.
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t limit) const {
    return storage_.History(limit);
  }
  // An audit record that changes no policy (counter reset / adjust); also
  // one log line.
  absl::Status Audit(std::string_view actor, std::string_view action, std::string_view detail);
  // A write computed from the current text under the write lock (an
  // object write): `edit` returns the new text, or a refusal returned as it
  // is and audited (FAILED_PRECONDITION "stale", NOT_FOUND "not-found");
  // then as Apply, based on that text. No write of this process can land
  // between the read and the write; a write of another replica (policy in
  // Redis) can: then `edit` runs again on the new text, at most
  // kEditAttempts times, so the editor's own check (an object's version)
  // decides, not the version of the whole policy.
  using Editor = std::function<absl::StatusOr<std::string>(const PolicyText& current)>;
  absl::StatusOr<ApplyOutcome> Edit(const Editor& edit, std::string_view actor, std::string_view action,
                                    bool validate_only);

  PolicyStorage& storage() { return storage_; }

  // Checks a validated policy must also pass to be written, refusing it
  // with their own message (main.cc: what a restart of this daemon would
  // refuse, so that an apply cannot leave a file hive-policyd does not start
  // with; and a changed server section, which is the host's). Set once,
  // before serving.
  using WriteCheck = std::function<absl::Status(const config::PolicySnapshot&)>;
  void SetWriteCheck(WriteCheck check) { write_check_ = std::move(check); }

 private:
  static constexpr int kEditAttempts = 3;
  // `audit_stale`: record a stale refusal in the history (not when the
  // caller will try again).
  absl::StatusOr<ApplyOutcome> ApplyLocked(const std::string& yaml, std::string_view expected_version,
                                           std::string_view actor, std::string_view action, bool validate_only,
                                           bool audit_stale);
  void Refused(std::string_view actor, std::string_view action, std::string_view why, std::string_view detail);
  void RefusedLocked(std::string_view actor, std::string_view action, std::string_view why, std::string_view detail);
  absl::StatusOr<hive::admin::v1::HistoryEntry> AppendLocked(std::string_view actor, std::string_view action,
                                                             std::string_view detail);

  PolicyStorage& storage_;
  config::SnapshotHolder& holder_;
  const ratelimit::Clock& clock_;
  const std::string source_name_;
  WriteCheck write_check_;
  std::mutex mu_;
};

// The "audit: seq=... actor=... action=..." log line of a recorded entry.
void LogAudit(const hive::admin::v1::HistoryEntry& entry);

}  // namespace hive::policy::admin
