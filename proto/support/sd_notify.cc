#include "support/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace hive::notify {

absl::Status Notify(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || env[0] == '\0') return absl::OkStatus();
  const std::string path(env);
  if (path[0] != '/' && path[0] != '@') {
    return absl::InvalidArgumentError(absl::StrCat("NOTIFY_SOCKET is neither a path nor @abstract: ", path));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("NOTIFY_SOCKET too long: ", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "notify socket");
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  const int err = errno;
  close(fd);
  if (sent < 0) return absl::ErrnoToStatus(err, absl::StrCat("notify ", path));
  if (static_cast<std::size_t>(sent) != state.size()) return absl::InternalError("notify: short datagram");
  return absl::OkStatus();
}

absl::Status NotifyReady(std::string_view status) {
  // STATUS is one line: never let a newline in it start another assignment.
  std::string line(status);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return Notify(absl::StrCat("READY=1\nSTATUS=", line, "\nMAINPID=", getpid(), "\n"));
}

absl::Status NotifyStopping() { return Notify("STOPPING=1\n"); }

}  // namespace hive::notify
