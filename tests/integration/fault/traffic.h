// A steady stream of uniquely numbered messages through the MTA, and the
// reconciliation that accounts for every one of them (issue 8): each message
// sent is either delivered exactly once (found in the sink by its id),
// tempfailed (4xx or a lost connection: the client still holds it) or
// rejected (5xx), and nothing refused reaches the sink.
//
// Usage:
//   Traffic t(port, {.prefix = "pk", .messages = 45, .threads = 3}, MakeOne);
//   WaitUntilSent(t, 10); inject the fault; WaitUntilSent(t, 25); heal;
//   std::vector<Sent> sent = t.Wait();
//   Ledger l = Reconcile(sent, stack.sink(), stack.mta());
//
// The load is bounded in count (`messages`) and time (`budget`: a thread
// stops starting sessions once it is spent). Thread-safety: Traffic's own
// methods may be called from the test thread while its workers run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/mta.h"
#include "harness/sink.h"
#include "harness/smtp_client.h"

namespace hive::testing {

enum class Outcome { kAccepted, kTempfailed, kRejected };
const char* OutcomeName(Outcome outcome);

// One message of the stream: what to send. `tag` is unique and appears in
// the Subject; `refusable` says policy must never let it through.
struct Letter {
  std::string tag;
  std::string sender;
  std::string message;
  bool refusable = false;
};

// What happened to one attempt at sending a Letter.
struct Sent {
  Letter letter;
  Outcome outcome = Outcome::kTempfailed;
  SmtpReply reply;  // the reply that decided (250 to the dot, or the first refusal)
  std::chrono::milliseconds took{0};
};

// "[fm:<prefix>-0007]": what the sink is searched for.
std::string Tag(const std::string& prefix, int index);

// One SMTP session for `letter`: EHLO, MAIL, RCPT, DATA, QUIT.
Sent SendLetter(uint16_t port, const Letter& letter);

// A message of `message_class` (header "X-Hive-Class: <class>", as the
// degraded-mode configs of the tests) from `sender` to rcpt@dest.example.
Letter ClassLetter(const std::string& tag, const std::string& sender, const std::string& message_class);

// The by-class degraded-mode setup several fault tests share. The policy:
// a per-sender limit of `limit` messages an hour on shop.example, classes
// read from X-Hive-Class, transactional senders leased `lease` messages.
std::string ClassLeasePolicyYaml(int limit, int lease);
// The milter: transactional lease_then_tempfail, marketing tempfail,
// anything else `failure_mode: tempfail`; `extra_modes` adds lines to the
// failure_modes list ("  - {class: alerts, mode: accept}\n").
std::string ClassFailureModesYaml(const std::string& rpc_timeout, const std::string& extra_modes = "");

// Sends ClassLetters numbered under one tag prefix, one session each, and
// keeps every attempt for Reconcile.
class ClassMail {
 public:
  explicit ClassMail(std::string prefix) : prefix_(std::move(prefix)) {}
  Sent Send(uint16_t port, const std::string& sender, const std::string& message_class);
  const std::vector<Sent>& sent() const { return sent_; }

 private:
  std::string prefix_;
  int next_ = 0;
  std::vector<Sent> sent_;
};

struct TrafficOptions {
  std::string prefix;
  int messages = 45;
  int threads = 3;
  // Pause between two sessions of one thread: a steady stream, not a burst.
  std::chrono::milliseconds pace{40};
  std::chrono::seconds budget{60};
};

class Traffic {
 public:
  // make(index, tag) builds letter `index` (0-based); the tag must go in the Subject.
  Traffic(uint16_t port, TrafficOptions options, std::function<Letter(int, const std::string&)> make);
  ~Traffic();
  // Sessions finished so far.
  int finished() const { return finished_.load(); }
  // Joins the workers; every attempt, in no particular order.
  std::vector<Sent> Wait();

 private:
  void Run();

  uint16_t port_;
  TrafficOptions options_;
  std::function<Letter(int, const std::string&)> make_;
  std::atomic<int> next_{0};
  std::atomic<int> finished_{0};
  std::chrono::steady_clock::time_point deadline_;
  std::mutex mu_;
  std::vector<Sent> sent_;
  std::vector<std::thread> workers_;
};

// Polls (bounded) until `traffic` has finished `count` sessions; false on timeout.
bool WaitUntilFinished(const Traffic& traffic, int count,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Sends every tempfailed letter of `sent` again, all at once from `threads`
// threads (a retry storm, as the clients' queues would after an outage), in
// rounds until none is tempfailed or `rounds` are spent. Returns the final
// attempt of every letter: accepted and rejected ones unchanged.
std::vector<Sent> RetryTempfailed(uint16_t port, std::vector<Sent> sent, int threads, int rounds,
                                  std::chrono::milliseconds between_rounds);

// Recovery (R): sends probe messages (tags "[fm:<prefix>-NNNN]", not part
// of any ledger) every 100 ms until one is accepted; the time it took, or
// nullopt when none was within `bound`.
std::optional<std::chrono::milliseconds> WaitForRecovery(uint16_t port, const std::string& prefix,
                                                         std::chrono::milliseconds bound);

struct Ledger {
  int sent = 0, accepted = 0, tempfailed = 0, rejected = 0;
  int delivered = 0;  // distinct letters found in the sink
  // Every broken promise, one line each (empty: everything accounted for).
  std::vector<std::string> problems;
  // Count of accepted letters by sender.
  std::map<std::string, int> accepted_by_sender;
  std::string Summary() const;
};

// Waits (bounded) for the MTA's queue to drain, then checks: every accepted
// letter is in the sink exactly once; no tempfailed or rejected letter is;
// no refusable letter is delivered; accepted + tempfailed + rejected = sent.
Ledger Reconcile(const std::vector<Sent>& sent, const Sink& sink, const Mta& mta);

}  // namespace hive::testing
