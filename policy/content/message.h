// The content of one message as the content engine sees it: plain values,
// filled by the server from the end-of-message request, or split from a raw
// RFC 5322 message (tests, corpus tools, the fuzzer).
// Plain data; thread-safe when not mutated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "content/transfer.h"

namespace hive::policy::content {

struct Header {
  std::string name;
  std::string value;
};

struct Message {
  std::vector<Header> headers;  // in the order received, values raw (maybe folded)
  std::string body;             // as received, CRLF line ends, maybe cut
};

// The value of the first header called `name` (case-insensitive), or null.
const std::string* FindHeader(const std::vector<Header>& headers, std::string_view name);
inline const std::string* FindHeader(const Message& message, std::string_view name) {
  return FindHeader(message.headers, name);
}

struct HeaderBlock {
  std::size_t body_offset = 0;  // where the body starts in the text
  bool too_many = false;        // more than max_headers fields: the rest skipped
  bool malformed = false;       // a line that is neither a field nor a fold
};

// Parses the header block at the start of `text` (fields, folds kept in the
// value, up to the first empty line) into `out`, at most `max_headers`
// fields. Lines without a colon are skipped and reported as malformed; a
// block without an empty line ends at the end of the text.
HeaderBlock ParseHeaderBlock(std::string_view text, std::size_t max_headers, std::vector<Header>& out);

// A raw message split into headers and body; a leading mbox "From " line is
// dropped.
Message SplitRawMessage(std::string_view raw, std::size_t max_headers = 1000);

// Keeps only the headers an outbound scorer may learn from (From, To, Cc,
// Subject, Date, Message-ID, MIME-Version, Content-*), dropping the ones
// that give a research corpus's label away (Received, X-UIDL, list
// headers...). For evaluation and training tools.
void NeutraliseHeaders(Message& message);

}  // namespace hive::policy::content
