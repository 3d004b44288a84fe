#include "routing/provider_groups.h"

#include "absl/strings/str_cat.h"
#include "match/facts.h"
#include "match/matcher.h"

namespace hive::policy::routing {

absl::Status ProviderGroups::Add(const std::string& group, std::string_view domain) {
  const std::string d = match::NormaliseDomain(domain);
  if (d.empty() || d.find_first_of("@ *?/") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(domain), "' is not a domain"));
  }
  for (const auto& [suffix, owner] : suffixes_) {
    if (suffix == d) return absl::InvalidArgumentError(absl::StrCat("'", d, "' is already in group '", owner, "'"));
  }
  suffixes_.emplace_back(d, group);
  return absl::OkStatus();
}

std::string ProviderGroups::GroupOf(std::string_view domain) const {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& entry : suffixes_) {
    if (match::DomainHasSuffix(domain, entry.first) && (best == nullptr || entry.first.size() > best->first.size())) {
      best = &entry;
    }
  }
  return best != nullptr ? best->second : std::string(domain);
}

}  // namespace hive::policy::routing
