#include "admin/file_policy_storage.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "support/atomic_file.h"
#include "config/snapshot.h"
#include "support/log.h"

namespace hive::policy::admin {

namespace av1 = hive::admin::v1;

namespace {

std::string HistoryDirOf(const std::string& config_path, const std::string& history_dir) {
  return history_dir.empty() ? config_path + ".history" : history_dir;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FilePolicyStorage>> FilePolicyStorage::Open(std::string config_path,
                                                                           std::string history_dir,
                                                                           std::int64_t now_unix_ms) {
  history_dir = HistoryDirOf(config_path, history_dir);
  if (absl::Status s = hive::support::EnsureDirectory(history_dir); !s.ok()) return s;
  if (absl::Status s = hive::support::EnsureDirectory(history_dir + "/versions"); !s.ok()) return s;
  std::unique_ptr<FilePolicyStorage> storage(new FilePolicyStorage(std::move(config_path), std::move(history_dir)));
  // Continue the sequence of an existing log.
  absl::StatusOr<std::vector<av1::HistoryEntry>> old = storage->History(1);
  if (old.ok() && !old->empty()) storage->next_seq_ = old->front().seq() + 1;
  // The running text is a version one can roll back to.
  absl::StatusOr<PolicyText> current = storage->Head();
  if (!current.ok()) return current.status();
  if (!hive::support::ReadWholeFile(storage->VersionPath(current->version)).ok()) {
    if (absl::Status s = hive::support::WriteFileAtomically(storage->VersionPath(current->version), current->yaml); !s.ok()) return s;
    av1::HistoryEntry entry;
    entry.set_actor("hive-policyd");
    entry.set_action("load");
    entry.set_version(current->version);
    entry.set_time_unix_ms(now_unix_ms);
    if (absl::StatusOr<std::uint64_t> seq = storage->Append(std::move(entry)); !seq.ok()) return seq.status();
  }
  return storage;
}

absl::Status FilePolicyStorage::CheckWritable(const std::string& config_path, const std::string& history_dir) {
  const auto writable = [](const std::filesystem::path& wanted) -> absl::Status {
    std::error_code ec;
    std::filesystem::path at = wanted;  // the nearest existing ancestor
    while (!at.empty() && at != at.root_path() && !std::filesystem::exists(at, ec)) at = at.parent_path();
    if (at.empty()) at = ".";
    if (!std::filesystem::is_directory(at, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(wanted.string(), ": ", at.string(), " is not a directory"));
    }
    if (access(at.c_str(), W_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(wanted.string(), ": ", at.string(), ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  std::filesystem::path config_dir = std::filesystem::path(config_path).parent_path();
  if (config_dir.empty()) config_dir = ".";
  for (const std::filesystem::path& dir :
       {config_dir, std::filesystem::path(HistoryDirOf(config_path, history_dir))}) {
    if (absl::Status s = writable(dir); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FilePolicyStorage::VersionPath(std::string_view version) const {
  return absl::StrCat(history_dir_, "/versions/", std::string(version), ".yaml");
}

absl::StatusOr<PolicyText> FilePolicyStorage::Head() const {
  std::lock_guard lock(mu_);
  return HeadLocked();
}

absl::StatusOr<PolicyText> FilePolicyStorage::HeadLocked() const {
  absl::StatusOr<std::string> text = hive::support::ReadWholeFile(config_path_);
  if (!text.ok()) return text.status();
  return PolicyText{config::ConfigVersion(*text), *std::move(text)};
}

absl::StatusOr<std::string> FilePolicyStorage::HeadVersion() const {
  absl::StatusOr<PolicyText> head = Head();
  if (!head.ok()) return head.status();
  return head->version;
}

absl::StatusOr<std::string> FilePolicyStorage::Text(std::string_view version) const {
  absl::StatusOr<std::string> text = hive::support::ReadWholeFile(VersionPath(version));
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no version '", std::string(version), "' in the history"));
  return text;
}

absl::StatusOr<std::uint64_t> FilePolicyStorage::Publish(const PolicyText& text, std::string_view expected,
                                                         av1::HistoryEntry entry) {
  std::lock_guard lock(mu_);
  absl::StatusOr<PolicyText> current = HeadLocked();
  if (!current.ok()) return current.status();
  if (current->version != expected) return StaleVersion(expected, current->version);
  // History first: a crash after it leaves a version that was never
  // applied, harmless; the reverse would lose the rollback target.
  if (absl::Status s = hive::support::WriteFileAtomically(VersionPath(text.version), text.yaml); !s.ok()) return s;
  if (absl::Status s = hive::support::WriteFileAtomically(config_path_, text.yaml); !s.ok()) return s;
  absl::StatusOr<std::uint64_t> seq = AppendLocked(std::move(entry));
  if (!seq.ok()) {
    // Applied but not recorded: say so loudly, the change stands.
    hive::log::Error(absl::StrCat("audit: history not written: ", seq.status().message()));
    return 0;
  }
  return seq;
}

absl::StatusOr<std::uint64_t> FilePolicyStorage::Append(av1::HistoryEntry entry) {
  std::lock_guard lock(mu_);
  return AppendLocked(std::move(entry));
}

absl::StatusOr<std::uint64_t> FilePolicyStorage::AppendLocked(av1::HistoryEntry entry) {
  entry.set_seq(next_seq_++);
  absl::StatusOr<std::string> json = EntryToJson(entry);
  if (!json.ok()) return json.status();
  if (absl::Status s = hive::support::AppendLine(history_dir_ + "/history.log", *json); !s.ok()) return s;
  return entry.seq();
}

absl::StatusOr<std::vector<av1::HistoryEntry>> FilePolicyStorage::History(std::size_t limit) const {
  std::vector<av1::HistoryEntry> all;
  std::ifstream in(history_dir_ + "/history.log");
  std::string line;
  while (std::getline(in, line)) {
    av1::HistoryEntry entry;
    // A torn last line (crash mid-append) is skipped, not fatal.
    if (EntryFromJson(line, entry)) all.push_back(std::move(entry));
  }
  std::vector<av1::HistoryEntry> out;
  for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

}  // namespace hive::policy::admin
