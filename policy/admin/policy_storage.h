// Where the versions of the policy and their history are kept: the storage
// half of the admin API's write path. PolicyRepository (policy_repository.h)
// holds the algorithm (validate, diff, check versions, install, audit) and
// speaks only this interface; FilePolicyStorage keeps one hive-policyd's
// policy in its config file, RedisPolicyStorage keeps the policy of every
// replica in Redis.
//
// A version is config::ConfigVersion of its text: stored texts are
// immutable, so a version names one text forever.
//
// Implementations are thread-safe; Publish is atomic (all of it or none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hive/admin/v1/admin.pb.h"

namespace hive::policy::admin {

inline constexpr char kCurrentVersionPayload[] = "type.hive/current_version";

struct PolicyText {
  std::string version;
  std::string yaml;
};

class PolicyStorage {
 public:
  virtual ~PolicyStorage() = default;
  // The current version and its text; NOT_FOUND when nothing is stored yet
  // (an empty Redis).
  virtual absl::StatusOr<PolicyText> Head() const = 0;
  // Only the current version: what a replica polls (cheap).
  virtual absl::StatusOr<std::string> HeadVersion() const = 0;
  // A stored version's text; NOT_FOUND when it was never stored.
  virtual absl::StatusOr<std::string> Text(std::string_view version) const = 0;
  // Atomically, if the current version is still `expected` ("" = nothing
  // stored): stores `text`, makes it current and appends `entry` to the
  // history. Otherwise FAILED_PRECONDITION (StaleVersion), nothing changed.
  // Returns the entry's sequence number.
  virtual absl::StatusOr<std::uint64_t> Publish(const PolicyText& text, std::string_view expected,
                                                hive::admin::v1::HistoryEntry entry) = 0;
  // Appends an entry that changes no policy (a counter reset); its seq.
  virtual absl::StatusOr<std::uint64_t> Append(hive::admin::v1::HistoryEntry entry) = 0;
  // Newest first, at most `limit`.
  virtual absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t limit) const = 0;
  // "file /etc/hive/policyd.yaml", "redis 127.0.0.1:6379": for status and logs.
  virtual std::string Describe() const = 0;
};

// FAILED_PRECONDITION naming both versions and whose version it is
// (`subject`: "the policy", "limit 'per-sender'"), with
// kCurrentVersionPayload. kAbsent as `current`: the object does not exist.
inline constexpr char kAbsent[] = "(absent)";
absl::Status StaleVersion(std::string_view expected, std::string_view current,
                          std::string_view subject = "the policy");

// One history entry as one line of JSON (proto field names), and back.
absl::StatusOr<std::string> EntryToJson(const hive::admin::v1::HistoryEntry& entry);
bool EntryFromJson(std::string_view json, hive::admin::v1::HistoryEntry& entry);

}  // namespace hive::policy::admin
