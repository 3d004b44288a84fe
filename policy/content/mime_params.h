// Structured MIME header fields: Content-Type and Content-Disposition
// (RFC 2045 5.1, RFC 2183) with parameters, including RFC 2231 extended
// parameters (name*=charset'lang'%XX, continuations name*0, name*1*) and
// RFC 2047 encoded words inside quoted values (what Outlook and most
// Chinese mailers send for file names, though RFC 2047 forbids it).
//
// Contract: never fails. The type is lower-cased ("text/plain"), empty when
// absent or unparseable; parameter names are lower-cased, values are UTF-8.
// At most kMaxParams parameters and kMaxContinuations sections per
// parameter are read.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace hive::policy::content {

inline constexpr int kMaxParams = 64;
inline constexpr int kMaxContinuations = 64;

struct FieldValue {
  std::string value;                         // "text/plain", "attachment"
  std::map<std::string, std::string> params;  // "charset" -> "gb2312"
  bool malformed = false;

  // The parameter's value or "".
  const std::string& Param(const std::string& name) const;
};

FieldValue ParseFieldValue(std::string_view raw, std::string_view fallback = "gb18030");

}  // namespace hive::policy::content
