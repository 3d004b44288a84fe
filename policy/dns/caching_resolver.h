// A small TTL cache in front of a Resolver: listed answers are kept for
// their TTL (clamped to [min_ttl, max_ttl]), "not listed" answers for
// negative_ttl; timeouts and errors are never cached (the next message asks
// again). At most max_entries names are kept: a full cache first drops
// expired entries, then the entries closest to expiry.
//
// Contract: as Resolver; names answered from the cache cost no query.
//
// Thread-safety: LookupA() is safe from many threads (one mutex around the
// map, never held while resolving).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dns/resolver.h"

namespace hive::policy::dns {

struct CacheOptions {
  std::size_t max_entries = 10000;
  std::chrono::seconds min_ttl{30};
  std::chrono::seconds max_ttl{3600};
  std::chrono::seconds negative_ttl{300};
};

class CachingResolver final : public Resolver {
 public:
  using Now = std::function<Clock::time_point()>;
  CachingResolver(std::shared_ptr<Resolver> inner, CacheOptions options, Now now = &Clock::now);

  std::vector<Answer> LookupA(const std::vector<std::string>& names, Clock::time_point deadline) override;

  std::size_t size() const;

 private:
  struct Entry {
    Answer answer;
    Clock::time_point expires;
  };
  void Store(const std::string& name, const Answer& answer, Clock::time_point now);

  const std::shared_ptr<Resolver> inner_;
  const CacheOptions options_;
  const Now now_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace hive::policy::dns
