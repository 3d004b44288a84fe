#include "admin/policy_repository.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/policy_objects.h"
#include "support/log.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::admin {
namespace {

namespace av1 = hive::admin::v1;

hive::config::v1::PolicyConfig ParsedOrEmpty(const std::string& yaml) {
  hive::config::v1::PolicyConfig config;
  // Only texts that loaded before reach here; an error leaves it empty.
  hive::config::YamlToProto(yaml, "history", config).IgnoreError();
  return config;
}

}  // namespace

void LogAudit(const av1::HistoryEntry& entry) {
  hive::log::Info(absl::StrCat("audit: seq=", entry.seq(), " actor=\"", hive::log::Sanitize(entry.actor(), 64),
                               "\" action=", entry.action(), " version=", entry.version(),
                               entry.previous_version().empty() ? "" : absl::StrCat(" previous=", entry.previous_version()),
                               entry.changes().empty() ? "" : absl::StrCat(" changes=\"", absl::StrJoin(entry.changes(), "; "), "\""),
                               entry.detail().empty() ? "" : absl::StrCat(" detail=\"", hive::log::Sanitize(entry.detail(), 200), "\"")));
}

absl::StatusOr<ApplyOutcome> PolicyRepository::Apply(const std::string& yaml, std::string_view expected_version,
                                                     std::string_view actor, std::string_view action,
                                                     bool validate_only) {
  std::lock_guard lock(mu_);
  return ApplyLocked(yaml, expected_version, actor, action, validate_only, /*audit_stale=*/true);
}

absl::StatusOr<ApplyOutcome> PolicyRepository::Edit(const Editor& edit, std::string_view actor,
                                                    std::string_view action, bool validate_only) {
  std::lock_guard lock(mu_);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<PolicyText> current = storage_.Head();
    if (!current.ok()) return current.status();
    absl::StatusOr<std::string> next = edit(*current);
    if (!next.ok()) {
      const bool stale = absl::IsFailedPrecondition(next.status());
      if (!validate_only && (stale || absl::IsNotFound(next.status()))) {
        RefusedLocked(actor, action, stale ? "stale" : "not-found", std::string(next.status().message()));
      }
      return next.status();
    }
    if (DiffPolicies(ParsedOrEmpty(current->yaml), ParsedOrEmpty(*next)).empty()) {
      // The object as it already is: writing would only re-render the file
      // (a new version, the operator's comments gone) for no change.
      return ApplyOutcome{.applied = false, .version = current->version, .previous_version = current->version};
    }
    const bool last = attempt == kEditAttempts;
    absl::StatusOr<ApplyOutcome> out = ApplyLocked(*next, current->version, actor, action, validate_only, last);
    // Stale here: another replica wrote after our read; edit its text.
    if (out.ok() || !absl::IsFailedPrecondition(out.status()) || last) return out;
  }
}

absl::StatusOr<ApplyOutcome> PolicyRepository::ApplyLocked(const std::string& yaml,
                                                           std::string_view expected_version,
                                                           std::string_view actor, std::string_view action,
                                                           bool validate_only, bool audit_stale) {
  absl::StatusOr<PolicyText> current = storage_.Head();
  if (!current.ok()) return current.status();
  if (!validate_only && expected_version != current->version) {
    if (audit_stale) {
      RefusedLocked(actor, action, "stale",
                    absl::StrCat("expected=", hive::log::Sanitize(expected_version, 32), " current=", current->version));
    }
    return StaleVersion(expected_version, current->version);
  }
  // Exactly the checks of a load: file:line:col errors name the fields.
  absl::StatusOr<config::SnapshotPtr> next = config::LoadSnapshotFromText(yaml, source_name_);
  if (next.ok() && write_check_) {
    if (absl::Status s = write_check_(**next); !s.ok()) {
      next = absl::InvalidArgumentError(absl::StrCat(source_name_, ": ", s.message()));
    }
  }
  if (!next.ok()) {
    if (!validate_only) RefusedLocked(actor, action, "invalid", absl::StrCat("current=", current->version));
    return absl::InvalidArgumentError(next.status().message());
  }
  ApplyOutcome out;
  out.version = (*next)->version;
  out.previous_version = current->version;
  out.changes = DiffPolicies(ParsedOrEmpty(current->yaml), ParsedOrEmpty(yaml));
  // validate_only, or the very text that runs: nothing to write.
  if (validate_only || out.version == current->version) return out;
  av1::HistoryEntry entry;
  entry.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Wall()).count());
  entry.set_actor(std::string(actor));
  entry.set_action(std::string(action));
  entry.set_version(out.version);
  entry.set_previous_version(out.previous_version);
  for (const std::string& c : out.changes) entry.add_changes(c);
  absl::StatusOr<std::uint64_t> seq = storage_.Publish(PolicyText{out.version, yaml}, current->version, entry);
  if (!seq.ok()) {
    if (absl::IsFailedPrecondition(seq.status()) && audit_stale) {
      RefusedLocked(actor, action, "stale", std::string(seq.status().message()));
    }
    return seq.status();
  }
  holder_.Install(*next, absl::StrCat("admin ", std::string(action), " by ", hive::log::Sanitize(actor, 64)));
  out.applied = true;
  entry.set_seq(*seq);
  LogAudit(entry);
  return out;
}

absl::StatusOr<ApplyOutcome> PolicyRepository::Rollback(std::string_view version,
                                                        std::string_view expected_version,
                                                        std::string_view actor) {
  absl::StatusOr<std::string> text = storage_.Text(version);
  if (!text.ok()) {
    Refused(actor, "rollback", "not-found", absl::StrCat("version=", hive::log::Sanitize(version, 32)));
    return absl::NotFoundError(absl::StrCat("no version '", std::string(version), "' in the history"));
  }
  return Apply(*text, expected_version, actor, "rollback", /*validate_only=*/false);
}

absl::StatusOr<av1::HistoryEntry> PolicyRepository::AppendLocked(std::string_view actor, std::string_view action,
                                                                 std::string_view detail) {
  av1::HistoryEntry entry;
  entry.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Wall()).count());
  entry.set_actor(std::string(actor));
  entry.set_action(std::string(action));
  entry.set_detail(std::string(detail));
  entry.set_version(holder_.Get()->version);
  absl::StatusOr<std::uint64_t> seq = storage_.Append(entry);
  if (!seq.ok()) return seq.status();
  entry.set_seq(*seq);
  return entry;
}

absl::Status PolicyRepository::Audit(std::string_view actor, std::string_view action, std::string_view detail) {
  std::lock_guard lock(mu_);
  absl::StatusOr<av1::HistoryEntry> entry = AppendLocked(actor, action, detail);
  if (!entry.ok()) return entry.status();
  LogAudit(*entry);
  return absl::OkStatus();
}

void PolicyRepository::Refused(std::string_view actor, std::string_view action, std::string_view why,
                               std::string_view detail) {
  std::lock_guard lock(mu_);
  RefusedLocked(actor, action, why, detail);
}

void PolicyRepository::RefusedLocked(std::string_view actor, std::string_view action, std::string_view why,
                                     std::string_view detail) {
  hive::log::Warning(absl::StrCat("audit: actor=\"", hive::log::Sanitize(actor, 64), "\" action=", std::string(action),
                                  " refused=", std::string(why), " ", std::string(detail)));
  // Action "refused" as the access control's refusals (main.cc).
  absl::StatusOr<av1::HistoryEntry> entry =
      AppendLocked(actor, "refused", absl::StrCat("action=", std::string(action), " reason=", std::string(why), " ",
                                                  std::string(detail)));
  if (!entry.ok()) hive::log::Warning(absl::StrCat("audit: cannot record the refusal: ", entry.status().message()));
}

}  // namespace hive::policy::admin
