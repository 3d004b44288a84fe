#include "content/mail_source.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "support/atomic_file.h"

namespace hive::policy::content {

namespace fs = std::filesystem;

namespace {

bool StartsWithFromLine(std::string_view text) { return text.substr(0, 5) == "From "; }

std::string_view SkipFromLine(std::string_view raw) {
  if (!StartsWithFromLine(raw)) return raw;
  const std::size_t eol = raw.find('\n');
  return eol == std::string_view::npos ? std::string_view() : raw.substr(eol + 1);
}

// mboxrd: a body line ">From ", ">>From "... was written with one '>' more.
std::string Unquote(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  std::size_t at = 0;
  while (at < message.size()) {
    std::size_t eol = message.find('\n', at);
    eol = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(at, eol - at);
    const std::size_t quotes = line.find_first_not_of('>');
    if (quotes != 0 && quotes != std::string_view::npos && line.substr(quotes, 5) == "From ") line.remove_prefix(1);
    out.append(line);
    at = eol;
  }
  return out;
}

// The regular files of `dir` in name order.
std::vector<fs::path> FilesIn(const fs::path& dir, std::error_code& ec) {
  std::vector<fs::path> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string NotAMessage(std::string_view raw) {
  if (raw.empty()) return "empty";
  const std::string_view text = SkipFromLine(raw);
  // A header field name, then ':' (obsolete syntax allows blanks before
  // it). RFC 5322 allows any printable ASCII in the name; mail uses
  // letters, digits and '-', and a JSON '{"id":' must not pass.
  std::size_t i = 0;
  while (i < text.size() && (absl::ascii_isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-' ||
                             text[i] == '_' || text[i] == '.')) {
    ++i;
  }
  const std::size_t name_end = i;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (name_end > 0 && i < text.size() && text[i] == ':') return "";
  return "does not start with a header field";
}

std::vector<std::string> SplitMbox(std::string_view mbox) {
  std::vector<std::string> out;
  if (!StartsWithFromLine(mbox)) {
    out.emplace_back(mbox);
    return out;
  }
  std::size_t start = 0;  // of the current message's "From " line
  for (;;) {
    std::size_t next = std::string_view::npos;
    for (std::size_t at = mbox.find("\nFrom ", start); at != std::string_view::npos;
         at = mbox.find("\nFrom ", at + 1)) {
      const bool after_empty_line = (at >= 1 && mbox[at - 1] == '\n') || (at >= 2 && mbox.substr(at - 2, 2) == "\n\r");
      if (after_empty_line) {
        next = at + 1;
        break;
      }
    }
    std::string_view message = SkipFromLine(mbox.substr(start, next == std::string_view::npos ? next : next - start));
    // The empty line before the next "From " belongs to the mbox.
    if (next != std::string_view::npos && message.ends_with("\n\n")) message.remove_suffix(1);
    if (next != std::string_view::npos && message.ends_with("\r\n\r\n")) message.remove_suffix(2);
    out.push_back(Unquote(message));
    if (next == std::string_view::npos) return out;
    start = next;
  }
}

absl::StatusOr<MailSourceReport> ForEachMessage(const std::string& path, const MessageVisitor& visit) {
  MailSourceReport report;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    const bool maildir = fs::is_directory(fs::path(path) / "cur", ec) || fs::is_directory(fs::path(path) / "new", ec);
    for (const fs::path& dir : maildir ? std::vector<fs::path>{fs::path(path) / "cur", fs::path(path) / "new"}
                                       : std::vector<fs::path>{fs::path(path)}) {
      if (maildir && !fs::is_directory(dir, ec)) continue;
      std::vector<fs::path> in = FilesIn(dir, ec);
      if (ec) return absl::NotFoundError(absl::StrCat(dir.string(), ": ", ec.message()));
      files.insert(files.end(), in.begin(), in.end());
    }
  } else {
    files.emplace_back(path);
  }
  for (const fs::path& file : files) {
    absl::StatusOr<std::string> raw = hive::support::ReadWholeFile(file.string());
    if (!raw.ok()) return raw.status();
    if (std::string why = NotAMessage(*raw); !why.empty()) {
      report.skipped.push_back({file.string(), std::move(why)});
      continue;
    }
    const std::vector<std::string> messages = SplitMbox(*raw);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const std::string name = messages.size() == 1 ? file.string() : absl::StrCat(file.string(), ":", i + 1);
      if (std::string why = NotAMessage(messages[i]); !why.empty()) {
        report.skipped.push_back({name, std::move(why)});
        continue;
      }
      if (absl::Status s = visit(name, messages[i]); !s.ok()) return s;
      ++report.messages;
    }
  }
  return report;
}

}  // namespace hive::policy::content
