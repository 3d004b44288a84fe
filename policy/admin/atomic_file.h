// Crash-safe file replacement for the policy file and its history: the
// bytes go to a temporary file in the same directory, are fsync'ed, and the
// temporary is renamed over the target (then the directory is fsync'ed), so
// a reader (hive-policyd's SIGHUP reload, a crash, a concurrent hivectl)
// sees the old file or the new one, never a torn one.
//
// Thread-safety: functions are thread-safe; two writers of one path race
// (the last rename wins): callers serialise writes to a path.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::policy::admin {

absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);
// Appends one line (a '\n' is added) and fsyncs: the history log.
absl::Status AppendLine(const std::string& path, std::string_view line);
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
// mkdir -p of one level (the parent must exist); OK when it exists.
absl::Status EnsureDirectory(const std::string& path);

}  // namespace hive::policy::admin
