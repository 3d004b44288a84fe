// Where the policy lives in the embedded (file) mode, and its history: the
// admin API's write path. The file hive-policyd loaded stays the source of
// truth (a SIGHUP reload reads what was applied); every applied version's
// text is kept in a sibling history directory
//   <history>/versions/<version>.yaml
//   <history>/history.log   one JSON HistoryEntry per line, append-only
// so that any version can be rolled back to, and counter resets are
// audited in the same log.
//
// Writes are optimistic: each names the version it was based on (the
// version of the file on disk); a different one is refused with
// FAILED_PRECONDITION carrying the current version as the payload
// kCurrentVersionPayload. A write validates the whole new text exactly as
// a reload would, writes the file atomically (atomic_file.h), then swaps
// the running snapshot: all of the change or none of it.
//
// Thread-safety: thread-safe; writes are serialised by one mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/snapshot_holder.h"
#include "hive/admin/v1/admin.pb.h"
#include "ratelimit/clock.h"

namespace hive::policy::admin {

inline constexpr char kCurrentVersionPayload[] = "type.hive/current_version";

struct PolicyText {
  std::string version;
  std::string yaml;
};

struct ApplyOutcome {
  bool applied = false;
  std::string version;
  std::string previous_version;
  std::vector<std::string> changes;
};

class PolicyRepository {
 public:
  // `config_path`: the file `holder` was loaded from. `history_dir`
  // ("" = config_path + ".history") is created when missing. `clock` and
  // `holder` must outlive the repository.
  static absl::StatusOr<std::unique_ptr<PolicyRepository>> Open(std::string config_path, std::string history_dir,
                                                                config::SnapshotHolder& holder,
                                                                const ratelimit::Clock& clock);

  absl::StatusOr<PolicyText> Current() const;
  // validate_only: every check, nothing written or swapped.
  absl::StatusOr<ApplyOutcome> Apply(const std::string& yaml, std::string_view expected_version,
                                     std::string_view actor, std::string_view action, bool validate_only);
  absl::StatusOr<ApplyOutcome> Rollback(std::string_view version, std::string_view expected_version,
                                        std::string_view actor);
  // Newest first, at most `limit`.
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t limit) const;
  // An audit record that changes no policy (counter reset / adjust); also
  // one log line.
  absl::Status Audit(std::string_view actor, std::string_view action, std::string_view detail);

 private:
  PolicyRepository(std::string config_path, std::string history_dir, config::SnapshotHolder& holder,
                   const ratelimit::Clock& clock);
  absl::StatusOr<PolicyText> CurrentLocked() const;
  absl::Status Record(hive::admin::v1::HistoryEntry entry);
  std::string VersionPath(std::string_view version) const;

  const std::string config_path_;
  const std::string history_dir_;
  config::SnapshotHolder& holder_;
  const ratelimit::Clock& clock_;
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 1;
};

// FAILED_PRECONDITION naming both versions, with kCurrentVersionPayload.
absl::Status StaleVersion(std::string_view expected, std::string_view current);

}  // namespace hive::policy::admin
