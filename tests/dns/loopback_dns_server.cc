#include "dns/loopback_dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hive::testing {
namespace {

std::string Canonical(std::string name) {
  while (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

void Put16(std::vector<unsigned char>& out, unsigned v) {
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v));
}
void Put32(std::vector<unsigned char>& out, std::uint32_t v) {
  Put16(out, v >> 16);
  Put16(out, v & 0xffff);
}

}  // namespace

LoopbackDnsServer::LoopbackDnsServer() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("LoopbackDnsServer: socket/bind on 127.0.0.1");
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

LoopbackDnsServer::~LoopbackDnsServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void LoopbackDnsServer::Add(const std::string& name, std::vector<std::uint32_t> addresses, std::uint32_t ttl) {
  std::lock_guard lock(mu_);
  records_[Canonical(name)] = Record{std::move(addresses), ttl};
}

void LoopbackDnsServer::SetMode(Mode mode) {
  std::lock_guard lock(mu_);
  mode_ = mode;
}

void LoopbackDnsServer::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  delay_ = delay;
}

int LoopbackDnsServer::queries_for(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(Canonical(name));
  return it == counts_.end() ? 0 : it->second;
}

void LoopbackDnsServer::Run() {
  unsigned char buf[1500];
  while (!stop_) {
    // Wake at least every 20 ms to see stop_ and due delayed replies.
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n > 0) {
        ++queries_;
        std::vector<unsigned char> reply = Reply(buf, static_cast<std::size_t>(n));
        std::chrono::milliseconds delay;
        {
          std::lock_guard lock(mu_);
          delay = delay_;
        }
        if (!reply.empty()) {
          const auto* pb = reinterpret_cast<const unsigned char*>(&peer);
          delayed_.push_back({std::chrono::steady_clock::now() + delay, std::move(reply), {pb, pb + sizeof peer}});
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto it = delayed_.begin(); it != delayed_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      ::sendto(fd_, it->reply.data(), it->reply.size(), 0, reinterpret_cast<const sockaddr*>(it->peer.data()),
               static_cast<socklen_t>(it->peer.size()));
      it = delayed_.erase(it);
    }
  }
}

std::vector<unsigned char> LoopbackDnsServer::Reply(const unsigned char* q, std::size_t size) {
  if (size < 12 || (q[2] & 0x80) != 0) return {};  // not a query
  // The question: labels up to the root, then type and class.
  std::size_t pos = 12;
  std::string name;
  while (pos < size && q[pos] != 0) {
    const std::size_t len = q[pos];
    if (len > 63 || pos + 1 + len >= size) return {};
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(q + pos + 1), len);
    pos += 1 + len;
  }
  if (pos + 5 > size) return {};
  const std::size_t question_end = pos + 5;
  const unsigned qtype = (q[pos + 1] << 8) | q[pos + 2];
  name = Canonical(name);

  std::lock_guard lock(mu_);
  ++counts_[name];
  if (mode_ == Mode::kDrop) return {};
  const auto record = records_.find(name);
  unsigned rcode = 0;
  std::vector<std::uint32_t> addresses;
  if (mode_ == Mode::kServfail) {
    rcode = 2;
  } else if (record == records_.end()) {
    rcode = 3;  // NXDOMAIN
  } else if (qtype == 1) {
    addresses = record->second.addresses;
  }
  std::vector<unsigned char> out(q, q + 2);                          // id
  out.push_back(static_cast<unsigned char>(0x84 | (q[2] & 0x01)));   // QR, AA, RD echoed
  out.push_back(static_cast<unsigned char>(0x80 | rcode));           // RA, rcode
  Put16(out, 1);
  Put16(out, static_cast<unsigned>(addresses.size()));
  Put16(out, 0);
  Put16(out, 0);
  out.insert(out.end(), q + 12, q + question_end);
  for (std::uint32_t a : addresses) {
    Put16(out, 0xc00c);  // the question's name
    Put16(out, 1);       // A
    Put16(out, 1);       // IN
    Put32(out, record->second.ttl);
    Put16(out, 4);
    Put32(out, a);
  }
  return out;
}

}  // namespace hive::testing
