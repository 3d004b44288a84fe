#include "bench_policy.h"

#include <array>
#include <string_view>

namespace hive::bench {
namespace {

constexpr std::array<std::string_view, 8> kSenderDomains = {
    "shop.example", "news.example", "bank.example", "trial.example",
    "promo.example", "app.example", "forum.example", "mail.example"};

constexpr std::array<std::string_view, 24> kWords = {
    "order", "invoice", "account", "shipping", "delivery", "tracking", "update", "summary",
    "weekly", "report", "meeting", "project", "thanks", "please", "review", "attached",
    "schedule", "customer", "service", "support", "details", "payment", "receipt", "status"};

// Spam-like stems the content rules look for; the bench prose never
// contains them, so scanning is the full cost with no early hit.
constexpr std::array<std::string_view, 20> kStems = {
    "v[i1]agra", "c[i1]al[i1]s", "casino", "lottery", "w[i1]nner", "cheap ?meds", "crypto ?double",
    "act now", "risk[- ]free", "no prescription", "click here", "unsubscribe ?now", "bitcoin",
    "inheritance", "wire transfer", "prince", "weight loss", "miracle", "guaranteed", "limited time"};

}  // namespace

std::string RealisticPolicyYaml(const std::string& listen, bool limits) {
  std::string y = "server:\n  listen: " + listen + "\n\nlimits:\n";
  if (!limits) y += "  []\n";
  // 10 rules, each with limits no run reaches. Mixed keys, costs and
  // matches, as a sending platform would have.
  const char* keys[10] = {"{sender}",        "{sender_domain}", "{sender}/{recipient_domain}", "{client_ip}",
                          "{recipient_domain}", "{sender_domain}/{recipient_domain}", "{sender}",
                          "{sasl_user}",     "{client_ip}/{sender_domain}", "{recipient}"};
  for (int i = 0; i < (limits ? 10 : 0); ++i) {
    y += "  - name: throttle-" + std::to_string(i) + "\n";
    if (i % 3 == 1) y += "    match: {sender_domain: [" + std::string(kSenderDomains[i % 8]) + ", " +
                         std::string(kSenderDomains[(i + 1) % 8]) + "]}\n";
    y += std::string("    key: \"") + keys[i] + "\"\n";
    y += std::string("    cost: ") + (i % 2 == 0 ? "messages" : "recipients") + "\n";
    y += "    action: tempfail\n    windows:\n";
    y += "      - {limit: 100000000, period: 1m}\n      - {limit: 1000000000, period: 1h}\n";
  }
  y += "\ncontent:\n  rules:\n";
  for (int i = 0; i < 300; ++i) {
    const std::string stem(kStems[static_cast<std::size_t>(i) % kStems.size()]);
    std::string target = "body";
    if (i % 10 == 7) target = "subject";
    if (i % 10 == 9) target = "\"header:X-Mailer\"";
    std::string regex = "(?i)" + stem + "[^a-z]{0,3}" + std::to_string(i);
    if (i % 4 == 1) regex = "(?i)\\\\b(" + stem + "|offer" + std::to_string(i) + ")\\\\b";
    double weight = 0.5 + (i % 7);
    if (i == 299) {
      // One weak rule that does match: a symbol is reported on every message.
      regex = "(?i)\\\\binvoice\\\\b";
      target = "body";
      weight = 0.1;
    }
    y += "    - {name: RULE_" + std::to_string(i) + ", target: " + target + ", regex: \"" + regex +
         "\", weight: " + std::to_string(weight) + "}\n";
  }
  y += "  quarantine_score: 50\n  reject_score: 100\n\n";
  y += "routing:\n  pools:\n    - {name: transactional}\n    - {name: marketing}\n    - {name: bulk}\n"
       "    - {name: suspect}\n  rules:\n"
       "    - {name: receipts, match: {sender_domain: [shop.example, bank.example, app.example]}, pool: transactional}\n"
       "    - {name: news, match: {sender_domain: [news.example, promo.example]}, pool: bulk}\n"
       "    - {name: trials, match: {sender_domain: [trial.example]}, pool: suspect}\n"
       "  default_pool: marketing\n";
  return y;
}

std::string BenchSender(std::size_t n) {
  return "user" + std::to_string(n % 200) + "@" + std::string(kSenderDomains[n % kSenderDomains.size()]);
}

std::string BenchRecipient(std::size_t n) {
  return "rcpt" + std::to_string(n % 1000) + "@dest" + std::to_string(n % 16) + ".example";
}

std::string BenchBody(std::size_t bytes) {
  std::string body;
  std::string line;
  std::size_t w = 0;
  while (body.size() < bytes) {
    const std::string_view word = kWords[(w * 7 + w / 5) % kWords.size()];
    ++w;
    if (line.size() + word.size() + 1 > 72) {
      body += line + "\r\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  return body;
}

std::string BenchMessage(const std::string& from, const std::string& to, std::size_t bytes) {
  std::string headers = "From: <" + from + ">\r\nTo: <" + to +
                        ">\r\nSubject: Your weekly account summary\r\n"
                        "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@hive.test>\r\n"
                        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                        "X-Mailer: bench 1.0\r\n\r\n";
  const std::size_t body = bytes > headers.size() ? bytes - headers.size() : 0;
  return headers + BenchBody(body);
}

}  // namespace hive::bench
