#include "routing/provider_groups.h"

#include <algorithm>

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

std::vector<std::string> ProviderGroups::Names() const {
  std::vector<std::string> out;
  for (const auto& [suffix, group] : suffixes_) {
    if (std::find(out.begin(), out.end(), group) == out.end()) out.push_back(group);
  }
  return out;
}

}  // namespace hive::policy::routing
