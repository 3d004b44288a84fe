// Whole-file reads and crash-safe whole-file writes for the content
// engine's persistent stores (token statistics, fingerprints).
//
// WriteFileAtomically writes to a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory: a reader (or
// a restart after a crash) sees the old file or the new one, never half of
// one.
//
// Thread-safety: functions; concurrent writers of one path each produce a
// whole file (last rename wins).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::policy::content {

// NotFound when the file does not exist; other errors with errno text.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

absl::Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace hive::policy::content
