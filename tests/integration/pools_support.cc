#include "pools_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "harness/process.h"
#include "harness/smtp_client.h"
#include "harness/temp_dir.h"

namespace hive::testing {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Record(const std::string& dump, const std::string& name) {
  const std::size_t at = dump.find(name + ": ");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 2;
  return dump.substr(start, dump.find('\n', start) - start);
}

std::string Send(uint16_t port, const std::string& from, const std::string& to, const std::string& subject) {
  const Transaction t = SendMail(port, from, {to}, MakeMessage(from, to, subject, "pools test"));
  if (t.data.code != 0) return t.data.ToString();
  return "refused: mail " + t.mail.ToString() + (t.rcpts.empty() ? "" : ", rcpt " + t.rcpts[0].ToString());
}

std::map<std::string, std::string> SourcesBySubject(const Sink& sink, const std::vector<std::string>& subjects,
                                                    const std::string& diagnostics) {
  std::map<std::string, std::string> out;
  for (const std::string& s : subjects) {
    const std::string dump = sink.WaitForMessageContaining("Subject: " + s, kDeliveryTimeout);
    EXPECT_FALSE(dump.empty()) << s << " never arrived" << diagnostics;
    if (dump.empty()) continue;
    out[s] = Record(dump, "X-Client-Addr");
    EXPECT_THAT(dump, Not(HasSubstr("X-Hive-Pool"))) << s;
  }
  return out;
}

std::string CapPolicy(const PoolAddresses& a, const std::string& extra_pools, const std::string& extra_rules) {
  return R"(
ratelimit: {class_header: X-Mail-Class}
routing:
  provider_groups:
    - {name: google, domains: [gmail.test, googlemail.test]}
  warmups:
    - {name: cap3, day_one: 3, growth: 2, warm_at: 100000}
  pools:
    - name: transactional
      members:
        - {name: tx-1, address: )" +
         a.tx + R"(, helo: tx-1.pools.test}
        - {name: tx-cold, address: )" +
         a.tx_cold + R"(, helo: tx-cold.pools.test, warmup: cap3}
    - name: bulk
      members:
        - {name: bulk-warm, address: )" +
         a.bulk_warm + R"(, helo: bulk-warm.pools.test}
        - {name: bulk-cold, address: )" +
         a.bulk_cold + R"(, helo: bulk-cold.pools.test, warmup: cap3}
)" + extra_pools +
         R"(  rules:
    - {name: receipts, match: {sender_domain: [shop.test]}, pool: transactional}
)" + extra_rules +
         "  default_pool: bulk\n";
}

CapTraffic SendCapTraffic(uint16_t port) {
  CapTraffic t;
  for (int i = 0; i < 3; ++i) {
    t.receipts.push_back("receipt " + std::to_string(i));
    const Transaction sent =
        SendMail(port, "orders@shop.test", {"bob@example.test"},
                 MakeMessage("orders@shop.test", "bob@example.test", t.receipts.back(), "pools test",
                             {"X-Mail-Class: transactional"}));
    EXPECT_EQ(sent.data.code, 250) << t.receipts.back() << ": " << sent.data.ToString();
  }
  t.unclassified = "unclassified";
  EXPECT_THAT(Send(port, "orders@shop.test", "bob@example.test", t.unclassified), HasSubstr("250"));
  // One provider group across two domains: the cap counts both.
  for (int i = 0; i < 8; ++i) {
    t.newsletters.push_back("newsletter " + std::to_string(i));
    const std::string to = i % 2 == 0 ? "ann@gmail.test" : "ann@googlemail.test";
    EXPECT_THAT(Send(port, "news@letters.test", to, t.newsletters.back()), HasSubstr("250"));
  }
  return t;
}

void ExpectCapSources(const Sink& sink, const CapTraffic& traffic, const PoolAddresses& a,
                      const std::string& diagnostics) {
  for (const auto& [subject, source] : SourcesBySubject(sink, traffic.receipts, diagnostics)) {
    EXPECT_EQ(source, a.tx) << subject << ": transactional mail never takes a cold member" << diagnostics;
  }
  for (const auto& [subject, source] : SourcesBySubject(sink, {traffic.unclassified}, diagnostics)) {
    EXPECT_EQ(source, a.tx_cold) << "other mail of the pool takes the cold member first" << diagnostics;
  }
  std::map<std::string, int> from;
  for (const auto& [subject, source] : SourcesBySubject(sink, traffic.newsletters, diagnostics)) ++from[source];
  EXPECT_EQ(from[a.bulk_cold], 3) << "the cold member takes exactly its cap" << diagnostics;
  EXPECT_EQ(from[a.bulk_warm], 5) << "the rest overflows to the warm member" << diagnostics;
  EXPECT_EQ(from.size(), 2u) << "bulk mail from an address outside its pool" << diagnostics;
}

std::string FeedbackPolicy(const std::string& warm_address, const std::string& cold_address) {
  return R"(
routing:
  provider_groups:
    - {name: blocked, domains: [blocked.test]}
    - {name: fine, domains: [fine.test]}
  warmups:
    - {name: slow, day_one: 50, growth: 2, warm_at: 100000}
  pools:
    - name: bulk
      members:
        - {name: fb-warm, address: )" +
         warm_address + R"(, helo: fb-warm.pools.test}
        - {name: fb-cold, address: )" +
         cold_address + R"(, helo: fb-cold.pools.test, warmup: slow}
  default_pool: bulk
)";
}

const char kIpv6Policy[] = R"(
routing:
  pools:
    - name: tx
      members: [{name: tx-6, address: "2001:db8::2", helo: tx-6.pools.test}]
    - name: bulk
      members: [{name: bulk-6, address: "2001:db8::3", helo: bulk-6.pools.test}]
  rules:
    - {name: receipts, match: {sender_domain: [shop.test]}, pool: tx}
  default_pool: bulk
)";

std::string EnterIpv6Namespace(const std::string& log_path) {
  if (::unshare(CLONE_NEWNET) != 0) {
    return std::string("no private network namespace (unshare: ") + std::strerror(errno) +
           "): IPv6 members need IPv6 addresses the host's lo does not have";
  }
  std::vector<std::vector<std::string>> setup = {{"ip", "link", "set", "lo", "up"}};
  for (const char* a : {kIpv6NextHop, "2001:db8::2", "2001:db8::3"}) {
    setup.push_back({"ip", "-6", "addr", "add", std::string(a) + "/128", "dev", "lo", "nodad"});
  }
  for (const auto& argv : setup) {
    std::vector<std::string> cmd{"/usr/bin/env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    Process ip(cmd, log_path);
    EXPECT_TRUE(ip.WaitExit(std::chrono::seconds(20)) && WIFEXITED(ip.ExitStatus()) && WEXITSTATUS(ip.ExitStatus()) == 0)
        << ReadFile(log_path);
  }
  return "";
}

void ExpectIpv6Sources(uint16_t smtp_port, const Sink& next_hop, const std::string& diagnostics) {
  EXPECT_THAT(Send(smtp_port, "orders@shop.test", "bob@example.test", "v6 receipt"), HasSubstr("250"));
  EXPECT_THAT(Send(smtp_port, "news@letters.test", "ann@example.test", "v6 newsletter"), HasSubstr("250"));
  const std::string receipt = next_hop.WaitForMessageContaining("Subject: v6 receipt", kDeliveryTimeout);
  const std::string newsletter = next_hop.WaitForMessageContaining("Subject: v6 newsletter", kDeliveryTimeout);
  ASSERT_FALSE(receipt.empty() || newsletter.empty()) << diagnostics;
  EXPECT_EQ(Record(receipt, "X-Client-Addr"), "ipv6:2001:db8::2") << receipt;  // smtp-sink's form
  EXPECT_EQ(Record(receipt, "X-Helo-Args"), "tx-6.pools.test");
  EXPECT_EQ(Record(receipt, "X-Mail-Args"), "<orders@shop.test>");
  EXPECT_EQ(Record(newsletter, "X-Client-Addr"), "ipv6:2001:db8::3") << newsletter;
  EXPECT_EQ(Record(newsletter, "X-Helo-Args"), "bulk-6.pools.test");
  EXPECT_EQ(Record(newsletter, "X-Mail-Args"), "<news@letters.test>");
  EXPECT_THAT(receipt + newsletter, Not(HasSubstr("X-Hive-Pool")));
}

std::string LineWith(const std::string& log, const std::string& needle) {
  const std::size_t at = log.find(needle);
  if (at == std::string::npos) return "";
  const std::size_t start = log.rfind('\n', at);
  const std::size_t begin = start == std::string::npos ? 0 : start + 1;
  return log.substr(begin, log.find('\n', at) - begin);
}

}  // namespace hive::testing
