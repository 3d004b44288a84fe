// The content of one message as the content engine sees it: plain values,
// filled by the server from the end-of-message request.
// Plain data; thread-safe when not mutated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hive::policy::content {

struct Header {
  std::string name;
  std::string value;
};

struct Message {
  std::vector<Header> headers;  // in the order received
  std::string body;             // as received, CRLF line ends, maybe cut
};

// The value of the first header called `name` (case-insensitive), or null.
const std::string* FindHeader(const Message& message, std::string_view name);

// The body text a rule should read. For a single-part message sent as
// quoted-printable or base64 that is the decoded text (without charset
// conversion); otherwise, or when decoding fails, the raw body. Multipart
// bodies stay raw until a MIME parser exists.
std::string BodyText(const Message& message);

std::string DecodeQuotedPrintable(std::string_view in);

}  // namespace hive::policy::content
