// The MIME parser: one bounded pass over a message (RFC 5322 + MIME, RFC
// 2045-2049, 2047, 2183, 2231) producing what the rules and checks read:
// decoded headers, the visible text of every text part (HTML converted),
// links, URLs, attachment metadata, structure counts, and the facts of
// anything abnormal.
//
// Contract: never fails and never throws; every input, however broken, gives
// a ParsedMessage. Work and memory are bounded by Limits: a limit reached
// stops the affected work and is reported in `limits` (a fact the checks
// turn into a symbol), it is never an error. Recursion depth is bounded by
// max_depth (message/rfc822 and multipart nesting). Broken structure seen in
// real mail (multipart without boundary lines, base64 bodies that are plain
// text, undeclared 8-bit charsets) degrades to the best reading and an
// anomaly flag.
//
// Thread-safety: Parse() is a pure function; concurrent calls are safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "content/html.h"
#include "content/message.h"
#include "content/url.h"

namespace hive::policy::content {

struct Limits {
  std::size_t max_message_bytes = 10 * 1024 * 1024;  // body bytes parsed; the rest ignored
  int max_parts = 256;                               // MIME entities
  int max_depth = 10;                                // multipart / message nesting
  std::size_t max_headers = 500;                     // fields per entity
  std::size_t max_line_bytes = 20000;                // longer lines are a fact (RFC 5322: 998)
  std::chrono::nanoseconds max_decode_time = std::chrono::milliseconds(500);
  std::size_t max_text_bytes = 2 * 1024 * 1024;      // decoded text kept for the rules
  std::size_t max_urls = 256;
  std::string fallback_charset = "gb18030";          // for undeclared 8-bit text
};

// Which limits were reached.
struct LimitHits {
  bool size = false;
  bool parts = false;
  bool depth = false;
  bool headers = false;
  bool line = false;
  bool time = false;
  bool text = false;
  bool any() const { return size || parts || depth || headers || line || time || text; }
};

// What was wrong but could be read anyway.
struct Anomalies {
  bool bad_base64 = false;          // garbage in base64, or declared base64 but plain text
  bool bad_qp = false;
  bool unknown_charset = false;     // a label not on the allow-list
  bool charset_errors = false;      // undecodable bytes replaced
  bool bad_encoded_word = false;    // malformed RFC 2047 word
  bool missing_boundary = false;    // multipart without its boundary lines
  bool bad_header_line = false;     // a header line that is no field
  bool bad_params = false;          // unparseable Content-Type parameters
};

struct Attachment {
  std::string filename;       // UTF-8, from Content-Disposition or Content-Type name
  std::string declared_type;  // "application/pdf"
  std::string sniffed_type;   // from magic bytes, "" when not recognised
  std::size_t size = 0;       // decoded bytes
};

struct ParsedMessage {
  std::vector<Header> headers;  // top-level fields, values unfolded and decoded to UTF-8
  std::string subject;          // decoded
  std::string text;             // visible text of all text parts, UTF-8
  std::vector<HtmlLink> links;  // <a href> with their text
  std::vector<Url> urls;        // from hrefs, image sources and text
  std::vector<Attachment> attachments;
  int parts = 0;          // MIME entities seen
  int plain_parts = 0;    // text/plain (not attachments)
  int html_parts = 0;
  int image_parts = 0;
  LimitHits limits;
  Anomalies anomalies;
};

ParsedMessage Parse(const Message& message, const Limits& limits = {});

// Magic-byte type of the first bytes of a file, or "".
std::string SniffType(std::string_view head);

}  // namespace hive::policy::content
