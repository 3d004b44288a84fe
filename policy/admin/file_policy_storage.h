// The embedded default's PolicyStorage: the policy is hive-policyd's own
// config file (a SIGHUP reload reads what was applied), written atomically
// (support/atomic_file.h); every version's text is kept in a sibling history
// directory
//   <history>/versions/<version>.yaml
//   <history>/history.log   one JSON HistoryEntry per line, append-only
// so that any version can be rolled back to.
//
// Publish compares the version of the file on disk with `expected` under
// the storage's mutex: one process writes the file (an edit by hand in
// between is seen as a new version and refused as stale).
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "admin/policy_storage.h"

namespace hive::policy::admin {

class FilePolicyStorage final : public PolicyStorage {
 public:
  // `history_dir` ("" = config_path + ".history") is created when missing;
  // the file's current text is stored as a version (with a "load" entry)
  // when it is not yet.
  static absl::StatusOr<std::unique_ptr<FilePolicyStorage>> Open(std::string config_path, std::string history_dir,
                                                                 std::int64_t now_unix_ms);
  // Whether Open and Publish could write what they write: the config
  // file's directory (an apply is a temporary file and a rename) and the
  // history directory, or their nearest existing ancestor. Changes nothing:
  // hive-policyd --check says why before a start under a read-only /etc
  // (ProtectSystem=strict) would fail.
  static absl::Status CheckWritable(const std::string& config_path, const std::string& history_dir);

  absl::StatusOr<PolicyText> Head() const override;
  absl::StatusOr<std::string> HeadVersion() const override;
  absl::StatusOr<std::string> Text(std::string_view version) const override;
  absl::StatusOr<std::uint64_t> Publish(const PolicyText& text, std::string_view expected,
                                        hive::admin::v1::HistoryEntry entry) override;
  absl::StatusOr<std::uint64_t> Append(hive::admin::v1::HistoryEntry entry) override;
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t limit) const override;
  std::string Describe() const override { return "file " + config_path_; }

 private:
  FilePolicyStorage(std::string config_path, std::string history_dir)
      : config_path_(std::move(config_path)), history_dir_(std::move(history_dir)) {}
  absl::StatusOr<PolicyText> HeadLocked() const;
  absl::StatusOr<std::uint64_t> AppendLocked(hive::admin::v1::HistoryEntry entry);
  std::string VersionPath(std::string_view version) const;

  const std::string config_path_;
  const std::string history_dir_;
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 1;  // guarded by mu_
};

}  // namespace hive::policy::admin
