#include "admin/policy_repository.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/atomic_file.h"
#include "admin/policy_objects.h"
#include "support/log.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::admin {
namespace {

namespace av1 = hive::admin::v1;

std::string HistoryLog(const std::string& dir) { return dir + "/history.log"; }

hive::config::v1::PolicyConfig ParsedOrEmpty(const std::string& yaml) {
  hive::config::v1::PolicyConfig config;
  // Only texts that loaded before reach here; an error leaves it empty.
  hive::config::YamlToProto(yaml, "history", config).IgnoreError();
  return config;
}

}  // namespace

absl::Status StaleVersion(std::string_view expected, std::string_view current) {
  absl::Status s = absl::FailedPreconditionError(
      absl::StrCat("stale version '", std::string(expected), "': the policy is now at version ", std::string(current)));
  s.SetPayload(kCurrentVersionPayload, absl::Cord(std::string(current)));
  return s;
}

PolicyRepository::PolicyRepository(std::string config_path, std::string history_dir,
                                   config::SnapshotHolder& holder, const ratelimit::Clock& clock)
    : config_path_(std::move(config_path)), history_dir_(std::move(history_dir)), holder_(holder), clock_(clock) {}

absl::StatusOr<std::unique_ptr<PolicyRepository>> PolicyRepository::Open(std::string config_path,
                                                                          std::string history_dir,
                                                                          config::SnapshotHolder& holder,
                                                                          const ratelimit::Clock& clock) {
  if (history_dir.empty()) history_dir = config_path + ".history";
  if (absl::Status s = EnsureDirectory(history_dir); !s.ok()) return s;
  if (absl::Status s = EnsureDirectory(history_dir + "/versions"); !s.ok()) return s;
  std::unique_ptr<PolicyRepository> repo(
      new PolicyRepository(std::move(config_path), std::move(history_dir), holder, clock));
  // Continue the sequence of an existing log.
  absl::StatusOr<std::vector<av1::HistoryEntry>> old = repo->History(1);
  if (old.ok() && !old->empty()) repo->next_seq_ = old->front().seq() + 1;
  // The running text is a version one can roll back to.
  absl::StatusOr<PolicyText> current = repo->Current();
  if (!current.ok()) return current.status();
  if (!ReadWholeFile(repo->VersionPath(current->version)).ok()) {
    if (absl::Status s = WriteFileAtomically(repo->VersionPath(current->version), current->yaml); !s.ok()) return s;
    av1::HistoryEntry entry;
    entry.set_actor("hive-policyd");
    entry.set_action("load");
    entry.set_version(current->version);
    if (absl::Status s = repo->Record(std::move(entry)); !s.ok()) return s;
  }
  return repo;
}

std::string PolicyRepository::VersionPath(std::string_view version) const {
  return absl::StrCat(history_dir_, "/versions/", std::string(version), ".yaml");
}

absl::StatusOr<PolicyText> PolicyRepository::Current() const {
  std::lock_guard lock(mu_);
  return CurrentLocked();
}

absl::StatusOr<PolicyText> PolicyRepository::CurrentLocked() const {
  absl::StatusOr<std::string> text = ReadWholeFile(config_path_);
  if (!text.ok()) return text.status();
  return PolicyText{config::ConfigVersion(*text), *std::move(text)};
}

absl::StatusOr<ApplyOutcome> PolicyRepository::Apply(const std::string& yaml, std::string_view expected_version,
                                                     std::string_view actor, std::string_view action,
                                                     bool validate_only) {
  std::lock_guard lock(mu_);
  absl::StatusOr<PolicyText> current = CurrentLocked();
  if (!current.ok()) return current.status();
  if (!validate_only && expected_version != current->version) {
    hive::log::Warning(absl::StrCat("audit: actor=\"", hive::log::Sanitize(actor, 64), "\" action=", std::string(action),
                                    " refused=stale expected=", hive::log::Sanitize(expected_version, 32),
                                    " current=", current->version));
    return StaleVersion(expected_version, current->version);
  }
  // Exactly the checks of a load: file:line:col errors name the fields.
  absl::StatusOr<config::SnapshotPtr> next = config::LoadSnapshotFromText(yaml, config_path_);
  if (!next.ok()) {
    if (!validate_only) {
      hive::log::Warning(absl::StrCat("audit: actor=\"", hive::log::Sanitize(actor, 64), "\" action=", std::string(action),
                                      " refused=invalid current=", current->version));
    }
    return absl::InvalidArgumentError(next.status().message());
  }
  ApplyOutcome out;
  out.version = (*next)->version;
  out.previous_version = current->version;
  out.changes = DiffPolicies(ParsedOrEmpty(current->yaml), ParsedOrEmpty(yaml));
  if (validate_only) return out;
  // History first: a crash after it leaves a version that was never
  // applied, harmless; the reverse would lose the rollback target.
  if (absl::Status s = WriteFileAtomically(VersionPath(out.version), yaml); !s.ok()) return s;
  if (absl::Status s = WriteFileAtomically(config_path_, yaml); !s.ok()) return s;
  holder_.Install(*next, absl::StrCat("admin ", std::string(action), " by ", hive::log::Sanitize(actor, 64)));
  out.applied = true;
  av1::HistoryEntry entry;
  entry.set_actor(std::string(actor));
  entry.set_action(std::string(action));
  entry.set_version(out.version);
  entry.set_previous_version(out.previous_version);
  for (const std::string& c : out.changes) entry.add_changes(c);
  if (absl::Status s = Record(std::move(entry)); !s.ok()) {
    // Applied but not recorded: say so loudly, the change stands.
    hive::log::Error(absl::StrCat("audit: history not written: ", s.message()));
  }
  return out;
}

absl::StatusOr<ApplyOutcome> PolicyRepository::Rollback(std::string_view version,
                                                        std::string_view expected_version,
                                                        std::string_view actor) {
  absl::StatusOr<std::string> text = ReadWholeFile(VersionPath(version));
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no version '", std::string(version), "' in the history"));
  return Apply(*text, expected_version, actor, "rollback", /*validate_only=*/false);
}

absl::Status PolicyRepository::Record(av1::HistoryEntry entry) {
  entry.set_seq(next_seq_++);
  entry.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Wall()).count());
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (auto s = google::protobuf::util::MessageToJsonString(entry, &json, options); !s.ok()) {
    return absl::InternalError("history entry not serialisable");
  }
  hive::log::Info(absl::StrCat("audit: seq=", entry.seq(), " actor=\"", hive::log::Sanitize(entry.actor(), 64),
                               "\" action=", entry.action(), " version=", entry.version(),
                               entry.previous_version().empty() ? "" : absl::StrCat(" previous=", entry.previous_version()),
                               entry.changes().empty() ? "" : absl::StrCat(" changes=\"", absl::StrJoin(entry.changes(), "; "), "\""),
                               entry.detail().empty() ? "" : absl::StrCat(" detail=\"", hive::log::Sanitize(entry.detail(), 200), "\"")));
  return AppendLine(HistoryLog(history_dir_), json);
}

absl::Status PolicyRepository::Audit(std::string_view actor, std::string_view action, std::string_view detail) {
  std::lock_guard lock(mu_);
  absl::StatusOr<PolicyText> current = CurrentLocked();
  av1::HistoryEntry entry;
  entry.set_actor(std::string(actor));
  entry.set_action(std::string(action));
  entry.set_detail(std::string(detail));
  if (current.ok()) entry.set_version(current->version);
  return Record(std::move(entry));
}

absl::StatusOr<std::vector<av1::HistoryEntry>> PolicyRepository::History(std::size_t limit) const {
  std::vector<av1::HistoryEntry> all;
  std::ifstream in(HistoryLog(history_dir_));
  std::string line;
  while (std::getline(in, line)) {
    av1::HistoryEntry entry;
    // A torn last line (crash mid-append) is skipped, not fatal.
    if (google::protobuf::util::JsonStringToMessage(line, &entry).ok()) all.push_back(std::move(entry));
  }
  std::vector<av1::HistoryEntry> out;
  for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

}  // namespace hive::policy::admin
