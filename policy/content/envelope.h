// What the MTA and the policy service know about a transaction beyond the
// message itself: envelope sender, login, recipients, client address and
// the message class. Filled by the server from the end-of-message request;
// read by the built-in checks, the compliance gate and the DNS lists.
//
// Plain data; thread-safe when not mutated.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hive::policy::content {

struct Envelope {
  std::string sender;     // envelope MAIL FROM, "" for the null sender
  std::string sasl_user;  // authenticated login, "" when none
  std::size_t recipients = 0;
  bool truncated = false;  // the milter cut the headers or body at its caps
  // Domains the authenticated account may use in From (besides the domain
  // of its login and of the envelope sender).
  std::vector<std::string> account_domains;
  // The message class (value of ratelimit.class_header, lower case), "" when
  // the message has none.
  std::string message_class;
  // The SMTP client's address in canonical text ("192.0.2.1", "2001:db8::1"),
  // "" when unknown.
  std::string client_ip;
};

}  // namespace hive::policy::content
