#include "content/message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace hive::policy::content {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

const std::string* FindHeader(const Message& message, std::string_view name) {
  for (const Header& h : message.headers) {
    if (absl::EqualsIgnoreCase(absl::string_view(h.name.data(), h.name.size()),
                               absl::string_view(name.data(), name.size()))) {
      return &h.value;
    }
  }
  return nullptr;
}

std::string DecodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {  // soft line break
      i += 2;
    } else if (i + 1 < in.size() && in[i + 1] == '\n') {
      i += 1;
    } else if (i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += '=';  // malformed: keep as is (RFC 2045 6.7 note 1)
    }
  }
  return out;
}

std::string BodyText(const Message& message) {
  const std::string* type = FindHeader(message, "Content-Type");
  if (type != nullptr && absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(*type), "multipart/")) {
    return message.body;
  }
  const std::string* cte = FindHeader(message, "Content-Transfer-Encoding");
  if (cte == nullptr) return message.body;
  const std::string encoding = absl::AsciiStrToLower(absl::StripAsciiWhitespace(*cte));
  if (encoding == "quoted-printable") return DecodeQuotedPrintable(message.body);
  if (encoding == "base64") {
    std::string compact;
    compact.reserve(message.body.size());
    for (char c : message.body) {
      if (!absl::ascii_isspace(static_cast<unsigned char>(c))) compact += c;
    }
    std::string decoded;
    if (absl::Base64Unescape(compact, &decoded)) return decoded;
  }
  return message.body;
}

}  // namespace hive::policy::content
