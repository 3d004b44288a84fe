// Whole-file reads and crash-safe file writes for what hive keeps on disk:
// the policy file and its history (admin API), the classifier's model and
// the fingerprint list (content engine).
//
// WriteFileAtomically writes to a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory: a reader
// (a SIGHUP reload, a restart after a crash, a concurrent hivectl) sees the
// old file or the new one, never a torn one.
//
// Thread-safety: functions; concurrent writers of one path each produce a
// whole file (the last rename wins): callers serialise writes to a path.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::support {

// NotFound when the file does not exist; other errors with errno text.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);
// Appends one line (a '\n' is added) and fsyncs: an append-only log.
absl::Status AppendLine(const std::string& path, std::string_view line);
// mkdir of one level (the parent must exist); OK when it exists.
absl::Status EnsureDirectory(const std::string& path);

}  // namespace hive::support
