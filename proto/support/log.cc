#include "support/log.h"

#include <syslog.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <paths.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace hive::log {
namespace {

// How long a syslog socket found missing (or present) is believed before
// it is probed again.
constexpr std::chrono::seconds kSyslogProbeEvery{10};

struct State {
  std::mutex mu;
  Options options;
  bool initialised = false;
  // options.to_syslog and /dev/log answered at the last probe.
  bool syslog_up = false;
  std::chrono::steady_clock::time_point next_probe{};
  // Our pid for the stderr prefix, read once (glibc does not cache getpid(),
  // so it was a system call per line: a decision line per RPC); 0 again in
  // a forked child, which reads its own.
  pid_t pid = 0;
};

State& GetState() {
  static State& state = *[] {
    static State s;
    pthread_atfork(nullptr, nullptr, [] { s.pid = 0; });
    return &s;
  }();
  return state;
}

int SyslogPriority(Severity severity) {
  switch (severity) {
    case Severity::kDebug: return LOG_DEBUG;
    case Severity::kInfo: return LOG_INFO;
    case Severity::kWarning: return LOG_WARNING;
    case Severity::kError: return LOG_ERR;
  }
  return LOG_INFO;
}

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kDebug: return "debug";
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "info";
}

// Length of a valid UTF-8 sequence starting at s[i], or 0.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// "2025-01-02T03:04:05.678Z"
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", stamp, static_cast<int>(millis));
  return out;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  out += '"';
}

bool IsKey(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// Keys whose values name things: always JSON strings, so that a value that
// happens to be all digits (a queue id "12345", the milter's "symbols=0"
// next to "symbols=1[RULE]") does not change the field's type from one
// line to the next and break a log pipeline's schema.
bool IsTextKey(std::string_view key) {
  for (std::string_view id : {"tx", "txn", "queue", "decision", "decision_id", "id", "symbols", "pool"}) {
    if (key == id) return true;
  }
  return false;
}

// "-12", "3.25": written as JSON numbers.
bool IsNumber(std::string_view v) {
  if (v.empty() || v.size() > 18) return false;
  std::size_t i = v[0] == '-' ? 1 : 0;
  bool digits = false;
  bool dot = false;
  for (; i < v.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(v[i]))) {
      digits = true;
    } else if (v[i] == '.' && !dot && digits) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits && v.back() != '.' && !(v.size() > 1 && v[0] == '0' && v[1] != '.') &&
         !(v.size() > 2 && v[0] == '-' && v[1] == '0' && v[2] != '.');
}

// The next word of a key=value line: up to a space outside double quotes.
// A quoted value is unquoted and its \" and \\ escapes undone; Sanitize's
// \xNN stay as they are.
std::string_view NextWord(std::string_view line, std::size_t& pos, std::string& value, bool& quoted) {
  while (pos < line.size() && line[pos] == ' ') ++pos;
  const std::size_t start = pos;
  value.clear();
  quoted = false;
  bool in_quotes = false;
  for (; pos < line.size(); ++pos) {
    const char c = line[pos];
    if (in_quotes && c == '\\' && pos + 1 < line.size() && (line[pos + 1] == '"' || line[pos + 1] == '\\')) {
      value += line[++pos];
    } else if (c == '"') {
      in_quotes = !in_quotes;
      quoted = true;
    } else if (c == ' ' && !in_quotes) {
      break;
    } else {
      value += c;
    }
  }
  return line.substr(start, pos - start);
}

// Under state.mu. Re-probes the syslog socket when due; (re)opens the log
// when it appears, closes it when it goes.
void RefreshSyslog(State& state) {
  const auto now = std::chrono::steady_clock::now();
  if (now < state.next_probe) return;
  state.next_probe = now + kSyslogProbeEvery;
  const bool up = SyslogReachable(_PATH_LOG);
  if (up == state.syslog_up) return;
  state.syslog_up = up;
  closelog();
  // openlog keeps the pointer: the ident lives in the static state.
  if (up) openlog(state.options.ident.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

}  // namespace

bool SyslogReachable(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path) >= static_cast<int>(sizeof addr.sun_path)) {
    return false;
  }
  for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
    const int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    close(fd);
    if (rc == 0) return true;
    if (err != EPROTOTYPE) return false;
  }
  return false;
}

std::string ToJson(std::string_view line, std::string_view ts, std::string_view level, std::string_view ident) {
  std::string out = "{\"ts\":";
  AppendJsonString(out, ts);
  out += ",\"level\":";
  AppendJsonString(out, level);
  out += ",\"ident\":";
  AppendJsonString(out, ident);
  std::string msg;
  std::string value;
  bool quoted = false;
  for (std::size_t pos = 0; pos < line.size();) {
    const std::string_view word = NextWord(line, pos, value, quoted);
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || !IsKey(word.substr(0, eq))) {
      if (!msg.empty()) msg += ' ';
      msg.append(word);
      continue;
    }
    // The value without "key=": `value` holds the whole word unquoted.
    const std::string v = value.substr(eq + 1);
    out += ',';
    AppendJsonString(out, word.substr(0, eq));
    out += ':';
    if (!quoted && IsNumber(v) && !IsTextKey(word.substr(0, eq))) {
      out += v;
    } else {
      AppendJsonString(out, v);
    }
  }
  if (!msg.empty()) {
    out += ",\"msg\":";
    AppendJsonString(out, msg);
  }
  out += '}';
  return out;
}

void Init(const Options& options) {
  State& state = GetState();
  std::lock_guard lock(state.mu);
  if (state.syslog_up) closelog();
  state.options = options;
  state.initialised = true;
  state.syslog_up = false;
  state.next_probe = {};
  if (options.to_syslog) RefreshSyslog(state);
}

void Write(Severity severity, std::string_view line) {
  State& state = GetState();
  std::lock_guard lock(state.mu);
  if (severity == Severity::kDebug && !state.options.debug) return;
  if (state.options.to_syslog && state.initialised) RefreshSyslog(state);
  const bool to_stderr = state.options.to_stderr || !state.initialised;
  const std::string stamp = Timestamp();
  std::string json;
  if (state.options.json) {
    json = ToJson(line, stamp, SeverityName(severity), state.options.ident);
    line = json;
  }
  if (state.syslog_up) {
    syslog(SyslogPriority(severity), "%.*s", static_cast<int>(line.size()), line.data());
  }
  if (to_stderr) {
    if (state.pid == 0) state.pid = getpid();
    if (state.options.json) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    } else {
      std::fprintf(stderr, "%s %s[%d] %s: %.*s\n", stamp.c_str(), state.options.ident.c_str(),
                   static_cast<int>(state.pid), SeverityName(severity), static_cast<int>(line.size()), line.data());
    }
    std::fflush(stderr);
  }
}

std::string Sanitize(std::string_view untrusted, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(untrusted.size() < max_bytes ? untrusted.size() : max_bytes);
  for (std::size_t i = 0; i < untrusted.size();) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(untrusted[i]);
    if (c >= 0x80) {
      if (std::size_t n = Utf8Length(untrusted, i); n > 0) {
        out.append(untrusted.substr(i, n));
        i += n;
        continue;
      }
    }
    if (c < 0x20 || c == 0x7F || c >= 0x80) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace hive::log
