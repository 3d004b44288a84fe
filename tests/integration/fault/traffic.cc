#include "fault/traffic.h"

#include <cstdio>

namespace hive::testing {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted: return "accepted";
    case Outcome::kTempfailed: return "tempfailed";
    case Outcome::kRejected: return "rejected";
  }
  return "?";
}

std::string Tag(const std::string& prefix, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%04d", index);
  return "[fm:" + prefix + "-" + number + "]";
}

Letter ClassLetter(const std::string& tag, const std::string& sender, const std::string& message_class) {
  return Letter{.tag = tag,
                .sender = sender,
                .message = MakeMessage(sender, "rcpt@dest.example", "note " + tag, "hello " + tag,
                                       {"X-Hive-Class: " + message_class})};
}

std::string ClassLeasePolicyYaml(int limit, int lease) {
  return R"(
limits:
  - name: per-sender
    match: {sender_domain: [shop.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: )" + std::to_string(limit) + R"(, period: 1h}
ratelimit:
  class_header: X-Hive-Class
degraded:
  classes:
    - {class: transactional, lease_messages: )" + std::to_string(lease) + R"(, lease_ttl: 10m}
)";
}

std::string ClassFailureModesYaml(const std::string& rpc_timeout, const std::string& extra_modes) {
  return "rpc_timeout: " + rpc_timeout + R"(
failure_mode: tempfail
class_header: X-Hive-Class
failure_modes:
  - {class: transactional, mode: lease_then_tempfail}
  - {class: marketing, mode: tempfail}
)" + extra_modes;
}

Sent ClassMail::Send(uint16_t port, const std::string& sender, const std::string& message_class) {
  const std::string tag = Tag(prefix_, next_++);
  sent_.push_back(SendLetter(port, ClassLetter(tag, sender, message_class)));
  return sent_.back();
}

Sent SendLetter(uint16_t port, const Letter& letter) {
  const auto start = std::chrono::steady_clock::now();
  const Transaction t = SendMail(port, letter.sender, {"rcpt@dest.example"}, letter.message);
  Sent s{.letter = letter};
  s.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (t.data.code == 250) {
    s.outcome = Outcome::kAccepted;
    s.reply = t.data;
    return s;
  }
  // The first reply that was not positive decides; no reply at all (code 0:
  // connection lost or timed out) leaves the message with the client, as 4xx.
  std::vector<SmtpReply> replies{t.greeting, t.ehlo, t.mail};
  replies.insert(replies.end(), t.rcpts.begin(), t.rcpts.end());
  replies.push_back(t.data);
  s.reply = t.data;
  for (const SmtpReply& r : replies) {
    if (!r.positive()) {
      s.reply = r;
      break;
    }
  }
  s.outcome = s.reply.code >= 500 && s.reply.code < 600 ? Outcome::kRejected : Outcome::kTempfailed;
  return s;
}

Traffic::Traffic(uint16_t port, TrafficOptions options, std::function<Letter(int, const std::string&)> make)
    : port_(port),
      options_(std::move(options)),
      make_(std::move(make)),
      deadline_(std::chrono::steady_clock::now() + options_.budget) {
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { Run(); });
}

Traffic::~Traffic() { Wait(); }

void Traffic::Run() {
  for (;;) {
    const int index = next_.fetch_add(1);
    if (index >= options_.messages || std::chrono::steady_clock::now() >= deadline_) return;
    Sent s = SendLetter(port_, make_(index, Tag(options_.prefix, index)));
    {
      std::lock_guard<std::mutex> lock(mu_);
      sent_.push_back(std::move(s));
    }
    finished_.fetch_add(1);
    std::this_thread::sleep_for(options_.pace);
  }
}

std::vector<Sent> Traffic::Wait() {
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

bool WaitUntilFinished(const Traffic& traffic, int count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (traffic.finished() < count) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<Sent> RetryTempfailed(uint16_t port, std::vector<Sent> sent, int threads, int rounds,
                                  std::chrono::milliseconds between_rounds) {
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (sent[i].outcome == Outcome::kTempfailed) todo.push_back(i);
    }
    if (todo.empty()) break;
    if (round > 0) std::this_thread::sleep_for(between_rounds);
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (std::size_t k = next.fetch_add(1); k < todo.size(); k = next.fetch_add(1)) {
          // Each worker writes only its own slots: no lock needed.
          sent[todo[k]] = SendLetter(port, sent[todo[k]].letter);
        }
      });
    }
    for (std::thread& w : workers) w.join();
  }
  return sent;
}

std::optional<std::chrono::milliseconds> WaitForRecovery(uint16_t port, const std::string& prefix,
                                                         std::chrono::milliseconds bound) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; std::chrono::steady_clock::now() - start < bound; ++i) {
    const std::string tag = Tag(prefix, i);
    const Sent s = SendLetter(port, {.tag = tag, .sender = "probe@bulk.example",
                                     .message = MakeMessage("probe@bulk.example", "rcpt@dest.example",
                                                            "probe " + tag, "probe")});
    if (s.outcome == Outcome::kAccepted) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

std::string Ledger::Summary() const {
  std::string s = "sent=" + std::to_string(sent) + " accepted=" + std::to_string(accepted) +
                  " tempfailed=" + std::to_string(tempfailed) + " rejected=" + std::to_string(rejected) +
                  " delivered=" + std::to_string(delivered);
  for (const std::string& p : problems) s += "\n  " + p;
  return s;
}

Ledger Reconcile(const std::vector<Sent>& sent, const Sink& sink, const Mta& mta) {
  Ledger l;
  if (!mta.WaitForEmptyQueue(std::chrono::seconds(30))) {
    l.problems.push_back("the MTA's queue did not drain: " + std::to_string(mta.QueuedMessages()) + " left");
  }
  const std::vector<std::string> delivered = sink.Messages();
  std::map<std::string, int> copies;
  for (const Sent& s : sent) copies[s.letter.tag] = 0;
  for (const std::string& m : delivered) {
    // A tag is "[fm:" ... "]": find each, count the known ones.
    for (std::size_t at = m.find("[fm:"); at != std::string::npos; at = m.find("[fm:", at + 1)) {
      const std::size_t end = m.find(']', at);
      if (end == std::string::npos) break;
      auto it = copies.find(m.substr(at, end - at + 1));
      if (it != copies.end()) {
        ++it->second;
        break;  // the Subject; a copy in a body would not be a second delivery
      }
    }
  }
  for (const Sent& s : sent) {
    ++l.sent;
    const int n = copies[s.letter.tag];
    if (n > 0) ++l.delivered;
    const std::string what = s.letter.tag + " from " + s.letter.sender + " " + OutcomeName(s.outcome) + " (" +
                             s.reply.ToString() + ")";
    switch (s.outcome) {
      case Outcome::kAccepted:
        ++l.accepted;
        ++l.accepted_by_sender[s.letter.sender];
        if (n != 1) l.problems.push_back(what + " but delivered " + std::to_string(n) + " times");
        if (s.letter.refusable) l.problems.push_back(what + ": policy should have refused it");
        break;
      case Outcome::kTempfailed:
        ++l.tempfailed;
        if (n != 0) l.problems.push_back(what + " yet delivered " + std::to_string(n) + " times");
        break;
      case Outcome::kRejected:
        ++l.rejected;
        if (n != 0) l.problems.push_back(what + " yet delivered " + std::to_string(n) + " times");
        break;
    }
  }
  if (l.accepted + l.tempfailed + l.rejected != l.sent) l.problems.push_back("outcomes do not add up");
  return l;
}

}  // namespace hive::testing
