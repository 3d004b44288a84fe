#include "content/compliance.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "content/from_header.h"

namespace hive::policy::content {
namespace {

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The URIs of an RFC 2369 list header: each one in angle brackets.
struct UnsubscribeUris {
  bool https = false;
  bool mailto = false;
};

UnsubscribeUris ScanListUnsubscribe(std::string_view value) {
  UnsubscribeUris out;
  std::size_t pos = 0;
  while ((pos = value.find('<', pos)) != std::string_view::npos) {
    const std::size_t end = value.find('>', pos);
    if (end == std::string_view::npos) break;
    const absl::string_view uri = absl::StripAsciiWhitespace(View(value.substr(pos + 1, end - pos - 1)));
    // "https:" with something after it; plain http: does not count (RFC 8058 §3.1).
    if (uri.size() > 8 && absl::StartsWithIgnoreCase(uri, "https://")) out.https = true;
    if (uri.size() > 7 && absl::StartsWithIgnoreCase(uri, "mailto:")) out.mailto = true;
    pos = end + 1;
  }
  return out;
}

struct DkimSignature {
  std::string domain;                // d=, lower case
  std::set<std::string> signed_headers;  // h=, lower case
};

// The d= and h= tags of a DKIM-Signature (RFC 6376 §3.2 tag list); other
// tags are not needed to judge alignment and coverage.
DkimSignature ParseDkimSignature(std::string_view value) {
  DkimSignature sig;
  for (absl::string_view tag : absl::StrSplit(View(value), ';')) {
    const std::size_t eq = tag.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view name = absl::StripAsciiWhitespace(tag.substr(0, eq));
    const absl::string_view v = absl::StripAsciiWhitespace(tag.substr(eq + 1));
    if (name == "d") {
      sig.domain = absl::AsciiStrToLower(v);
    } else if (name == "h") {
      for (absl::string_view h : absl::StrSplit(v, ':')) {
        sig.signed_headers.insert(absl::AsciiStrToLower(absl::StripAsciiWhitespace(h)));
      }
    }
  }
  return sig;
}

// The bulk marker a class-less message carries, "" when none.
std::string BulkMarker(const std::vector<Header>& headers) {
  if (const std::string* p = FindHeader(headers, "Precedence")) {
    const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(*p));
    if (v == "bulk" || v == "list" || v == "junk") return absl::StrCat("Precedence: ", v);
  }
  if (FindHeader(headers, "List-Id") != nullptr) return "List-Id";
  return "";
}

}  // namespace

const std::vector<BuiltinSymbol>& ComplianceSymbols() {
  static const std::vector<BuiltinSymbol> kSymbols = {
      {"BULK_NO_LIST_UNSUBSCRIBE", 5.0, "bulk mail needs a List-Unsubscribe header with an https: or mailto: URI"},
      {"BULK_NO_HTTPS_UNSUBSCRIBE", 4.0, "bulk mail needs one-click unsubscribe: an https: URI in List-Unsubscribe"},
      {"BULK_NO_ONE_CLICK_POST", 4.0,
       "an https: List-Unsubscribe needs List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)"},
      {"BULK_FROM_NOT_ALIGNED", 3.0, "the From domain must align with the envelope sender or a DKIM d= domain"},
      {"BULK_NO_DKIM_SIGNATURE", 3.0, "bulk mail must be DKIM-signed before it reaches the filter"},
      {"BULK_DKIM_NOT_ALIGNED", 3.0, "no DKIM signature's d= aligns with the From domain"},
      {"BULK_DKIM_UNSUB_UNSIGNED", 2.0,
       "the DKIM signature must cover List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)"},
      {"BULK_NO_MESSAGE_ID", 2.0, "bulk mail needs a Message-ID"},
      {"BULK_NO_DATE", 2.0, "bulk mail needs a Date"},
      {"BULK_NOT_ONE_FROM", 3.0, "bulk mail needs exactly one From address"},
      {"BULK_BY_MARKER", 0.0, "no message class, but Precedence: bulk/list/junk or List-Id marks the mail as bulk"},
  };
  return kSymbols;
}

std::vector<Finding> CheckCompliance(const ParsedMessage& p, const Envelope& env, const ComplianceOptions& options) {
  std::vector<Finding> out;
  if (!options.enabled) return out;
  auto add = [&](const char* symbol, std::string detail) { out.push_back({symbol, std::move(detail)}); };
  if (env.message_class.empty()) {
    if (!options.bulk_markers) return out;
    std::string marker = BulkMarker(p.headers);
    if (marker.empty()) return out;
    add("BULK_BY_MARKER", std::move(marker));
  } else if (!options.classes.contains(env.message_class)) {
    return out;
  }

  // Unsubscribe (RFC 2369, RFC 8058).
  bool one_click = false;
  const std::string* list_unsubscribe = FindHeader(p.headers, "List-Unsubscribe");
  const UnsubscribeUris uris = list_unsubscribe ? ScanListUnsubscribe(*list_unsubscribe) : UnsubscribeUris{};
  if (!uris.https && !uris.mailto) {
    add("BULK_NO_LIST_UNSUBSCRIBE", list_unsubscribe ? "no <https:> or <mailto:> URI" : "no List-Unsubscribe");
  } else if (!uris.https && options.require_one_click) {
    add("BULK_NO_HTTPS_UNSUBSCRIBE", "mailto: only");
  }
  if (uris.https) {
    const std::string* post = FindHeader(p.headers, "List-Unsubscribe-Post");
    one_click = post != nullptr && absl::StripAsciiWhitespace(*post) == "List-Unsubscribe=One-Click";
    if (!one_click) add("BULK_NO_ONE_CLICK_POST", post ? *post : "no List-Unsubscribe-Post");
  }

  // RFC 5322 basics.
  const FromSummary from = SummariseFrom(p.headers);
  if (from.headers != 1 || from.addresses != 1) {
    add("BULK_NOT_ONE_FROM", absl::StrCat(from.headers, " From headers, ", from.addresses, " addresses"));
  }
  if (FindHeader(p.headers, "Message-ID") == nullptr) add("BULK_NO_MESSAGE_ID", "");
  if (FindHeader(p.headers, "Date") == nullptr) add("BULK_NO_DATE", "");

  // DKIM (present when the platform signs before the milter) and alignment.
  std::vector<DkimSignature> signatures;
  for (const Header& h : p.headers) {
    if (absl::EqualsIgnoreCase(h.name, "DKIM-Signature")) signatures.push_back(ParseDkimSignature(h.value));
  }
  std::vector<std::string> dkim_domains;
  for (const DkimSignature& s : signatures) dkim_domains.push_back(s.domain);
  if (signatures.empty() && options.require_dkim_signature) add("BULK_NO_DKIM_SIGNATURE", "");
  if (!from.domain.empty()) {
    if (!signatures.empty() && !AlignedWithAny(from.domain, dkim_domains)) {
      add("BULK_DKIM_NOT_ALIGNED", absl::StrCat("From ", from.domain, ", d=", absl::StrJoin(dkim_domains, ",")));
    }
    std::vector<std::string> candidates = EnvelopeDomains(env);
    const bool nothing_to_compare = candidates.empty() && dkim_domains.empty();
    candidates.insert(candidates.end(), dkim_domains.begin(), dkim_domains.end());
    if (!nothing_to_compare && !AlignedWithAny(from.domain, candidates)) {
      add("BULK_FROM_NOT_ALIGNED", absl::StrCat("From ", from.domain, ", envelope ", AddressDomain(env.sender)));
    }
  }
  if (one_click && !signatures.empty()) {
    bool covered = false;
    for (const DkimSignature& s : signatures) {
      covered = covered || (s.signed_headers.contains("list-unsubscribe") &&
                            s.signed_headers.contains("list-unsubscribe-post"));
    }
    if (!covered) add("BULK_DKIM_UNSUB_UNSIGNED", "h= lacks list-unsubscribe or list-unsubscribe-post");
  }
  return out;
}

}  // namespace hive::policy::content
