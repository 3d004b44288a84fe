#include "content/checks.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "content/from_header.h"
#include "content/url.h"

namespace hive::policy::content {
namespace {

const RE2& MessageIdRe() {
  static const RE2 re(R"(^\s*<[^<>@\s]+@[^<>@\s]+>\s*$)");
  return re;
}
// RFC 5322 3.3, leniently: optional day name, day, month name, 2- or 4-digit
// year, hh:mm[:ss], a numeric or named zone.
const RE2& DateRe() {
  static const RE2 re(
      R"((?i)^\s*(?:(?:mon|tue|wed|thu|fri|sat|sun)\s*,\s*)?\d{1,2}\s+)"
      R"((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?)"
      R"(\s*(?:[+-]\d{4}|ut|gmt|[ecmp][sd]t|z)?(?:\s*\(.*\))?\s*$)");
  return re;
}

bool IsExecutableName(std::string_view name) {
  static constexpr std::string_view kExtensions[] = {
      ".exe", ".scr", ".com", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js",  ".jse", ".wsf", ".wsh", ".hta",
      ".msi", ".jar", ".ps1", ".lnk", ".cpl", ".reg", ".dll", ".sh",  ".apk", ".msc", ".scf", ".iso", ".img"};
  std::string lower = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  while (!lower.empty() && (lower.back() == ' ' || lower.back() == '.')) lower.pop_back();  // "a.exe. "
  for (std::string_view ext : kExtensions) {
    if (absl::EndsWith(lower, absl::string_view(ext.data(), ext.size()))) return true;
  }
  return false;
}

// A link text that itself names a host ("www.bank.com", "https://bank.com").
bool TextHost(const std::string& text, std::string& host) {
  if (text.size() > 200 || text.find(' ') != std::string::npos) return false;
  std::vector<Url> urls = ExtractUrls(text, 1);
  if (urls.empty()) return false;
  host = urls[0].host;
  return true;
}

}  // namespace

const std::vector<BuiltinSymbol>& BuiltinSymbols() {
  static const std::vector<BuiltinSymbol> kSymbols = {
      {"MISSING_MESSAGE_ID", 1.0, "no Message-ID header"},
      {"INVALID_MESSAGE_ID", 1.0, "Message-ID is not <left@right>"},
      {"MISSING_DATE", 1.0, "no Date header"},
      {"INVALID_DATE", 1.0, "Date is not an RFC 5322 date"},
      {"MISSING_FROM", 3.0, "no From header"},
      {"INVALID_FROM", 2.0, "From holds no address"},
      {"MULTIPLE_FROM", 2.0, "several From headers or addresses"},
      {"FROM_NOT_ALIGNED", 1.5, "From domain is not the account's nor the envelope sender's"},
      {"HTML_ONLY", 0.5, "HTML without a text/plain alternative"},
      {"IMAGE_ONLY", 2.0, "images and (almost) no text"},
      {"URL_SHORTENER", 1.0, "a link through a URL shortener"},
      {"LINK_MISMATCH", 2.5, "link text names another domain than its target"},
      {"URL_OBFUSCATED", 2.0, "a URL written to dodge filters (hxxp, [.], full-width dots)"},
      {"EXECUTABLE_ATTACHMENT", 5.0, "an executable or script attachment"},
      {"MANY_RECIPIENTS", 1.0, "very many recipients"},
      {"MIME_LIMIT_SIZE", 1.0, "body larger than the parse limit"},
      {"MIME_LIMIT_PARTS", 2.0, "more MIME parts than the limit"},
      {"MIME_LIMIT_DEPTH", 3.0, "MIME nesting deeper than the limit"},
      {"MIME_LIMIT_HEADERS", 2.0, "more header fields than the limit"},
      {"MIME_LIMIT_LINE", 1.0, "a line longer than the limit"},
      {"MIME_LIMIT_TIME", 3.0, "decoding took longer than the limit"},
      {"MIME_LIMIT_TEXT", 0.5, "more decoded text than the limit"},
      {"MIME_TRUNCATED", 0.0, "the milter cut headers or body at its caps"},
      {"MIME_BAD_BASE64", 0.5, "garbage in base64, or plain text declared base64"},
      {"MIME_BAD_QP", 0.2, "malformed quoted-printable"},
      {"MIME_UNKNOWN_CHARSET", 0.5, "a charset not on the allow-list"},
      {"MIME_CHARSET_ERRORS", 0.2, "bytes invalid in their charset"},
      {"MIME_BAD_ENCODED_WORD", 0.5, "a malformed RFC 2047 encoded word"},
      {"MIME_MISSING_BOUNDARY", 1.0, "multipart without its boundary lines"},
      {"MIME_BAD_HEADER", 0.5, "a header line that is not a field"},
      {"MIME_BAD_PARAMS", 0.5, "unparseable Content-Type parameters"},
  };
  return kSymbols;
}

std::set<std::string> DefaultShorteners() {
  return {"bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly", "t.cn",
          "url.cn", "dwz.cn", "rebrand.ly", "cutt.ly", "shorturl.at", "s.id", "tiny.cc", "bit.do", "v.gd",
          "rb.gy", "t.ly", "lnkd.in", "tr.im", "x.co", "qr.net", "suo.im", "u.nu"};
}

std::vector<Finding> RunChecks(const ParsedMessage& p, const Envelope& env, const CheckOptions& options) {
  std::vector<Finding> out;
  auto add = [&](const char* symbol, std::string detail) { out.push_back({symbol, std::move(detail)}); };

  // Header sanity.
  if (const std::string* id = FindHeader(p.headers, "Message-ID"); id == nullptr) {
    add("MISSING_MESSAGE_ID", "");
  } else if (!RE2::FullMatch(*id, MessageIdRe())) {
    add("INVALID_MESSAGE_ID", *id);
  }
  if (const std::string* date = FindHeader(p.headers, "Date"); date == nullptr) {
    add("MISSING_DATE", "");
  } else if (!RE2::FullMatch(*date, DateRe())) {
    add("INVALID_DATE", *date);
  }
  const FromSummary from = SummariseFrom(p.headers);
  if (from.headers == 0) {
    add("MISSING_FROM", "");
  } else if (from.addresses == 0) {
    add("INVALID_FROM", *FindHeader(p.headers, "From"));
  } else if (from.headers > 1 || from.addresses > 1) {
    add("MULTIPLE_FROM", absl::StrCat(from.headers, " headers, ", from.addresses, " addresses"));
  }
  if (!from.domain.empty()) {
    const std::vector<std::string> allowed = EnvelopeDomains(env);
    // Nothing to compare with: no verdict.
    if (!allowed.empty() && !AlignedWithAny(from.domain, allowed)) {
      add("FROM_NOT_ALIGNED", absl::StrCat("From ", from.domain, ", envelope ", AddressDomain(env.sender)));
    }
  }

  // Structure.
  if (p.html_parts > 0 && p.plain_parts == 0) add("HTML_ONLY", "");
  if (p.image_parts > 0) {
    std::size_t visible = 0;
    for (char c : p.text) visible += absl::ascii_isspace(static_cast<unsigned char>(c)) ? 0 : 1;
    if (visible < 40) add("IMAGE_ONLY", absl::StrCat(p.image_parts, " images, ", visible, " bytes of text"));
  }

  // Links.
  // Built once: the default list is constant (26 strings per message otherwise).
  static const std::set<std::string> kDefaults = DefaultShorteners();
  const std::set<std::string>& shorteners = options.url_shorteners.empty() ? kDefaults : options.url_shorteners;
  for (const Url& u : p.urls) {
    if (shorteners.contains(u.host)) {
      add("URL_SHORTENER", u.host);
      break;
    }
  }
  for (const Url& u : p.urls) {
    if (u.obfuscated) {
      add("URL_OBFUSCATED", u.host);
      break;
    }
  }
  for (const HtmlLink& l : p.links) {
    Url target;
    std::string shown;
    // The shown text first: most link text is no host, and then the href
    // need not be parsed.
    if (!TextHost(l.text, shown) || !ParseUrl(Deobfuscate(l.href), target)) continue;
    if (!DomainsAligned(target.host, shown)) {
      add("LINK_MISMATCH", absl::StrCat(shown, " -> ", target.host));
      break;
    }
  }

  // Attachments.
  for (const Attachment& a : p.attachments) {
    const bool sniffed = a.sniffed_type == "application/x-msdownload" || a.sniffed_type == "application/x-elf" ||
                         a.sniffed_type == "text/x-script";
    if (IsExecutableName(a.filename) || sniffed) {
      add("EXECUTABLE_ATTACHMENT", absl::StrCat(a.filename, " (", a.sniffed_type.empty() ? a.declared_type : a.sniffed_type, ")"));
      break;
    }
  }
  if (options.many_recipients > 0 && env.recipients >= options.many_recipients) {
    add("MANY_RECIPIENTS", absl::StrCat(env.recipients, " recipients"));
  }

  // Parser facts.
  const LimitHits& l = p.limits;
  if (l.size) add("MIME_LIMIT_SIZE", "");
  if (l.parts) add("MIME_LIMIT_PARTS", absl::StrCat(p.parts, " parts"));
  if (l.depth) add("MIME_LIMIT_DEPTH", "");
  if (l.headers) add("MIME_LIMIT_HEADERS", "");
  if (l.line) add("MIME_LIMIT_LINE", "");
  if (l.time) add("MIME_LIMIT_TIME", "");
  if (l.text) add("MIME_LIMIT_TEXT", "");
  if (env.truncated) add("MIME_TRUNCATED", "");
  const Anomalies& a = p.anomalies;
  if (a.bad_base64) add("MIME_BAD_BASE64", "");
  if (a.bad_qp) add("MIME_BAD_QP", "");
  if (a.unknown_charset) add("MIME_UNKNOWN_CHARSET", "");
  if (a.charset_errors) add("MIME_CHARSET_ERRORS", "");
  if (a.bad_encoded_word) add("MIME_BAD_ENCODED_WORD", "");
  if (a.missing_boundary) add("MIME_MISSING_BOUNDARY", "");
  if (a.bad_header_line) add("MIME_BAD_HEADER", "");
  if (a.bad_params) add("MIME_BAD_PARAMS", "");
  return out;
}

}  // namespace hive::policy::content
