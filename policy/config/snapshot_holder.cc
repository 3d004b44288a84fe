#include "config/snapshot_holder.h"

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "support/log.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::config {

bool AccessEquals(const hive::config::v1::AdminServer& a, const hive::config::v1::AdminServer& b) {
  hive::config::v1::AdminServer x = a;
  hive::config::v1::AdminServer y = b;
  for (hive::config::v1::AdminServer* s : {&x, &y}) {
    s->clear_listen();
    s->clear_tls();
  }
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

bool SameServerSettings(const ServerSettings& a, const ServerSettings& b) {
  using google::protobuf::util::MessageDifferencer;
  return a.listen == b.listen && a.max_request_bytes == b.max_request_bytes &&
         MessageDifferencer::Equals(a.tls, b.tls) && MessageDifferencer::Equals(a.admin, b.admin);
}

absl::Status SnapshotHolder::Reload() {
  absl::StatusOr<std::string> text = hive::config::ReadConfigFile(path_);
  absl::StatusOr<SnapshotPtr> next = text.ok() ? LoadSnapshotFromText(*text, path_) : text.status();
  if (next.ok() && start_check_) {
    if (absl::Status refused = start_check_(**next); !refused.ok()) {
      next = absl::InvalidArgumentError(absl::StrCat(path_, ": a restart would refuse it: ", refused.message()));
    }
  }
  if (!next.ok()) {
    {
      std::lock_guard lock(mu_);
      failure_ = ReloadFailure{text.ok() ? ConfigVersion(*text) : "", std::string(next.status().message())};
    }
    // One log line per problem: syslog entries must not span lines.
    hive::log::Error(absl::StrCat("reload of ", path_, " failed, keeping config version ", Get()->version));
    for (absl::string_view line : absl::StrSplit(next.status().message(), '\n')) {
      hive::log::Error(absl::StrCat("reload: ", line));
    }
    return next.status();
  }
  Install(*std::move(next), absl::StrCat("reloaded ", path_));
  return absl::OkStatus();
}

void SnapshotHolder::WarnOfStartOnlyChanges(const PolicySnapshot& old, const PolicySnapshot& next) const {
  // The listening socket and its message size are fixed at start.
  if (next.server.listen != old.server.listen || next.server.max_request_bytes != old.server.max_request_bytes) {
    hive::log::Warning("reload: server.listen / server.max_request_bytes changed; they apply after a restart");
  }
  // main.cc builds both listeners and their credentials once.
  using google::protobuf::util::MessageDifferencer;
  if (!MessageDifferencer::Equals(next.server.tls, old.server.tls) ||
      next.server.admin.listen() != old.server.admin.listen() ||
      !MessageDifferencer::Equals(next.server.admin.tls(), old.server.admin.tls())) {
    hive::log::Warning("reload: server.tls / server.admin.listen / server.admin.tls changed; they apply after a "
                       "restart: until then the running listeners stay");
  }
  if (!access_follows_reloads_ && !AccessEquals(next.server.admin, old.server.admin)) {
    hive::log::Warning("reload: server.admin principals / tokens / local_role changed; they apply after a restart "
                       "(the admin API was off at start)");
  }
  // main.cc opens the metrics endpoint and picks the log format once.
  if (next.observability.metrics_listen != old.observability.metrics_listen ||
      next.observability.log_json != old.observability.log_json) {
    hive::log::Warning("reload: observability.metrics_listen / observability.log_json changed; they apply after a "
                       "restart");
  }
  // main.cc builds the counter store once: moving live counters between
  // stores (or Redis servers) on reload would silently reset every limit.
  if (!(next.limit_store == old.limit_store)) {
    hive::log::Warning("reload: ratelimit.store changed; the running store is kept until a restart");
  }
}

void SnapshotHolder::Install(SnapshotPtr next, std::string_view why) {
  const SnapshotPtr old = Get();
  if (!start_settings_from_file_) WarnOfStartOnlyChanges(*old, *next);
  {
    std::lock_guard lock(mu_);
    current_ = next;
    failure_.reset();
  }
  hive::log::Info(absl::StrCat(std::string(why), ": config version ", old->version, " -> ", next->version));
  for (const auto& observer : observers_) observer(*next);
}

}  // namespace hive::policy::config
