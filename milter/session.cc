#include "milter/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "milter/degraded.h"
#include "milter/lease_report.h"
#include "milter/milter_metrics.h"
#include "milter/sender_tag.h"
#include "support/log.h"

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;

// Macros and SMTP arguments are attacker-influenced: keep what we store and
// forward bounded.
constexpr std::size_t kMaxFieldBytes = 1024;
constexpr std::size_t kMaxEsmtpArgs = 32;

std::string Bound(std::string_view s) { return std::string(s.substr(0, kMaxFieldBytes)); }

std::string StripAngles(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return Bound(s);
}

pb::Address MakeAddress(const std::vector<std::string>& argv) {
  pb::Address out;
  if (argv.empty()) return out;
  out.set_address(StripAngles(argv[0]));
  for (std::size_t i = 1; i < argv.size() && i <= kMaxEsmtpArgs; ++i) out.add_esmtp_params(Bound(argv[i]));
  return out;
}

// Sendmail writes "[192.0.2.1]" for a client without a verified name;
// the contract says "unknown" then.
std::string ClientName(std::string_view name) {
  if (name.empty() || name.front() == '[') return "unknown";
  return Bound(name);
}

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

struct Session::Message {
  std::string id;
  std::string queue_id;
  // Id, queue id, connection and sender as every request carries them:
  // built once at MAIL and lent to each request (LentTransaction), not
  // rebuilt and copied per stage.
  pb::Transaction transaction;
  std::vector<pb::Address> recipients;  // accepted only, in order
  std::vector<pb::Header> headers;
  uint64_t header_bytes = 0;
  std::string body;
  uint64_t body_size = 0;
  bool truncated = false;
  // CheckRecipient may have reserved something (it answered "continue", or
  // failed after the server possibly did the work).
  bool reserved = false;
  // A stage passed without a decision (failure mode accept).
  bool unchecked = false;
  // CheckSender was asked (StagePlan): lease usage was reported after it.
  bool sender_checked = false;
  // sender_limits_at_first_rcpt: the sender's limits are still to be
  // decided, with the next RCPT call.
  bool sender_pending = false;
  // A failed policy call at MAIL or RCPT was deferred to end of message.
  bool degraded = false;
  // Delivered on a lease (marked "lease" in the unchecked header).
  bool leased = false;
  std::string message_class;  // known at end of message when degraded
  Disposition deferred = Disposition::kContinue;
  std::string quarantine_reason;
  // Incoming copies of our own control headers, deleted at end of message
  // so a sender cannot choose its pool.
  int pool_headers_seen = 0;
  int unchecked_headers_seen = 0;
};

std::string NormaliseAddress(std::string_view address) {
  std::string_view a = address;
  if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  if (a.size() >= 5 && SameName(a.substr(0, 5), "IPv6:")) a = a.substr(5);
  std::string text(a);
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    char buf[INET6_ADDRSTRLEN];
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      if (inet_ntop(AF_INET, &v6.s6_addr[12], buf, sizeof buf) != nullptr) return buf;
    } else if (inet_ntop(AF_INET6, &v6, buf, sizeof buf) != nullptr) {
      return buf;
    }
  }
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &v4, buf, sizeof buf) != nullptr) return buf;
  }
  return Bound(text);
}

std::string SockaddrToString(const sockaddr* addr, uint16_t* port) {
  *port = 0;
  if (addr == nullptr) return "";
  char buf[INET6_ADDRSTRLEN];
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    *port = ntohs(in->sin_port);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) != nullptr) return buf;
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    *port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof buf) != nullptr) return buf;
    } else if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) != nullptr) {
      return buf;
    }
  }
  return "";
}

namespace {

// SplitMix64's output function: a bijection of 64-bit words, so distinct
// counter values give distinct words.
std::uint64_t Mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Runs one synchronous policy call with the message's transaction lent to
// the request (a pointer set, taken back when the call returns): the
// request never owns or copies it.
template <typename Request, typename Call>
absl::StatusOr<pb::Verdict> WithTransaction(Request& request, pb::Transaction& transaction, Call call) {
  request.unsafe_arena_set_allocated_transaction(&transaction);
  absl::StatusOr<pb::Verdict> verdict = call(request);
  request.unsafe_arena_release_transaction();
  return verdict;
}

}  // namespace

std::string RandomTransactionId() {
  // Seeded once per process: libmilter runs each connection on a new
  // thread, so a per-thread generator paid 8 random_device reads and a
  // seed_seq per connection. A random starting point plus a shared counter,
  // mixed, gives ids that are unique within the process and unpredictable
  // across restarts, without a lock.
  static std::atomic<std::uint64_t> counter = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) | rd();
  }();
  static const std::uint64_t key = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) | rd();
  }();
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return absl::StrFormat("%016x%016x", Mix64(n), Mix64(n ^ key));
}

Session::Session(std::shared_ptr<const Settings> settings, PolicyClient& policy, IdGenerator ids, LeaseTable* leases,
                 StagePlan* stages)
    : settings_(std::move(settings)),
      policy_(policy),
      ids_(ids ? std::move(ids) : IdGenerator(RandomTransactionId)),
      leases_(leases),
      stages_(stages) {}

Session::~Session() = default;

const std::string& Session::transaction_id() const {
  static const std::string kEmpty;
  return message_ ? message_->id : kEmpty;
}

const std::string& Session::queue_id() const {
  static const std::string kEmpty;
  return message_ ? message_->queue_id : kEmpty;
}

Status Session::OnConnect(Actions& mta, std::string_view hostname, const sockaddr* hostaddr) {
  connection_.Clear();
  // A new connection on a session with a transaction open (an MTA that
  // skipped abort/close): release what it reserved rather than leak it
  // until the TTL. Found by tests/fuzz/session_fuzzer.cc.
  EndMessage(pb::EndTransactionRequest::REASON_ABORTED);
  uint16_t port = 0;
  std::string address = SockaddrToString(hostaddr, &port);
  if (address.empty()) {
    // No usable sockaddr (AF_UNIX, stdin, unknown family): the MTA's macros.
    if (auto macro = mta.Macro("{client_addr}")) address = NormaliseAddress(*macro);
    uint32_t p = 0;
    if (auto macro = mta.Macro("{client_port}"); macro && absl::SimpleAtoi(*macro, &p) && p <= 65535) port = p;
  }
  connection_.set_client_address(address);
  connection_.set_client_port(port);
  if (auto name = mta.Macro("{client_name}")) {
    connection_.set_client_name(ClientName(*name));
  } else {
    connection_.set_client_name(ClientName(hostname));
  }
  if (auto v = mta.Macro("{daemon_name}")) connection_.set_daemon_name(Bound(*v));
  // Postfix has no {if_addr}; Sendmail has both.
  if (auto v = mta.Macro("{daemon_addr}")) {
    connection_.set_daemon_address(NormaliseAddress(*v));
  } else if (auto w = mta.Macro("{if_addr}")) {
    connection_.set_daemon_address(NormaliseAddress(*w));
  }
  if (auto v = mta.Macro("j")) connection_.set_mta_hostname(Bound(*v));
  // The daemon side too: Postfix gives {daemon_addr}, Sendmail {if_addr}
  // (and {daemon_addr} when asked), so this line shows which one arrived.
  hive::log::Debug(absl::StrCat("connect from ", hive::log::Sanitize(connection_.client_name()), "[",
                                hive::log::Sanitize(connection_.client_address()), "]:", port, " to [",
                                hive::log::Sanitize(connection_.daemon_address()), "] daemon=",
                                hive::log::Sanitize(connection_.daemon_name())));
  return Status::kContinue;
}

Status Session::OnHelo(Actions& mta, std::string_view helo) {
  connection_.set_helo(Bound(helo));
  // After STARTTLS the client says EHLO again and the MTA sends the TLS macros.
  pb::Tls& tls = *connection_.mutable_tls();
  if (auto v = mta.Macro("{tls_version}")) tls.set_version(Bound(*v));
  if (auto v = mta.Macro("{cipher}")) tls.set_cipher(Bound(*v));
  if (auto v = mta.Macro("{cipher_bits}")) {
    uint32_t bits = 0;
    if (absl::SimpleAtoi(*v, &bits)) tls.set_cipher_bits(bits);
  }
  if (auto v = mta.Macro("{cert_subject}")) tls.set_client_cert_subject(Bound(*v));
  if (auto v = mta.Macro("{cert_issuer}")) tls.set_client_cert_issuer(Bound(*v));
  if (auto v = mta.Macro("{verify}")) tls.set_verify(Bound(*v));
  // SMTP resets the transaction on HELO, but should an MTA not, the next
  // request still carries what the connection now is.
  if (message_) *message_->transaction.mutable_connection() = connection_;
  return Status::kContinue;
}

void Session::Learn(const absl::StatusOr<pb::Verdict>& verdict) {
  if (stages_ != nullptr && verdict.ok()) stages_->Learn(*verdict);
}

void Session::UpdateQueueId(Actions& mta) {
  if (!message_) return;
  // Sendmail knows {i} at MAIL, Postfix only from the first accepted RCPT.
  if (auto v = mta.Macro("i"); v && !v->empty() && *v != message_->queue_id) {
    message_->queue_id = Bound(*v);
    message_->transaction.set_queue_id(message_->queue_id);
  }
}

Status Session::OnEnvFrom(Actions& mta, const std::vector<std::string>& argv) {
  // A MAIL without an abort for the previous transaction: end it first.
  if (message_) EndMessage(pb::EndTransactionRequest::REASON_ABORTED);
  message_ = std::make_unique<Message>();
  message_->id = ids_();
  UpdateQueueId(mta);
  pb::Sasl& sasl = *connection_.mutable_sasl();
  if (auto v = mta.Macro("{auth_authen}")) sasl.set_login(Bound(*v));
  if (auto v = mta.Macro("{auth_type}")) sasl.set_method(Bound(*v));
  // AUTH= belongs to this MAIL command only.
  auto author = mta.Macro("{auth_author}");
  sasl.set_author(author ? Bound(*author) : std::string());
  // The connection is complete at MAIL (HELO, TLS, SASL): copied once here.
  pb::Transaction& transaction = message_->transaction;
  transaction.set_id(message_->id);
  transaction.set_queue_id(message_->queue_id);
  *transaction.mutable_connection() = connection_;
  *transaction.mutable_sender() = MakeAddress(argv);

  // No limit can refuse at MAIL FROM: nothing to ask.
  if (stages_ != nullptr && !stages_->sender()) return Status::kContinue;
  // Or the first RCPT call decides the sender's limits too.
  if (settings_->sender_limits_at_first_rcpt) {
    message_->sender_pending = true;
    return Status::kContinue;
  }
  message_->sender_checked = true;
  pb::SenderRequest request;
  request.set_omit_limits(true);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<pb::Verdict> verdict =
      WithTransaction(request, transaction, [&](const pb::SenderRequest& r) { return policy_.CheckSender(r); });
  const int64_t latency = MillisSince(start);
  Learn(verdict);
  Decision decision = Decide(verdict, Stage::kSender, settings_->failure_mode);
  DeferFailure(decision);
  LogDecision(Stage::kSender, decision, verdict, latency,
              absl::StrCat("from=<", hive::log::Sanitize(message_->transaction.sender().address()), ">"));
  // The service answers again: report what was delivered on leases meanwhile.
  if (leases_ != nullptr && verdict.ok()) static_cast<void>(FlushLeaseUsage(*leases_, policy_));
  message_->unchecked |= decision.unchecked;
  if (decision.deferred != Disposition::kContinue) {
    message_->deferred = decision.deferred;
    message_->quarantine_reason = decision.quarantine_reason;
  }
  if (decision.disposition == Disposition::kTempfail || decision.disposition == Disposition::kReject) {
    const Status status = Refuse(mta, decision);
    // CheckSender reserves nothing: just forget the transaction.
    message_.reset();
    return status;
  }
  return Status::kContinue;
}

Status Session::OnEnvRcpt(Actions& mta, const std::vector<std::string>& argv) {
  if (!message_) {
    hive::log::Warning("RCPT outside a transaction: refusing");
    return Refuse(mta, FailureDecision(FailureMode::kTempfail, "no transaction"));
  }
  UpdateQueueId(mta);
  pb::RecipientRequest request;
  *request.mutable_recipient() = MakeAddress(argv);
  // No limit is decided per recipient (nor the sender's still to decide):
  // accept it for end of message.
  if (stages_ != nullptr && !stages_->recipient() && !message_->sender_pending) {
    message_->recipients.push_back(std::move(*request.mutable_recipient()));
    return Status::kContinue;
  }
  request.set_accepted_recipients(static_cast<uint32_t>(message_->recipients.size()));
  request.set_omit_limits(true);
  request.set_check_sender(message_->sender_pending);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<pb::Verdict> verdict = WithTransaction(
      request, message_->transaction, [&](const pb::RecipientRequest& r) { return policy_.CheckRecipient(r); });
  const int64_t latency = MillisSince(start);
  Learn(verdict);
  Decision decision = Decide(verdict, Stage::kRecipient, settings_->failure_mode);
  DeferFailure(decision);
  LogDecision(Stage::kRecipient, decision, verdict, latency,
              absl::StrCat("rcpt=<", hive::log::Sanitize(request.recipient().address()), ">",
                           request.check_sender() ? " with_sender" : ""));
  const bool refused =
      decision.disposition == Disposition::kTempfail || decision.disposition == Disposition::kReject;
  if (request.check_sender() && verdict.ok()) {
    // The service answered for the sender as CheckSender would have: report
    // what was delivered on leases meanwhile. A refused RCPT may be the
    // sender's limit: the next RCPT asks again, as each MAIL would.
    message_->sender_checked = true;
    if (leases_ != nullptr) static_cast<void>(FlushLeaseUsage(*leases_, policy_));
    if (!refused) message_->sender_pending = false;
  }
  // An explicit refusal reserves nothing; anything else may have.
  if (!refused || decision.policy_failed) message_->reserved = true;
  message_->unchecked |= decision.unchecked;
  if (refused) return Refuse(mta, decision);
  if (decision.deferred != Disposition::kContinue && message_->deferred == Disposition::kContinue) {
    message_->deferred = decision.deferred;
    message_->quarantine_reason = decision.quarantine_reason;
  }
  message_->recipients.push_back(std::move(*request.mutable_recipient()));
  return Status::kContinue;
}

Status Session::OnData(Actions& mta) {
  UpdateQueueId(mta);
  return Status::kContinue;
}

Status Session::OnHeader(Actions& /*mta*/, std::string_view name, std::string_view value) {
  if (!message_) return Status::kContinue;
  if (SameName(name, settings_->pool_header)) ++message_->pool_headers_seen;
  if (SameName(name, settings_->unchecked_header)) ++message_->unchecked_headers_seen;
  const uint64_t bytes = name.size() + value.size();
  if (message_->headers.size() >= settings_->max_headers ||
      message_->header_bytes + bytes > settings_->max_header_bytes) {
    message_->truncated = true;
    return Status::kContinue;
  }
  message_->header_bytes += bytes;
  pb::Header& h = message_->headers.emplace_back();
  h.set_name(std::string(name));
  h.set_value(std::string(value));
  return Status::kContinue;
}

Status Session::OnEndOfHeaders(Actions& mta) {
  UpdateQueueId(mta);
  return Status::kContinue;
}

Status Session::OnBody(Actions& /*mta*/, std::string_view chunk) {
  if (!message_) return Status::kContinue;
  message_->body_size += chunk.size();
  const uint64_t room =
      settings_->max_body_bytes > message_->body.size() ? settings_->max_body_bytes - message_->body.size() : 0;
  if (chunk.size() > room) {
    message_->truncated = true;
    chunk = chunk.substr(0, room);
  }
  message_->body.append(chunk.data(), chunk.size());
  return Status::kContinue;
}

Status Session::OnEndOfMessage(Actions& mta) {
  if (!message_) {
    hive::log::Warning("end of message outside a transaction: refusing");
    return Refuse(mta, FailureDecision(FailureMode::kTempfail, "no transaction"));
  }
  UpdateQueueId(mta);
  pb::MessageRequest request;
  for (pb::Address& r : message_->recipients) *request.add_recipients() = std::move(r);
  for (pb::Header& h : message_->headers) *request.add_headers() = std::move(h);
  request.set_body(std::move(message_->body));
  request.set_body_size(message_->body_size);
  request.set_truncated(message_->truncated);
  request.set_omit_limits(true);
  const std::size_t recipients = message_->recipients.size();

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<pb::Verdict> verdict = WithTransaction(
      request, message_->transaction, [&](const pb::MessageRequest& r) { return policy_.CheckMessage(r); });
  const int64_t latency = MillisSince(start);
  Learn(verdict);
  // Without a CheckSender in this transaction, the service answering again
  // shows here: report what was delivered on leases meanwhile.
  if (leases_ != nullptr && verdict.ok() && !message_->sender_checked) {
    static_cast<void>(FlushLeaseUsage(*leases_, policy_));
  }
  Decision decision = Decide(verdict, Stage::kMessage, settings_->failure_mode);
  if (decision.policy_failed) decision = DecideByClass(request, std::move(decision.failure));
  if (decision.disposition == Disposition::kContinue && message_->deferred != Disposition::kContinue) {
    decision.disposition = message_->deferred;
    decision.quarantine_reason = message_->quarantine_reason;
  }
  message_->unchecked |= decision.unchecked;
  LogDecision(Stage::kMessage, decision, verdict, latency,
              absl::StrCat("from=<", hive::log::Sanitize(message_->transaction.sender().address()), "> rcpts=", recipients,
                           " size=", message_->body_size,
                           message_->truncated ? " truncated" : "", message_->unchecked ? " unchecked" : "",
                           message_->message_class.empty()
                               ? ""
                               : absl::StrCat(" class=", hive::log::Sanitize(message_->message_class, 64)),
                           message_->leased ? " lease" : ""));

  // Not delivered. After a failed CheckMessage the service may never have
  // seen this message: release what the recipients reserved; otherwise
  // CheckMessage settled the reservations itself.
  auto settle_undelivered = [&] {
    if (decision.policy_failed) {
      EndMessage(pb::EndTransactionRequest::REASON_REFUSED);
    } else {
      message_.reset();
    }
  };
  switch (decision.disposition) {
    case Disposition::kTempfail:
    case Disposition::kReject: {
      const Status status = Refuse(mta, decision);
      settle_undelivered();
      return status;
    }
    case Disposition::kDiscard:
      // A discard asked for at MAIL or RCPT, and CheckMessage failed.
      settle_undelivered();
      return Status::kDiscard;
    case Disposition::kContinue:
    case Disposition::kQuarantine:
      break;
  }
  const Status status = ApplyEndOfMessage(mta, decision);
  if (status != Status::kContinue) {
    EndMessage(pb::EndTransactionRequest::REASON_REFUSED);
  } else {
    // Delivered: CheckMessage committed; after a failed CheckMessage in
    // failure mode accept, the reservations stay counted until their TTL.
    if (leases_ != nullptr && verdict.ok() && verdict->has_lease()) {
      const pb::Lease& lease = verdict->lease();
      const bool kept = leases_->Grant(lease.sender(), lease.message_class(), lease.units(),
                                       absl::Milliseconds(lease.ttl_ms()));
      hive::log::Debug(absl::StrCat("tx=", message_->id, " lease sender=<", hive::log::Sanitize(lease.sender()),
                                    "> class=", hive::log::Sanitize(lease.message_class(), 64),
                                    " units=", lease.units(), " ttl_ms=", lease.ttl_ms(),
                                    kept ? " stored" : " ignored"));
    }
    message_.reset();
  }
  return status;
}

Status Session::ApplyEndOfMessage(Actions& mta, const Decision& decision) {
  absl::Status st;
  auto step = [&st](absl::Status s) {
    if (st.ok() && !s.ok()) st = std::move(s);
  };
  // Reverse order: deleting occurrence n does not renumber 1..n-1.
  for (int i = message_->pool_headers_seen; i >= 1; --i) step(mta.ChangeHeader(settings_->pool_header, i, ""));
  for (int i = message_->unchecked_headers_seen; i >= 1; --i) {
    step(mta.ChangeHeader(settings_->unchecked_header, i, ""));
  }
  for (const HeaderEdit& edit : decision.header_edits) {
    switch (edit.op) {
      case HeaderEdit::Op::kAdd: step(mta.AddHeader(edit.name, edit.value)); break;
      case HeaderEdit::Op::kInsert: step(mta.InsertHeader(static_cast<int>(edit.index), edit.name, edit.value)); break;
      case HeaderEdit::Op::kChange: step(mta.ChangeHeader(edit.name, static_cast<int>(edit.index), edit.value)); break;
      case HeaderEdit::Op::kDelete: step(mta.ChangeHeader(edit.name, static_cast<int>(edit.index), "")); break;
    }
  }
  if (message_->leased) {
    step(mta.AddHeader(settings_->unchecked_header, "lease; policy service unavailable"));
  } else if (message_->unchecked) {
    step(mta.AddHeader(settings_->unchecked_header, "unchecked; policy service unavailable"));
  }
  // With the sender tag the envelope carries the member (Sendmail, which
  // could not strip the header before the message leaves).
  if (!decision.pool.empty() && settings_->sender_pool_tag.empty()) {
    step(mta.AddHeader(settings_->pool_header, decision.pool));
  }
  if (std::optional<NewSender> sender = SenderToSet(decision)) {
    step(mta.ChangeFrom(sender->address, sender->esmtp_args));
  }
  if (decision.disposition == Disposition::kQuarantine) step(mta.Quarantine(decision.quarantine_reason));
  if (st.ok()) return Status::kContinue;

  // Delivering without the pool mark or the hold would route or release the
  // message wrongly: the client keeps it and retries.
  hive::log::Error(absl::StrCat("tx=", message_->id, " queue=", hive::log::Sanitize(message_->queue_id),
                                " cannot apply the decision: ", st.message(), "; tempfail"));
  return Refuse(mta, FailureDecision(FailureMode::kTempfail, "apply failed"));
}

std::optional<NewSender> Session::SenderToSet(const Decision& decision) const {
  if (settings_->sender_pool_tag.empty()) return decision.new_sender;
  NewSender out = decision.new_sender.value_or(NewSender{message_->transaction.sender().address(), ""});
  std::string tagged = TagSender(out.address, settings_->sender_pool_tag, decision.pool_member);
  if (!decision.new_sender && tagged == out.address) return std::nullopt;
  out.address = std::move(tagged);
  return out;
}

bool Session::DeferFailure(Decision& decision) {
  if (!decision.policy_failed || decision.disposition != Disposition::kTempfail) return false;
  const bool has_lease = leases_ != nullptr && leases_->HasLease(message_->transaction.sender().address());
  if (!settings_->class_modes.MayDecideAtEnd(settings_->failure_mode, has_lease)) return false;
  decision.disposition = Disposition::kContinue;
  decision.reply.reset();
  absl::StrAppend(&decision.failure, "; deferred to end of message (class)");
  message_->degraded = true;
  return true;
}

Decision Session::DecideByClass(const pb::MessageRequest& request, std::string failure) {
  message_->message_class = MessageClassOf(request.headers(), settings_->class_modes.class_header);
  const ClassMode mode = settings_->class_modes.For(message_->message_class, settings_->failure_mode);
  if (mode == ClassMode::kLeaseThenTempfail && leases_ != nullptr) {
    message_->leased =
        leases_->Spend(message_->transaction.sender().address(), message_->message_class,
                       static_cast<std::uint32_t>(request.recipients_size()), message_->body_size, message_->id,
                       message_->queue_id);
  }
  return DegradedDecision(mode, message_->leased, std::move(failure));
}

Status Session::Refuse(Actions& mta, const Decision& decision) {
  if (decision.reply) {
    if (absl::Status st = mta.SetReply(*decision.reply); !st.ok()) {
      hive::log::Warning(absl::StrCat("cannot set the SMTP reply: ", st.message()));
    }
  }
  return decision.disposition == Disposition::kReject ? Status::kReject : Status::kTempfail;
}

void Session::EndMessage(pb::EndTransactionRequest::Reason reason) {
  if (!message_) return;
  if (message_->reserved) {
    pb::EndTransactionRequest request;
    request.set_transaction_id(message_->id);
    request.set_reason(reason);
    const auto start = std::chrono::steady_clock::now();
    absl::Status st = policy_.EndTransaction(request);
    const std::string line =
        absl::StrCat("tx=", message_->id, " queue=",
                     message_->queue_id.empty() ? "-" : hive::log::Sanitize(message_->queue_id), " end reason=", pb::EndTransactionRequest::Reason_Name(reason), " latency_ms=", MillisSince(start),
                     st.ok() ? std::string(" ok") : absl::StrCat(" failed: ", hive::log::Sanitize(st.ToString())));
    if (st.ok()) {
      hive::log::Info(line);
    } else {
      // Kept and sent again once the service answers (end_transaction_retry.h);
      // failing that, the reservations stay counted (settled as used at
      // their TTL).
      hive::log::Warning(line);
    }
  }
  message_.reset();
}

void Session::OnAbort(Actions& /*mta*/) { EndMessage(pb::EndTransactionRequest::REASON_ABORTED); }

void Session::OnClose(Actions& /*mta*/) { EndMessage(pb::EndTransactionRequest::REASON_CLOSED); }

void Session::LogDecision(Stage stage, const Decision& decision, const absl::StatusOr<pb::Verdict>& verdict,
                          int64_t latency_ms, std::string_view extra) const {
  if (MilterMetrics* metrics = CurrentMilterMetrics()) metrics->RecordDecision(stage, decision);
  // Values with spaces in double quotes (log.h): "550 5.7.1" is one value.
  std::string code = "-";
  if (decision.reply) code = absl::StrCat("\"", decision.reply->code, " ", decision.reply->enhanced_code, "\"");
  std::string symbols;
  double score = 0;
  std::string decision_id = "-";
  int symbol_count = 0;
  if (verdict.ok()) {
    score = verdict->score();
    symbol_count = verdict->symbols_size();
    for (int i = 0; i < verdict->symbols_size() && i < 10; ++i) {
      if (i > 0) symbols += ',';
      symbols += verdict->symbols(i).name();
    }
    if (verdict->symbols_size() > 10) symbols += ",...";
    if (!verdict->decision_id().empty()) decision_id = verdict->decision_id();
  }
  std::string line = absl::StrCat(
      "tx=", message_ ? message_->id : "-", " queue=",
      message_ && !message_->queue_id.empty() ? hive::log::Sanitize(message_->queue_id) : "-",
      " stage=", std::string(StageName(stage)), " action=", std::string(DispositionName(decision.disposition)),
      decision.deferred != Disposition::kContinue
          ? absl::StrCat(" deferred=", std::string(DispositionName(decision.deferred)))
          : "",
      " code=", code, " pool=", decision.pool.empty() ? "-" : decision.pool, " score=", absl::StrFormat("%.2f", score),
      " symbols=", symbol_count, symbols.empty() ? "" : absl::StrCat("[", hive::log::Sanitize(symbols), "]"),
      " decision_id=", hive::log::Sanitize(decision_id, 64), " latency_ms=", latency_ms, " ", std::string(extra));
  if (decision.policy_failed) {
    absl::StrAppend(&line, " policy_failed mode=", std::string(FailureModeName(settings_->failure_mode)),
                    " reason=\"", hive::log::Sanitize(decision.failure), "\"");
    hive::log::Warning(line);
  } else {
    hive::log::Info(line);
  }
}

}  // namespace hive::milter
