// Process-wide logging for both daemons: syslog (facility mail, like Postfix
// and OpenDKIM) and/or stderr when running in the foreground.
//
// Call Init once from main before starting threads; Write is thread-safe.
//
// Syslog is written only while its socket (/dev/log) accepts connections:
// with no syslog daemon, glibc's syslog() opens, fails to connect and
// closes a socket for every line (issue 9: ~6 % of hive-policyd's CPU under
// load). The socket is probed at Init and again at most every 10 s, so a
// daemon started later is found; meanwhile only stderr (when enabled) gets
// the lines. A daemon whose stderr is the journal keeps it alone (see
// StderrIsJournal): under systemd /dev/log exists.
// Text that came from the network must pass through Sanitize first.
//
// Lines are written as key=value pairs (values with spaces in double
// quotes), the one format every log line of both daemons uses. With
// Options::json each line is turned into one JSON object with the same
// keys (plus ts, level, ident; words that are not key=value become "msg"),
// so the JSON format never drifts from the text one.
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
  bool json = false;       // one JSON object per line (see above)
};

void Init(const Options& options);

// True when standard error is the systemd journal: JOURNAL_STREAM (set by
// systemd for a unit whose output goes to journald) names the device and
// inode of this process's stderr. Such a daemon logs to syslog only, else
// journald would record every line twice (syslog and stderr); in the
// foreground, or with stderr sent anywhere else, stderr gets the lines too.
bool StderrIsJournal();

// Whether a syslog daemon listens on the UNIX socket at `path` (datagram,
// or stream as glibc falls back to): one socket and connect, closed again.
bool SyslogReachable(const char* path);

void Write(Severity severity, std::string_view line);
inline void Debug(std::string_view line) { Write(Severity::kDebug, line); }
inline void Info(std::string_view line) { Write(Severity::kInfo, line); }
inline void Warning(std::string_view line) { Write(Severity::kWarning, line); }
inline void Error(std::string_view line) { Write(Severity::kError, line); }

// Untrusted text made safe for one log line: control and non-UTF-8 bytes
// become \xNN, quotes and backslashes are escaped, and the result is cut at
// max_bytes (marked with "...").
std::string Sanitize(std::string_view untrusted, std::size_t max_bytes = 256);

// A key=value line as one JSON object: {"ts":..,"level":..,"ident":..,
// <keys>}. Quoted values are unquoted; integers and decimals become
// numbers; the remaining words are joined into "msg". Public for tests.
std::string ToJson(std::string_view line, std::string_view ts, std::string_view level, std::string_view ident);

}  // namespace hive::log
