#include "dns/ares_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hive::policy::dns {
namespace {

void InitLibrary() {
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  (void)rc;  // only fails on platforms that need WinSock
}

// One query of a lookup: where its answer goes and the lookup's count of
// unanswered queries (c-ares calls back exactly once per query).
struct Query {
  Answer* answer;
  int* outstanding;
};

void OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  Query& q = *static_cast<Query*>(arg);
  --*q.outstanding;
  Answer& a = *q.answer;
  a.error.clear();
  switch (status) {
    case ARES_SUCCESS: {
      ares_addrttl records[16];
      int n = 16;
      hostent* host = nullptr;
      const int rc = ares_parse_a_reply(abuf, alen, &host, records, &n);
      if (host != nullptr) ares_free_hostent(host);
      if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && n == 0)) {
        a.status = Answer::Status::kNotFound;
      } else if (rc != ARES_SUCCESS) {
        a.status = Answer::Status::kError;
        a.error = absl::StrCat("bad reply: ", ares_strerror(rc));
      } else {
        a.status = Answer::Status::kFound;
        a.ttl = std::chrono::seconds(records[0].ttl);
        for (int i = 0; i < n; ++i) {
          a.addresses.push_back(ntohl(records[i].ipaddr.s_addr));
          a.ttl = std::min(a.ttl, std::chrono::seconds(std::max(0, records[i].ttl)));
        }
      }
      return;
    }
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
      a.status = Answer::Status::kNotFound;
      return;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      a.status = Answer::Status::kTimeout;
      a.error = "no answer by the deadline";
      return;
    default:
      a.status = Answer::Status::kError;
      a.error = ares_strerror(status);
      return;
  }
}

int MillisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

}  // namespace

// A c-ares channel and the sockets it asked to be watched (its
// sock_state_cb keeps the list current).
struct AresResolver::Channel {
  ares_channel channel = nullptr;
  std::vector<pollfd> sockets;

  ~Channel() {
    if (channel != nullptr) ares_destroy(channel);
  }
  static void SocketState(void* data, ares_socket_t fd, int readable, int writable) {
    auto& sockets = static_cast<Channel*>(data)->sockets;
    auto it = std::find_if(sockets.begin(), sockets.end(), [fd](const pollfd& p) { return p.fd == fd; });
    if (!readable && !writable) {
      if (it != sockets.end()) sockets.erase(it);
      return;
    }
    if (it == sockets.end()) it = sockets.insert(sockets.end(), pollfd{fd, 0, 0});
    it->events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
  }
};

absl::StatusOr<std::shared_ptr<AresResolver>> AresResolver::Create(AresOptions options) {
  InitLibrary();
  if (options.max_concurrent < 1) return absl::InvalidArgumentError("max_concurrent must be at least 1");
  std::shared_ptr<AresResolver> r(new AresResolver(std::move(options)));
  // One channel now: a bad server list is a configuration error, not a
  // failure of the first message.
  absl::StatusOr<std::unique_ptr<Channel>> c = r->NewChannel();
  if (!c.ok()) return c.status();
  r->idle_.push_back(*std::move(c));
  r->open_ = 1;
  return r;
}

AresResolver::AresResolver(AresOptions options) : options_(std::move(options)) {}
AresResolver::~AresResolver() = default;

absl::StatusOr<std::unique_ptr<AresResolver::Channel>> AresResolver::NewChannel() const {
  auto c = std::make_unique<Channel>();
  ares_options o{};
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  o.timeout = static_cast<int>(std::max<long long>(1, options_.try_timeout.count()));
  o.tries = std::max(1, options_.tries);
  o.sock_state_cb = &Channel::SocketState;
  o.sock_state_cb_data = c.get();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&c->channel, &o, mask); rc != ARES_SUCCESS) {
    c->channel = nullptr;
    return absl::InternalError(absl::StrCat("c-ares init: ", ares_strerror(rc)));
  }
  if (!options_.servers.empty()) {
    const std::string csv = absl::StrJoin(options_.servers, ",");
    if (int rc = ares_set_servers_ports_csv(c->channel, csv.c_str()); rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat("DNS servers '", csv, "': ", ares_strerror(rc)));
    }
  }
  return c;
}

std::unique_ptr<AresResolver::Channel> AresResolver::Acquire(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  while (idle_.empty()) {
    if (open_ < options_.max_concurrent) {
      ++open_;
      lock.unlock();
      absl::StatusOr<std::unique_ptr<Channel>> c = NewChannel();
      if (c.ok()) return *std::move(c);
      lock.lock();
      --open_;
      return nullptr;
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty()) return nullptr;
  }
  std::unique_ptr<Channel> c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void AresResolver::Release(std::unique_ptr<Channel> channel) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(channel));
  }
  freed_.notify_one();
}

std::vector<Answer> AresResolver::LookupA(const std::vector<std::string>& names, Clock::time_point deadline) {
  std::vector<Answer> answers(names.size());
  for (Answer& a : answers) a.error = "no answer by the deadline";
  if (names.empty()) return answers;
  std::unique_ptr<Channel> c = Acquire(deadline);
  if (c == nullptr) {
    for (Answer& a : answers) a.error = "resolver busy: every channel in use until the deadline";
    return answers;
  }
  int outstanding = static_cast<int>(names.size());
  std::vector<Query> queries(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    queries[i] = {&answers[i], &outstanding};
    ares_query(c->channel, names[i].c_str(), ns_c_in, ns_t_a, &OnAnswer, &queries[i]);
  }
  while (outstanding > 0 && Clock::now() < deadline) {
    const int left = MillisUntil(deadline);
    timeval max{left / 1000, (left % 1000) * 1000};
    timeval next{};
    const timeval* t = ares_timeout(c->channel, &max, &next);
    const int wait = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
    std::vector<pollfd> ready = c->sockets;  // c-ares edits the list while processing
    const int n = ::poll(ready.data(), ready.size(), wait);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) {
      ares_process_fd(c->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retransmission timers
      continue;
    }
    for (const pollfd& p : ready) {
      if (p.revents == 0) continue;
      const bool read = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      ares_process_fd(c->channel, read ? p.fd : ARES_SOCKET_BAD, (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    }
  }
  // Whatever is still out is cancelled now: each callback runs (kTimeout)
  // before ares_cancel returns, so `queries` may go out of scope after.
  if (outstanding > 0) ares_cancel(c->channel);
  Release(std::move(c));
  return answers;
}

}  // namespace hive::policy::dns
