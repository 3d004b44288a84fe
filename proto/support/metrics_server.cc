#include "support/metrics_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace hive::metrics {
namespace {

using SteadyClock = std::chrono::steady_clock;

int RemainingMs(SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits (bounded by the deadline) until `fd` is ready for `events`.
bool WaitFor(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

std::string Response(int code, const char* reason, const std::string& content_type, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

std::string Text(int code, const char* reason) {
  return Response(code, reason, "text/plain; charset=utf-8", absl::StrCat(reason, "\n"));
}

// "host:port" or "[v6]:port" -> getaddrinfo parts.
bool SplitHostPort(const std::string& listen, std::string& host, std::string& port) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return port.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string HandleRequest(const std::string& head, const Registry& registry) {
  const std::size_t line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) return Text(400, "Bad Request");
  const std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (const std::size_t q = target.find('?'); q != std::string::npos) target.resize(q);
  if (target != "/metrics") return Text(404, "Not Found");
  if (method != "GET" && method != "HEAD") return Text(405, "Method Not Allowed");
  std::string response = Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", registry.Render());
  if (method == "HEAD") response.resize(response.find("\r\n\r\n") + 4);
  return response;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                                    const Registry& registry) {
  std::string host;
  std::string port;
  if (!SplitHostPort(listen, host, port)) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address '", listen, "': expected HOST:PORT"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address '", listen, "': ", gai_strerror(rc)));
  }
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  const bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                  bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 16) == 0;
  freeaddrinfo(found);
  if (!ok) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", listen, ": ", why));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const std::uint16_t bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("metrics: pipe: ", std::strerror(errno)));
  }
  auto server =
      std::unique_ptr<MetricsServer>(new MetricsServer(fd, pipe_fds[0], pipe_fds[1], bound_port, registry));
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

MetricsServer::MetricsServer(int listen_fd, int stop_read, int stop_write, std::uint16_t port,
                             const Registry& registry)
    : listen_fd_(listen_fd), stop_read_(stop_read), stop_write_(stop_write), port_(port), registry_(registry) {}

MetricsServer::~MetricsServer() {
  close(stop_write_);  // EOF on stop_read_ wakes Serve
  if (thread_.joinable()) thread_.join();
  close(stop_read_);
  close(listen_fd_);
}

void MetricsServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // EMFILE, ECONNABORTED, ...: try again at the next poll
    HandleConnection(fd);
    close(fd);
  }
}

void MetricsServer::HandleConnection(int fd) const {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  std::string head;
  char buf[1024];
  std::string response;
  while (response.empty()) {
    if (head.find("\r\n\r\n") != std::string::npos) {
      response = HandleRequest(head, registry_);
    } else if (head.size() > kMaxRequestBytes) {
      response = Text(431, "Request Header Fields Too Large");
    } else if (!WaitFor(fd, POLLIN, deadline)) {
      return;  // too slow: drop
    } else {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n == 0) return;
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return;
      }
      head.append(buf, static_cast<std::size_t>(n));
    }
  }
  for (std::size_t sent = 0; sent < response.size();) {
    const ssize_t n = send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return;
    } else {
      return;
    }
  }
  // Lingering close: closing with unread input would reset the connection
  // and could destroy the answer in flight (a 431 to an oversized head).
  shutdown(fd, SHUT_WR);
  for (std::size_t drained = 0; drained < kMaxDrainBytes && WaitFor(fd, POLLIN, deadline);) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    if (n > 0) drained += static_cast<std::size_t>(n);
  }
}

}  // namespace hive::metrics
