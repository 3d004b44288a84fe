#include "admin/policy_follower.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "admin/policy_repository.h"
#include "config/snapshot.h"
#include "config/yaml_text.h"
#include "support/log.h"

namespace hive::policy::admin {

PolicyFollower::PolicyFollower(PolicyStorage& storage, config::SnapshotHolder& holder, const ratelimit::Clock& clock,
                               FollowerOptions options)
    : storage_(storage), holder_(holder), clock_(clock), options_(std::move(options)) {
  state_.storage = storage_.Describe();
  state_.running_version = holder_.Get()->version;
}

PolicyFollower::~PolicyFollower() { Stop(); }

void PolicyFollower::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void PolicyFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PolicyFollower::Loop() {
  for (;;) {
    (void)PollOnce();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.interval, [this] { return stop_; })) return;
  }
}

FollowerState PolicyFollower::state() const {
  std::lock_guard lock(mu_);
  FollowerState s = state_;
  s.running_version = holder_.Get()->version;
  return s;
}

absl::Status PolicyFollower::PollOnce() {
  std::lock_guard poll(poll_mu_);
  absl::Status s = Poll();
  Report(s);
  if (options_.on_poll) options_.on_poll(s.ok());
  return s;
}

// Logs a problem when it first appears (or changes) and when it clears, not
// at every poll.
void PolicyFollower::Report(absl::Status s) {
  std::string error = s.ok() ? "" : std::string(s.message());
  std::lock_guard lock(mu_);
  if (error == state_.error) return;
  if (error.empty()) {
    hive::log::Info(absl::StrCat("policy store ", state_.storage, ": in step again, running version ",
                                 holder_.Get()->version));
  } else {
    // One log line per problem line: syslog entries must not span lines.
    for (absl::string_view line : absl::StrSplit(error, '\n')) {
      hive::log::Error(absl::StrCat("policy store ", state_.storage, ": ", line));
    }
  }
  state_.error = std::move(error);
}

PolicyText SeedText(const std::string& running_text) {
  std::string text = config::WithoutTopLevelSection(running_text, "server");
  // Never seed what would not load (the removal is textual).
  if (!config::LoadSnapshotFromText(text, "seed").ok()) text = running_text;
  return {config::ConfigVersion(text), std::move(text)};
}

absl::Status PolicyFollower::Poll() {
  const config::SnapshotPtr running = holder_.Get();
  absl::StatusOr<std::string> head = storage_.HeadVersion();
  if (absl::IsNotFound(head.status())) {
    // Empty storage: publish what runs. A replica that seeds at the same
    // time wins or loses atomically; the loser adopts the winner next poll.
    const PolicyText seed = SeedText(running->text);
    hive::admin::v1::HistoryEntry entry;
    entry.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Wall()).count());
    entry.set_actor("hive-policyd");
    entry.set_action("seed");
    entry.set_version(seed.version);
    entry.set_detail(absl::StrCat("from ", running->source));
    absl::StatusOr<std::uint64_t> seq = storage_.Publish(seed, "", entry);
    if (seq.ok()) {
      entry.set_seq(*seq);
      LogAudit(entry);
      head = seed.version;
    } else if (absl::IsFailedPrecondition(seq.status())) {
      head = storage_.HeadVersion();
    } else {
      head = seq.status();
    }
  }
  if (!head.ok()) return absl::UnavailableError(absl::StrCat("cannot read the policy: ", head.status().message()));
  {
    std::lock_guard lock(mu_);
    state_.store_version = *head;
    state_.last_poll = clock_.Wall();
  }
  if (*head == running->version) {
    refused_.clear();
    return absl::OkStatus();
  }
  if (*head == refused_) {
    // Reported when it was refused; the error stands until a newer one.
    return absl::FailedPreconditionError(refused_why_);
  }
  absl::Status loaded = Load(*head);
  if (options_.on_load) options_.on_load(loaded.ok());
  if (!loaded.ok()) {
    refused_ = *head;
    refused_why_ = absl::StrCat("version ", *head, " refused, keeping version ", running->version, ": ",
                                loaded.message());
    return absl::FailedPreconditionError(refused_why_);
  }
  refused_.clear();
  return absl::OkStatus();
}

absl::Status PolicyFollower::Load(const std::string& version) {
  absl::StatusOr<std::string> text = storage_.Text(version);
  if (!text.ok()) return text.status();
  if (config::ConfigVersion(*text) != version) {
    return absl::DataLossError(absl::StrCat("the stored text is version ", config::ConfigVersion(*text)));
  }
  absl::StatusOr<config::SnapshotPtr> next =
      config::LoadSnapshotFromText(*text, absl::StrCat(storage_.Describe(), " version ", version));
  if (!next.ok()) return next.status();
  holder_.Install(*std::move(next), absl::StrCat("policy store ", storage_.Describe()));
  return absl::OkStatus();
}

}  // namespace hive::policy::admin
