// The From header and its alignment: how many From fields and addresses a
// message has, the domain of its author, and whether that domain belongs to
// the same organisation as the envelope sender, the login or the account's
// domains (DMARC-style relaxed alignment on the registrable domain of the
// Public Suffix List, domain.h; an IDN domain and its punycode align). Shared by the built-in checks (FROM_NOT_ALIGNED,
// MULTIPLE_FROM) and the bulk-sender compliance gate, so both judge a From
// the same way.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "content/envelope.h"
#include "content/message.h"

namespace hive::policy::content {

struct FromSummary {
  int headers = 0;     // From fields
  int addresses = 0;   // addresses across them (counting stops at 100)
  std::string domain;  // of the first address, lower case; "" when none
};

FromSummary SummariseFrom(const std::vector<Header>& headers);

// The domain of an address in a header or envelope ("Name <a@b.example>"
// -> "b.example"), lower case; "" when there is none.
std::string AddressDomain(std::string_view address);

// Both non-empty and of the same organisational domain
// ("mail.shop.example" and "shop.example").
bool DomainsAligned(std::string_view a, std::string_view b);

// The domains a From may align with: the account's, the envelope sender's
// and the login's (lower case, empty ones left out).
std::vector<std::string> EnvelopeDomains(const Envelope& envelope);

// True when `domain` is aligned with one of `candidates`.
bool AlignedWithAny(std::string_view domain, const std::vector<std::string>& candidates);

}  // namespace hive::policy::content
