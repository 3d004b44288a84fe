#include "dns/caching_resolver.h"

#include <algorithm>

namespace hive::policy::dns {

CachingResolver::CachingResolver(std::shared_ptr<Resolver> inner, CacheOptions options, Now now)
    : inner_(std::move(inner)), options_(options), now_(std::move(now)) {}

std::size_t CachingResolver::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::vector<Answer> CachingResolver::LookupA(const std::vector<std::string>& names, Clock::time_point deadline) {
  std::vector<Answer> answers(names.size());
  std::vector<std::string> misses;
  std::vector<std::size_t> miss_index;
  const Clock::time_point now = now_();
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto it = entries_.find(names[i]);
      if (it != entries_.end() && it->second.expires > now) {
        answers[i] = it->second.answer;
      } else {
        misses.push_back(names[i]);
        miss_index.push_back(i);
      }
    }
  }
  if (misses.empty()) return answers;
  std::vector<Answer> fresh = inner_->LookupA(misses, deadline);
  const Clock::time_point after = now_();
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < misses.size() && k < fresh.size(); ++k) {
    Store(misses[k], fresh[k], after);
    answers[miss_index[k]] = std::move(fresh[k]);
  }
  return answers;
}

void CachingResolver::Store(const std::string& name, const Answer& answer, Clock::time_point now) {
  std::chrono::seconds ttl;
  switch (answer.status) {
    case Answer::Status::kFound: ttl = std::clamp(answer.ttl, options_.min_ttl, options_.max_ttl); break;
    case Answer::Status::kNotFound: ttl = options_.negative_ttl; break;
    default: return;  // a failure says nothing about the next message
  }
  if (options_.max_entries == 0 || ttl.count() <= 0) return;
  if (entries_.size() >= options_.max_entries && !entries_.contains(name)) {
    std::erase_if(entries_, [&](const auto& e) { return e.second.expires <= now; });
    while (entries_.size() >= options_.max_entries) {
      auto soonest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      });
      entries_.erase(soonest);
    }
  }
  entries_[name] = Entry{answer, now + ttl};
}

}  // namespace hive::policy::dns
