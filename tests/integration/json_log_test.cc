// JSON logs end to end (issue 10): both daemons run with
// observability.log_format: json behind real Postfix; one delivered message
// (two recipients, a pool) and one refused spam (a symbol, a score). Every
// line either daemon wrote must be exactly one JSON object, checked strictly
// by check-json-log.py (Python's json: no NaN, no duplicate keys, no
// trailing text, valid UTF-8), and each end-of-message decision line must
// carry the transaction id, queue id, sender, recipient count, action,
// score, symbols, pool and latency, with the values of these two messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/smtp_client.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPolicy[] = R"(
observability: {log_format: json}
content:
  rules:
    - {name: PHARMA_BODY, target: body, regex: "(?i)cheap v[i1]agra", weight: 12}
  reject_score: 10
routing:
  pools:
    - {name: transactional}
    - {name: marketing}
  rules:
    - {name: receipts, match: {sender_domain: [shop.example]}, pool: transactional}
  default_pool: marketing
)";

struct Checked {
  int exit_code = -1;
  std::vector<std::string> lines;  // the selected decision lines, re-serialised
  std::string output;
};

// Runs check-json-log.py on `log`; its stderr joins stdout for the message.
Checked CheckLog(const std::string& log, const std::string& select, const std::string& keys,
                 const std::string& numbers) {
  const std::string cmd = std::string("python3 ") + HIVE_JSON_LOG_CHECK + " '" + log + "' --select '" + select +
                          "' --keys '" + keys + "' --numbers '" + numbers + "' 2>&1";
  Checked out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::string all;
  while (fgets(buf, sizeof buf, p) != nullptr) all += buf;
  const int status = pclose(p);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.output = all;
  for (std::size_t pos = 0; pos < all.size();) {
    const std::size_t eol = all.find('\n', pos);
    const std::string line = all.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    if (!line.empty() && line[0] == '{') out.lines.push_back(line);
    pos = eol == std::string::npos ? all.size() : eol + 1;
  }
  return out;
}

TEST(JsonLogTest, EveryLineIsJsonAndDecisionLinesCarryTheirKeys) {
  HiveStack stack(StackOptions{.policy_yaml = kPolicy, .milter_yaml = "observability: {log_format: json}\n"});
  Transaction ok = SendMail(stack.smtp_port(), "receipts@shop.example", {"a@dest.example", "b@dest.example"},
                            MakeMessage("receipts@shop.example", "a@dest.example", "json receipt", "Thanks."));
  ASSERT_EQ(ok.data.code, 250) << ok.data.ToString() << stack.Diagnostics();
  Transaction spam = SendMail(stack.smtp_port(), "promo@spam.example", {"c@dest.example"},
                              MakeMessage("promo@spam.example", "c@dest.example", "offer", "cheap viagra"));
  ASSERT_EQ(spam.data.code, 550) << spam.data.ToString() << stack.Diagnostics();
  ASSERT_FALSE(stack.sink().WaitForMessageContaining("json receipt", std::chrono::seconds(20)).empty());

  // hive-milter: its end-of-message line (written before the MTA gets the reply).
  const Checked milter = CheckLog(stack.dir().Sub("milter.log"), "stage=eom",
                                  "ts,level,tx,queue,from,rcpts,action,score,symbols,pool,latency_ms",
                                  "rcpts,score,latency_ms");
  ASSERT_EQ(milter.exit_code, 0) << milter.output;
  ASSERT_EQ(milter.lines.size(), 2u) << milter.output;
  EXPECT_THAT(milter.lines[0], HasSubstr(R"("action":"continue")"));
  EXPECT_THAT(milter.lines[0], HasSubstr(R"("from":"<receipts@shop.example>")"));
  EXPECT_THAT(milter.lines[0], HasSubstr(R"("pool":"transactional")"));
  EXPECT_THAT(milter.lines[0], HasSubstr(R"("rcpts":2)"));
  EXPECT_THAT(milter.lines[0], HasSubstr(R"("symbols":"0")"));
  EXPECT_THAT(milter.lines[1], HasSubstr(R"("action":"reject")"));
  // One value, not the number 550 and "5.7.1" left in "msg".
  EXPECT_THAT(milter.lines[1], HasSubstr(R"("code":"550 5.7.1")"));
  EXPECT_THAT(milter.lines[1], Not(HasSubstr(R"("msg")")));
  EXPECT_THAT(milter.lines[1], HasSubstr(R"("score":12)"));
  EXPECT_THAT(milter.lines[1], HasSubstr("PHARMA_BODY"));
  EXPECT_THAT(milter.lines[1], HasSubstr(R"("rcpts":1)"));

  // hive-policyd: its CheckMessage lines, for the same transactions.
  const Checked policyd = CheckLog(stack.dir().Sub("policyd.log"), "rpc=CheckMessage",
                                   "ts,level,decision,txn,queue,sender,rcpts,action,score,symbols,pool,latency_us",
                                   "rcpts,score,latency_us");
  ASSERT_EQ(policyd.exit_code, 0) << policyd.output;
  ASSERT_EQ(policyd.lines.size(), 2u) << policyd.output;
  EXPECT_THAT(policyd.lines[0], HasSubstr(R"("pool":"transactional")"));
  EXPECT_THAT(policyd.lines[0], HasSubstr(R"("rcpts":2)"));
  EXPECT_THAT(policyd.lines[1], HasSubstr(R"("symbols":"PHARMA_BODY")"));
  EXPECT_THAT(policyd.lines[1], HasSubstr(R"("action":"reject")"));
  // One transaction, one id and one queue id in both daemons' lines.
  for (int i = 0; i < 2; ++i) {
    const auto field = [](const std::string& line, const std::string& key) {
      const std::size_t at = line.find("\"" + key + "\":\"");
      if (at == std::string::npos) return std::string("?");
      const std::size_t from = at + key.size() + 4;
      return line.substr(from, line.find('"', from) - from);
    };
    EXPECT_EQ(field(milter.lines[i], "tx"), field(policyd.lines[i], "txn"));
    EXPECT_EQ(field(milter.lines[i], "queue"), field(policyd.lines[i], "queue"));
    EXPECT_NE(field(milter.lines[i], "queue"), "-");
  }
}

}  // namespace
}  // namespace hive::testing
