// Built-in checks for outbound mail: header sanity, From alignment,
// structure (HTML-only, image-only), links (shorteners, text/href
// mismatch, obfuscation), dangerous attachments, recipient count, and the
// parser's limit and anomaly facts. Each produces a named symbol; weights
// come from BuiltinSymbols() and may be overridden by configuration.
//
// Contract: RunChecks() reads only its arguments; it reports each symbol at
// most once, with a short detail for the operator.
//
// Thread-safety: pure functions over immutable data.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "content/parser.h"

namespace hive::policy::content {

// What the MTA knows about the transaction, beyond the message.
struct Envelope {
  std::string sender;     // envelope MAIL FROM, "" for the null sender
  std::string sasl_user;  // authenticated login, "" when none
  std::size_t recipients = 0;
  bool truncated = false;  // the milter cut the headers or body at its caps
  // Domains the authenticated account may use in From (besides the domain
  // of its login and of the envelope sender).
  std::vector<std::string> account_domains;
};

struct BuiltinSymbol {
  const char* name;
  double weight;  // default
  const char* meaning;
};

// Every built-in symbol with its default weight.
const std::vector<BuiltinSymbol>& BuiltinSymbols();

struct CheckOptions {
  std::set<std::string> url_shorteners;  // hosts; DefaultShorteners() when not configured
  std::size_t many_recipients = 50;      // at or above: MANY_RECIPIENTS
};

std::set<std::string> DefaultShorteners();

struct Finding {
  std::string symbol;
  std::string detail;
};

std::vector<Finding> RunChecks(const ParsedMessage& parsed, const Envelope& envelope, const CheckOptions& options);

// The domain of an address in a header or envelope ("Name <a@b.example>"
// -> "b.example"), lower case; "" when there is none.
std::string AddressDomain(std::string_view address);

}  // namespace hive::policy::content
