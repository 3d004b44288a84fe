// The Postfix side of IP-pool routing, generated from the pool catalogue so
// that the MTA and the policy can never disagree (hive-postfix-config
// writes these files):
//
//   hive_pools     milter_header_checks: the pool mark hive-milter adds
//                  ("<pool>/<member>", or "<pool>" for a pool without
//                  members) -> FILTER <transport>: (empty next hop: the
//                  recipient's domain, or default_filter_nexthop; relayhost
//                  and transport_maps do not apply to it);
//   master.cf      one smtp transport per member: its source address
//                  (smtp_bind_address or _6, with inet_protocols pinned to
//                  that family so the other family cannot leak, and
//                  inet_interfaces=all: the client looks the listener's
//                  inet_interfaces up in its own family, and an IPv4-only
//                  list is fatal to an IPv6 member, "config variable
//                  inet_interfaces: host not found"),
//                  smtp_helo_name, smtp_bind_address_enforce=yes (defer
//                  rather than leave from another address),
//                  syslog_name postfix/<transport> (hive-maillog-follower
//                  reads the member from it), smtp_header_checks = hive_strip;
//   main.cf        milter_header_checks, default_filter_nexthop (when
//                  given) and the per-transport shaping:
//                  <transport>_destination_concurrency_limit and
//                  <transport>_destination_rate_delay;
//   hive_strip     the internal headers, IGNOREd at delivery.
//
// Pure function of the Router: thread-safe.
#pragma once

#include <string>

#include "routing/router.h"

namespace hive::policy::routing {

struct PostfixConfigOptions {
  std::string pool_header = "X-Hive-Pool";       // hive-milter's pool_header
  std::string unchecked_header = "X-Hive-Policy";  // hive-milter's unchecked_header
  // Where hive_pools and hive_strip live (the maps' paths in main.cf and
  // master.cf).
  std::string config_directory = "/etc/postfix";
  // default_filter_nexthop for pool-routed mail ("" = not written: each
  // recipient's domain); e.g. "[smtp.example.net]:587" behind a smarthost.
  std::string default_nexthop;
};

struct PostfixConfig {
  std::string hive_pools;
  std::string hive_strip;
  std::string master_cf;  // to append to master.cf
  std::string main_cf;    // to append to main.cf
};

PostfixConfig GeneratePostfixConfig(const Router& router, const PostfixConfigOptions& options);

}  // namespace hive::policy::routing
