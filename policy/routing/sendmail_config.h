// The Sendmail side of IP-pool routing, generated from the pool catalogue
// (hive-sendmail-config writes it): one .mc fragment, hive-pools.m4, to
// include in sendmail.mc before the MAILER() lines.
//
// How a member's address is used, with stock Sendmail 8.17 (docs/pools.md):
// hive-milter (sender_pool_tag) tags the envelope sender
// "local+<tag>.<member>@domain". Every delivery attempt, queue runs
// included, rewrites the envelope sender through ruleset 1 before it opens
// the connection; there the fragment's HivePoolSender ruleset
//   - recognises each member's tag and, through a `macro` map, sets the
//     envelope's {if_addr} to the member's address and {daemon_flags} to
//     "bh": makeconnection() (daemon.c) binds the outgoing socket to
//     {if_addr} when {daemon_flags} has b (D_BINDIF), and with h
//     (D_IFNHELO) says HELO with the name the bound address resolves to
//     (its PTR), when that name has a dot;
//   - strips the tag, so MAIL FROM is the original return path;
//   - for an untagged envelope sender clears both macros (the listener's
//     own, Sendmail's default behaviour, apply again).
// HivePoolRecipient (ruleset 2) strips the tag from recipients, for the
// bounces Sendmail itself sends to a tagged return path. Connection caching
// is turned off (confMCI_CACHE_SIZE 0): a cached connection would carry the
// next message from the previous message's address.
//
// Pure function of the Router: thread-safe.
#pragma once

#include <string>

#include "routing/router.h"

namespace hive::policy::routing {

struct SendmailConfigOptions {
  std::string tag = "hive";  // hive-milter's sender_pool_tag
};

// hive-pools.m4. Pools without members get no rule (their mail leaves from
// Sendmail's default address).
std::string GenerateSendmailConfig(const Router& router, const SendmailConfigOptions& options);

}  // namespace hive::policy::routing
