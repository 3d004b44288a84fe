#include "content/parser.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "content/charset.h"
#include "content/header_decode.h"
#include "content/mime_params.h"
#include "content/transfer.h"

namespace hive::policy::content {
namespace {

using Clock = std::chrono::steady_clock;

bool IsBase64Char(char c) {
  return absl::ascii_isalnum(c) || c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n';
}

class Parser {
 public:
  Parser(const Limits& limits, ParsedMessage& out)
      : limits_(limits), out_(out), deadline_(Clock::now() + limits.max_decode_time) {}

  void Entity(const std::vector<Header>& headers, std::string_view body, int depth) {
    if (stopped_) return;
    if (out_.parts >= limits_.max_parts) {
      out_.limits.parts = true;
      stopped_ = true;
      return;
    }
    if (Clock::now() >= deadline_) {
      out_.limits.time = true;
      stopped_ = true;
      return;
    }
    ++out_.parts;
    const std::string* ct_raw = FindHeader(headers, "Content-Type");
    const FieldValue ct = ct_raw != nullptr ? ParseFieldValue(*ct_raw, limits_.fallback_charset) : FieldValue{};
    out_.anomalies.bad_params = out_.anomalies.bad_params || ct.malformed;
    std::string type = ct.value.find('/') == std::string::npos ? "text/plain" : ct.value;

    if (absl::StartsWith(type, "multipart/")) {
      const std::string& boundary = ct.Param("boundary");
      if (!boundary.empty() && Multipart(body, boundary, depth)) return;
      // No usable boundary: read the body as text (what a mail client shows).
      out_.anomalies.missing_boundary = true;
      type = "text/plain";
    }
    if (type == "message/rfc822" || type == "message/global") {
      if (depth + 1 > limits_.max_depth) {
        out_.limits.depth = true;
        return;
      }
      std::vector<Header> inner;
      const HeaderBlock block = ParseHeaderBlock(body, limits_.max_headers, inner);
      Flags(block);
      Entity(inner, body.substr(block.body_offset), depth + 1);
      return;
    }
    Leaf(headers, ct, type, body);
  }

 private:
  void Flags(const HeaderBlock& block) {
    out_.limits.headers = out_.limits.headers || block.too_many;
    out_.anomalies.bad_header_line = out_.anomalies.bad_header_line || block.malformed;
  }

  // Splits at "--boundary" lines; false when there is not a single one.
  bool Multipart(std::string_view body, const std::string& boundary, int depth) {
    const std::string delimiter = "--" + boundary;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // part start, end
    std::size_t part_start = std::string_view::npos;
    bool closed = false;
    for (std::size_t pos = 0; pos < body.size();) {
      std::size_t eol = body.find('\n', pos);
      const std::size_t next = eol == std::string_view::npos ? body.size() : eol + 1;
      if (body.compare(pos, delimiter.size(), delimiter) == 0) {
        std::string_view tail = body.substr(pos + delimiter.size(), next - pos - delimiter.size());
        const bool close = tail.substr(0, 2) == "--";
        if (close) tail.remove_prefix(2);
        bool blank = true;
        for (char c : tail) blank = blank && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
        if (blank) {
          if (part_start != std::string_view::npos) {
            // The CRLF before the delimiter belongs to it (RFC 2046 5.1.1).
            std::size_t end = pos;
            if (end > part_start && body[end - 1] == '\n') --end;
            if (end > part_start && body[end - 1] == '\r') --end;
            ranges.emplace_back(part_start, end);
          }
          if (close) {
            closed = true;
            break;
          }
          part_start = next;
        }
      }
      pos = next;
    }
    if (!closed && part_start != std::string_view::npos) ranges.emplace_back(part_start, body.size());
    if (ranges.empty()) return false;
    if (depth + 1 > limits_.max_depth) {
      out_.limits.depth = true;
      return true;
    }
    for (const auto& [start, end] : ranges) {
      if (stopped_) break;
      const std::string_view part = body.substr(start, end - start);
      std::vector<Header> headers;
      const HeaderBlock block = ParseHeaderBlock(part, limits_.max_headers, headers);
      Flags(block);
      Entity(headers, part.substr(block.body_offset), depth + 1);
    }
    return true;
  }

  // The part's bytes after transfer decoding, at most max_out: a view of the
  // body itself when there is nothing to decode (7bit, 8bit, binary: most
  // text), else of `storage`, so undecoded parts are not copied.
  std::string_view Decode(std::string_view body, const std::string& cte, std::size_t max_out, bool text,
                          std::string& storage) {
    if (cte == "base64") {
      // Declared base64 but plainly text (seen in real mail): use as is.
      std::size_t junk = 0;
      for (char c : body) junk += IsBase64Char(c) ? 0 : 1;
      if (text && junk * 20 > body.size()) {
        out_.anomalies.bad_base64 = true;
        return body.substr(0, max_out);
      }
      bool garbage = false;
      storage = DecodeBase64(body, &garbage, max_out);
      out_.anomalies.bad_base64 = out_.anomalies.bad_base64 || garbage;
      return storage;
    }
    if (cte == "quoted-printable") {
      bool garbage = false;
      storage = DecodeQuotedPrintable(body.substr(0, max_out * 3), &garbage);
      out_.anomalies.bad_qp = out_.anomalies.bad_qp || garbage;
      if (storage.size() > max_out) storage.resize(max_out);
      return storage;
    }
    return body.substr(0, max_out);
  }

  void Leaf(const std::vector<Header>& headers, const FieldValue& ct, const std::string& type,
            std::string_view body) {
    const std::string* cte_raw = FindHeader(headers, "Content-Transfer-Encoding");
    const std::string cte =
        cte_raw == nullptr ? "" : absl::AsciiStrToLower(absl::StripAsciiWhitespace(Unfold(*cte_raw)));
    const std::string* cd_raw = FindHeader(headers, "Content-Disposition");
    const FieldValue cd = cd_raw != nullptr ? ParseFieldValue(*cd_raw, limits_.fallback_charset) : FieldValue{};
    std::string filename = cd.Param("filename");
    if (filename.empty()) filename = ct.Param("name");
    const bool is_text = type == "text/plain" || type == "text/html";
    const bool attachment = cd.value == "attachment" || !is_text || (!filename.empty() && type != "text/html");
    if (absl::StartsWith(type, "image/")) ++out_.image_parts;

    if (attachment) {
      Attachment a;
      a.filename = filename;
      a.declared_type = type;
      if (cte == "base64") {
        std::size_t chars = 0;
        for (char c : body) {
          if (c == '=') break;
          chars += (absl::ascii_isalnum(c) || c == '+' || c == '/') ? 1 : 0;
        }
        a.size = chars * 3 / 4;
        a.sniffed_type = SniffType(DecodeBase64(body, nullptr, 64));
      } else {
        std::string storage;
        const std::string_view decoded = Decode(body, cte, SIZE_MAX, false, storage);
        a.size = decoded.size();
        a.sniffed_type = SniffType(decoded.substr(0, 64));
      }
      out_.attachments.push_back(std::move(a));
      return;
    }
    const std::size_t room = limits_.max_text_bytes > out_.text.size() ? limits_.max_text_bytes - out_.text.size() : 0;
    if (room == 0) {
      out_.limits.text = true;
      return;
    }
    // Charset conversion may grow the text (x3 at most for 2-byte CJK).
    std::string storage;
    std::string_view bytes = Decode(body, cte, room + 1, true, storage);
    if (bytes.size() > room) {
      out_.limits.text = true;
      bytes = bytes.substr(0, room);
    }
    Utf8Text utf8 = ToUtf8(bytes, ct.Param("charset"), limits_.fallback_charset);
    out_.anomalies.unknown_charset = out_.anomalies.unknown_charset || utf8.unknown_charset;
    out_.anomalies.charset_errors = out_.anomalies.charset_errors || utf8.had_errors;
    std::string visible;
    if (type == "text/html") {
      ++out_.html_parts;
      HtmlText html = HtmlToText(utf8.text);
      visible = std::move(html.text);
      for (HtmlLink& l : html.links) {
        if (out_.links.size() < kMaxLinks) out_.links.push_back(std::move(l));
      }
      for (std::string& src : html.image_sources) {
        Url u;
        if (ParseUrl(src, u)) hrefs_.push_back(std::move(u));
      }
    } else {
      ++out_.plain_parts;
      visible = std::move(utf8.text);
    }
    if (!out_.text.empty()) out_.text += '\n';
    if (visible.size() > room) {
      out_.limits.text = true;
      visible.resize(room);
      visible = SanitizeUtf8(visible);  // the cut may split a character
    }
    if (out_.text.empty()) {
      out_.text = std::move(visible);  // the first text part: no copy
    } else {
      out_.text += visible;
    }
  }

 public:
  std::vector<Url> hrefs_;  // image sources, collected for the URL list

 private:
  const Limits& limits_;
  ParsedMessage& out_;
  const Clock::time_point deadline_;
  bool stopped_ = false;
};

}  // namespace

std::string SniffType(std::string_view h) {
  auto starts = [&](std::string_view magic) { return h.substr(0, magic.size()) == magic; };
  if (starts("MZ")) return "application/x-msdownload";
  if (starts("\x7F" "ELF")) return "application/x-elf";
  if (starts("PK\x03\x04")) return "application/zip";
  if (starts("Rar!")) return "application/x-rar";
  if (starts("7z\xBC\xAF\x27\x1C")) return "application/x-7z-compressed";
  if (starts("\x1F\x8B")) return "application/gzip";
  if (starts("%PDF")) return "application/pdf";
  if (starts("\xD0\xCF\x11\xE0")) return "application/x-ole-storage";
  if (starts("\x89PNG")) return "image/png";
  if (starts("GIF8")) return "image/gif";
  if (starts("\xFF\xD8\xFF")) return "image/jpeg";
  if (starts("#!")) return "text/x-script";
  if (starts("{\\rtf")) return "application/rtf";
  return "";
}

ParsedMessage Parse(const Message& message, const Limits& limits) {
  ParsedMessage out;
  const std::size_t header_count = std::min(message.headers.size(), limits.max_headers);
  out.limits.headers = message.headers.size() > limits.max_headers;
  out.headers.reserve(header_count);
  for (std::size_t i = 0; i < header_count; ++i) {
    const Header& h = message.headers[i];
    DecodedHeader d = DecodeHeaderValue(h.value, limits.fallback_charset);
    out.anomalies.bad_encoded_word = out.anomalies.bad_encoded_word || d.malformed;
    out.anomalies.unknown_charset = out.anomalies.unknown_charset || d.unknown_charset;
    out.headers.push_back({h.name, std::move(d.text)});
  }
  if (const std::string* s = FindHeader(out.headers, "Subject"); s != nullptr) out.subject = *s;

  std::string_view body = message.body;
  if (body.size() > limits.max_message_bytes) {
    out.limits.size = true;
    body = body.substr(0, limits.max_message_bytes);
  }
  // Longest line: one memchr pass.
  for (std::size_t pos = 0; pos < body.size();) {
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    if (eol - pos > limits.max_line_bytes) {
      out.limits.line = true;
      break;
    }
    pos = eol + 1;
  }
  Parser parser(limits, out);
  // The top-level fields as given (only the MIME ones matter to the parser).
  // Copied only when capped: the usual message is parsed from its own list.
  std::vector<Header> capped;
  if (header_count < message.headers.size()) {
    capped.assign(message.headers.begin(), message.headers.begin() + static_cast<std::ptrdiff_t>(header_count));
  }
  parser.Entity(header_count < message.headers.size() ? capped : message.headers, body, 0);

  // URLs: link targets first (what a click opens), then image sources, then
  // the visible text.
  std::vector<Url> urls;
  for (const HtmlLink& l : out.links) {
    Url u;
    if (ParseUrl(Deobfuscate(l.href), u)) urls.push_back(std::move(u));
  }
  for (Url& u : parser.hrefs_) urls.push_back(std::move(u));
  for (Url& u : ExtractUrls(out.text, limits.max_urls)) urls.push_back(std::move(u));
  // First occurrence kept. The set views the strings of `urls`, which stay
  // put until the copies below are moved out after it.
  std::unordered_set<std::string_view> seen;
  std::vector<Url*> kept;
  for (Url& u : urls) {
    if (kept.size() >= limits.max_urls) break;
    if (seen.insert(u.url).second) kept.push_back(&u);
  }
  out.urls.reserve(kept.size());
  for (Url* u : kept) out.urls.push_back(std::move(*u));
  return out;
}

}  // namespace hive::policy::content
