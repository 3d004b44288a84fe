// Which mailbox provider a destination domain belongs to, for warm-up caps:
// gmail.com and googlemail.com share Google's view of a sending address, so
// they share one cap. A domain no group lists is its own group.
//
// Matching is by domain suffix on a label boundary (as Match's
// recipient_domain); the longest configured suffix wins. Immutable after
// construction: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace hive::policy::routing {

class ProviderGroups {
 public:
  // `domain` is normalised (lower-case, no trailing dot); an invalid domain
  // or one already in another group is an error.
  absl::Status Add(const std::string& group, std::string_view domain);
  // The group of a normalised recipient domain.
  std::string GroupOf(std::string_view domain) const;
  // The configured group names, each once, in the order first added (a
  // domain outside every group is its own group and is not listed).
  std::vector<std::string> Names() const;

 private:
  std::vector<std::pair<std::string, std::string>> suffixes_;  // suffix, group
};

}  // namespace hive::policy::routing
