// The facts about one message a policy rule can look at, as plain values:
// engines (limits, routing) take these, never protobuf types.
//
// Build with MakeFacts() so that every field is normalised the same way
// (domains lower-case, IPv4-mapped IPv6 as IPv4). Plain data; thread-safe
// as long as nobody mutates a shared instance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "match/ip.h"

namespace hive::policy::match {

struct Recipient {
  std::string address;  // local part as given, domain lower-case
  std::string domain;   // lower-case, no trailing dot; "" when none
};

struct Facts {
  std::string sender;         // "" is the null sender
  std::string sender_domain;  // lower-case; "" for the null sender
  std::string sasl_user;      // "" when the client did not authenticate
  std::optional<IpAddress> client_ip;
  std::string client_ip_text;  // canonical text of client_ip, "" when unknown
  // Empty at MAIL FROM; one entry for a RCPT check; all accepted recipients
  // at end of message.
  std::vector<Recipient> recipients;

  // Known at end of message only (empty before).
  struct Header {
    std::string name;   // lower-case
    std::string value;  // trimmed, at most kMaxHeaderValue bytes
  };
  static constexpr std::size_t kMaxHeaderValue = 256;
  std::vector<Header> headers;
  std::string message_class;     // from the configured class header, lower-case
  std::string pool;              // the pool routing chose
  std::string content_hash;      // content/fingerprint.h ContentHash, "" when not computed
  std::uint64_t message_bytes = 0;  // body size as the MTA received it

  // The first header called `name` (any case), nullptr when absent.
  const std::string* HeaderValue(std::string_view name) const;
};

// "Alice@Example.COM." -> "Alice@example.com": the domain of a mailbox is
// case-insensitive, its local part is not (RFC 5321 2.4).
std::string NormaliseAddress(std::string_view address);
// The lower-case domain of a normalised address, "" when it has none.
std::string DomainOf(std::string_view address);
// Lower-case, without a trailing dot.
std::string NormaliseDomain(std::string_view domain);

Recipient MakeRecipient(std::string_view address);
// client_address may carry Sendmail's "IPv6:" prefix; it is stripped.
Facts MakeFacts(std::string_view sender, std::string_view sasl_user, std::string_view client_address);
// Appends a header as Facts keeps it (name lower-case, value trimmed and cut).
void AddHeader(Facts& facts, std::string_view name, std::string_view value);
// "user+tag@example.com" -> "user@example.com" (the part from the first
// '+' of the local part on is a sub-address, RFC 5233).
std::string StripSubaddress(std::string_view address);

}  // namespace hive::policy::match
