// The pool catalogue as plain values: a pool is a set of source addresses
// (members) that share a reputation, plus how hard its transports may push
// one destination. Built by config/, read by the router, the member chooser
// and the Postfix generator. Plain data: thread-safe when not mutated.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "routing/warmup_schedule.h"

namespace hive::policy::routing {

struct PoolMember {
  std::string name;     // unique across pools; the transport is hive-<name>
  std::string address;  // IPv4 or IPv6 source address, canonical text
  bool ipv6 = false;
  std::string helo;     // the address's PTR name
  std::uint32_t weight = 1;
  // Set while the address is new: its volume per provider group follows
  // the schedule (a copy: members are small and few).
  std::optional<WarmupSchedule> warmup;
};

struct PoolShaping {
  std::uint32_t destination_concurrency = 0;  // 0: the MTA's default
  std::chrono::seconds destination_rate_delay{0};
};

struct Pool {
  std::string name;
  std::vector<PoolMember> members;
  PoolShaping shaping;
  std::string overflow_pool;  // "" when none
};

// The MTA transport of a member ("hive-<member>"), or of a pool without
// members ("smtp-<pool>", the name deploy/postfix has always used).
std::string TransportName(const Pool& pool, const PoolMember* member);
// What the milter writes into the pool header: "<pool>" or "<pool>/<member>".
std::string PoolMark(const std::string& pool, const std::string& member);

}  // namespace hive::policy::routing
