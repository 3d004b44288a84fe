// Process-wide logging for both daemons: syslog (facility mail, like Postfix
// and OpenDKIM) and/or stderr when running in the foreground.
//
// Call Init once from main before starting threads; Write is thread-safe.
// Text that came from the network must pass through Sanitize first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hive::log {

enum class Severity { kDebug, kInfo, kWarning, kError };

struct Options {
  std::string ident;       // program name shown in syslog
  bool to_syslog = true;   // facility LOG_MAIL
  bool to_stderr = false;  // one line per entry, with a timestamp
  bool debug = false;      // keep kDebug lines
};

void Init(const Options& options);

void Write(Severity severity, std::string_view line);
inline void Debug(std::string_view line) { Write(Severity::kDebug, line); }
inline void Info(std::string_view line) { Write(Severity::kInfo, line); }
inline void Warning(std::string_view line) { Write(Severity::kWarning, line); }
inline void Error(std::string_view line) { Write(Severity::kError, line); }

// Untrusted text made safe for one log line: control and non-UTF-8 bytes
// become \xNN, quotes and backslashes are escaped, and the result is cut at
// max_bytes (marked with "...").
std::string Sanitize(std::string_view untrusted, std::size_t max_bytes = 256);

}  // namespace hive::log
