#include "support/log.h"

#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <unistd.h>

namespace hive::log {
namespace {

struct State {
  std::mutex mu;
  Options options;
  bool initialised = false;
};

State& GetState() {
  static State state;
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

}  // namespace

void Init(const Options& options) {
  State& state = GetState();
  std::lock_guard lock(state.mu);
  state.options = options;
  state.initialised = true;
  // openlog keeps the pointer: the ident lives in the static state.
  if (options.to_syslog) openlog(state.options.ident.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void Write(Severity severity, std::string_view line) {
  State& state = GetState();
  std::lock_guard lock(state.mu);
  if (severity == Severity::kDebug && !state.options.debug) return;
  const bool to_stderr = state.options.to_stderr || !state.initialised;
  if (state.options.to_syslog && state.initialised) {
    syslog(SyslogPriority(severity), "%.*s", static_cast<int>(line.size()), line.data());
  }
  if (to_stderr) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::fprintf(stderr, "%s.%03dZ %s[%d] %s: %.*s\n", stamp, static_cast<int>(millis),
                 state.options.ident.c_str(), static_cast<int>(getpid()), SeverityName(severity),
                 static_cast<int>(line.size()), line.data());
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

}  // namespace hive::log
