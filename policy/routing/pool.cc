#include "routing/pool.h"

namespace hive::policy::routing {

std::string TransportName(const Pool& pool, const PoolMember* member) {
  return member == nullptr ? "smtp-" + pool.name : "hive-" + member->name;
}

std::string PoolMark(const std::string& pool, const std::string& member) {
  return member.empty() ? pool : pool + "/" + member;
}

}  // namespace hive::policy::routing
