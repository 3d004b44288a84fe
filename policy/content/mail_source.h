// Labelled mail as operators keep it, read for hive-content-learn: a
// message file (an mbox "From " line allowed), an mbox file of many
// messages, a directory of message files, or a Maildir folder (the files of
// its cur/ and new/; ~/Maildir/.Junk is one).
//
// A file that does not start like a message (a header field, after an
// optional mbox "From " line) is skipped and reported, never handed on: a
// Maildir's dovecot-uidlist, a README or a JSON copy beside the .eml files
// would otherwise be learned as mail of that class.
//
// Usage: absl::StatusOr<MailSourceReport> r = ForEachMessage(path,
//            [](std::string_view name, std::string_view raw) { ...; return absl::OkStatus(); });
// `name` is the file, or "mbox-file:N" for the Nth message (from 1) of an
// mbox; `raw` is the message without its mbox "From " line, with mboxrd
// ">From " quoting undone. Files come in name order, one file in memory at
// a time. An error of `visit` stops the walk and is returned; so is a path
// that cannot be read.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::policy::content {

struct SkippedFile {
  std::string name;
  std::string why;
};

struct MailSourceReport {
  std::size_t messages = 0;
  std::vector<SkippedFile> skipped;
};

using MessageVisitor = std::function<absl::Status(std::string_view name, std::string_view raw)>;

absl::StatusOr<MailSourceReport> ForEachMessage(const std::string& path, const MessageVisitor& visit);

// The parts, for tests.
// Empty when `raw` starts like a message, else why not.
std::string NotAMessage(std::string_view raw);
// An mbox's messages (one for a file of one message, with or without its
// "From " line): a message starts at a "From " line at the start of the
// file or after an empty line.
std::vector<std::string> SplitMbox(std::string_view mbox);

}  // namespace hive::policy::content
