// libFuzzer target: hive-milter's session state machine (milter/session.h)
// fed random sequences of libmilter callbacks — in any order, including
// orders libmilter never produces — with random macros, client addresses,
// MAIL/RCPT arguments (addresses and ESMTP parameters), headers and body
// chunks, and random policy answers (any verdict, or an RPC error), through
// the test fakes of tests/milter/fakes.h. Invariants (__builtin_trap):
//  - every refusal sets exactly one reply, of the class of the status;
//  - what is forwarded stays within the caps (address and parameter bytes,
//    parameter count, headers, header bytes, body bytes);
//  - no leaked reservation: every transaction in which a recipient may have
//    reserved something (any RCPT answer but an explicit refusal) ends with
//    either a message verdict from the service or exactly one EndTransaction
//    that went through, once the service is back (a release that met the
//    service down is kept and sent again by EndTransactionRetry), except
//    a message delivered after a failed CheckMessage in failure mode
//    accept (documented: its reservations stay counted until their TTL);
//  - after abort, close or end of message no transaction is open.
// Built by tests/fuzz/build-fuzzers.sh with clang.
#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "milter/end_transaction_retry.h"
#include "milter/session.h"
#include "support/log.h"
#include "tests/milter/fakes.h"

namespace {

namespace pb = hive::policy::v1;
using hive::milter::Decide;
using hive::milter::Disposition;
using hive::milter::EndTransactionRetry;
using hive::milter::FailureMode;
using hive::milter::Session;
using hive::milter::Settings;
using hive::milter::Stage;
using hive::milter::Status;
using hive::milter::testing::FakeActions;
using hive::milter::testing::FakePolicyClient;

constexpr std::size_t kMaxFieldBytes = 1024;  // milter/session.cc
constexpr int kMaxEsmtpArgs = 32;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

absl::StatusOr<pb::Verdict> Answer(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange(0, 5) == 0) return absl::UnavailableError("fuzzed outage");
  pb::Verdict v;
  v.set_action(static_cast<pb::Action>(in.ConsumeIntegralInRange(0, 8)));
  if (in.ConsumeBool()) {
    v.mutable_reply()->set_code(in.ConsumeRandomLengthString(5));
    v.mutable_reply()->set_enhanced_code(in.ConsumeRandomLengthString(8));
    v.mutable_reply()->add_lines(in.ConsumeRandomLengthString(40));
  }
  if (in.ConsumeBool()) v.set_pool(in.ConsumeRandomLengthString(16));
  if (in.ConsumeBool()) {
    pb::HeaderEdit* e = v.add_header_edits();
    e->set_op(static_cast<pb::HeaderEdit::Op>(in.ConsumeIntegralInRange(0, 5)));
    e->set_index(in.ConsumeIntegralInRange<uint32_t>(0, 3));
    e->set_name(in.ConsumeRandomLengthString(16));
    e->set_value(in.ConsumeRandomLengthString(32));
  }
  return v;
}

std::vector<std::string> Args(FuzzedDataProvider& in) {
  std::vector<std::string> argv;
  const int n = in.ConsumeIntegralInRange(0, 40);
  for (int i = 0; i < n; ++i) {
    // Now and then an argument longer than the cap.
    argv.push_back(in.ConsumeBool() ? in.ConsumeRandomLengthString(64) : std::string(1100, 'x'));
  }
  return argv;
}

bool Refused(const absl::StatusOr<pb::Verdict>& answer, Stage stage, FailureMode mode) {
  const auto d = Decide(answer, stage, mode);
  return d.disposition == Disposition::kTempfail || d.disposition == Disposition::kReject;
}

// The service as the fuzzed answers paint it: down after a check failed,
// up after one answered. A release while it is down fails, and
// EndTransactionRetry (between the session and this fake, as in
// hive-milter) keeps it for later.
class OutagePolicy final : public FakePolicyClient {
 public:
  bool down = false;
  std::map<std::string, int> released;  // releases that went through

  absl::StatusOr<pb::Verdict> CheckSender(const pb::SenderRequest& r) override {
    return Seen(FakePolicyClient::CheckSender(r));
  }
  absl::StatusOr<pb::Verdict> CheckRecipient(const pb::RecipientRequest& r) override {
    return Seen(FakePolicyClient::CheckRecipient(r));
  }
  absl::StatusOr<pb::Verdict> CheckMessage(const pb::MessageRequest& r) override {
    return Seen(FakePolicyClient::CheckMessage(r));
  }
  absl::Status EndTransaction(const pb::EndTransactionRequest& r) override {
    static_cast<void>(FakePolicyClient::EndTransaction(r));
    if (down) return absl::UnavailableError("fuzzed outage");
    ++released[r.transaction_id()];
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<pb::Verdict> Seen(absl::StatusOr<pb::Verdict> answer) {
    down = !answer.ok();
    return answer;
  }
};

// Per transaction id, what the fuzzer saw happen to it.
struct TxModel {
  bool reserved = false;        // a RCPT answer other than an explicit refusal
  bool verdict = false;         // CheckMessage answered (any explicit verdict)
  bool accepted_unchecked = false;  // delivered after a failed CheckMessage (accept mode)
  bool ended = false;           // the session let go of it
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    hive::log::Init({.ident = "fuzz", .to_syslog = false, .to_stderr = false});
    return true;
  }();
  (void)quiet;
  FuzzedDataProvider in(data, size);
  auto settings = std::make_shared<Settings>();
  settings->failure_mode = in.ConsumeBool() ? FailureMode::kAccept : FailureMode::kTempfail;
  settings->max_headers = in.ConsumeIntegralInRange<uint32_t>(0, 8);
  settings->max_header_bytes = in.ConsumeIntegralInRange<uint64_t>(0, 512);
  settings->max_body_bytes = in.ConsumeIntegralInRange<uint64_t>(0, 256);
  const FailureMode mode = settings->failure_mode;

  OutagePolicy service;
  EndTransactionRetry policy(service, hive::milter::kMaxPendingReleases);
  FakeActions mta;
  int next_id = 0;
  Session session(settings, policy, [&next_id] { return "tx" + std::to_string(next_id++); });
  std::map<std::string, TxModel> txs;

  auto end_open = [&](const std::string& tx) {
    if (!tx.empty()) txs[tx].ended = true;
  };
  auto check_refusal = [&](Status st, std::size_t replies_before) {
    if (st == Status::kTempfail || st == Status::kReject) {
      Check(mta.replies.size() == replies_before + 1);
      Check(mta.replies.back().code.size() == 3 && mta.replies.back().code[0] == (st == Status::kTempfail ? '4' : '5'));
    } else {
      Check(mta.replies.size() == replies_before);
    }
  };

  while (in.remaining_bytes() > 0) {
    service.sender_answers.clear();
    service.recipient_answers.clear();
    service.message_answers.clear();
    const std::string tx = session.transaction_id();
    const std::size_t replies = mta.replies.size();
    switch (in.ConsumeIntegralInRange(0, 11)) {
      case 0: {  // connect: AF_INET, AF_INET6, AF_UNIX or none, and macros
        sockaddr_storage ss{};
        const int family = in.ConsumeIntegralInRange(0, 3);
        const std::string raw = in.ConsumeBytesAsString(16);
        if (family == 1) {
          auto* a = reinterpret_cast<sockaddr_in*>(&ss);
          a->sin_family = AF_INET;
          std::memcpy(&a->sin_addr, raw.data(), std::min(raw.size(), sizeof(a->sin_addr)));
        } else if (family == 2) {
          auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
          a->sin6_family = AF_INET6;
          std::memcpy(&a->sin6_addr, raw.data(), std::min(raw.size(), sizeof(a->sin6_addr)));
        } else if (family == 3) {
          ss.ss_family = AF_UNIX;
        }
        mta.macros["{client_addr}"] = in.ConsumeRandomLengthString(64);
        mta.macros["{daemon_addr}"] = in.ConsumeRandomLengthString(64);
        const std::string host = in.ConsumeRandomLengthString(64);
        check_refusal(session.OnConnect(mta, host, family == 0 ? nullptr : reinterpret_cast<sockaddr*>(&ss)), replies);
        end_open(tx);
        Check(!session.in_transaction());
        Check(session.connection().client_address().size() <= kMaxFieldBytes);
        break;
      }
      case 1:
        check_refusal(session.OnHelo(mta, in.ConsumeRandomLengthString(64)), replies);
        break;
      case 2: {  // MAIL
        const auto answer = Answer(in);
        service.sender_answers.push_back(answer);
        const std::size_t asked = service.sender_requests.size();
        const Status st = session.OnEnvFrom(mta, Args(in));
        check_refusal(st, replies);
        end_open(tx);
        Check(service.sender_requests.size() == asked + 1);
        const pb::Address& a = service.sender_requests.back().transaction().sender();
        Check(a.address().size() <= kMaxFieldBytes && a.esmtp_params_size() <= kMaxEsmtpArgs);
        for (const std::string& p : a.esmtp_params()) Check(p.size() <= kMaxFieldBytes);
        Check(session.in_transaction() == (st == Status::kContinue));
        break;
      }
      case 3: {  // RCPT
        const auto answer = Answer(in);
        service.recipient_answers.push_back(answer);
        const std::size_t asked = service.recipient_requests.size();
        check_refusal(session.OnEnvRcpt(mta, Args(in)), replies);
        if (tx.empty()) {
          Check(service.recipient_requests.size() == asked);  // nothing to ask outside a transaction
        } else {
          Check(service.recipient_requests.size() == asked + 1);
          const pb::Address& a = service.recipient_requests.back().recipient();
          Check(a.address().size() <= kMaxFieldBytes && a.esmtp_params_size() <= kMaxEsmtpArgs);
          if (!answer.ok() || !Refused(answer, Stage::kRecipient, mode)) txs[tx].reserved = true;
        }
        break;
      }
      case 4:
        check_refusal(session.OnData(mta), replies);
        break;
      case 5:
        check_refusal(session.OnHeader(mta, in.ConsumeRandomLengthString(32), in.ConsumeRandomLengthString(128)),
                      replies);
        break;
      case 6:
        check_refusal(session.OnEndOfHeaders(mta), replies);
        break;
      case 7:
        check_refusal(session.OnBody(mta, in.ConsumeRandomLengthString(200)), replies);
        break;
      case 8: {  // end of message
        const auto answer = Answer(in);
        service.message_answers.push_back(answer);
        const std::size_t asked = service.message_requests.size();
        mta.fail_edits = in.ConsumeIntegralInRange(0, 7) == 0;
        const Status st = session.OnEndOfMessage(mta);
        mta.fail_edits = false;
        check_refusal(st, replies);
        if (!tx.empty()) {
          Check(service.message_requests.size() == asked + 1);
          const pb::MessageRequest& r = service.message_requests.back();
          Check(static_cast<uint64_t>(r.headers_size()) <= settings->max_headers);
          uint64_t header_bytes = 0;
          for (const auto& h : r.headers()) header_bytes += h.name().size() + h.value().size();
          Check(header_bytes <= settings->max_header_bytes);
          Check(r.body().size() <= settings->max_body_bytes && r.body().size() <= r.body_size());
          TxModel& m = txs[tx];
          if (answer.ok()) m.verdict = true;
          if (!answer.ok() && st == Status::kContinue) m.accepted_unchecked = true;
          end_open(tx);
        }
        Check(!session.in_transaction());
        break;
      }
      case 9:
        session.OnAbort(mta);
        end_open(tx);
        Check(!session.in_transaction());
        break;
      case 10:
        session.OnClose(mta);
        end_open(tx);
        Check(!session.in_transaction());
        break;
      case 11: {  // the MTA's per-stage macros change
        const int which = in.ConsumeIntegralInRange(0, 3);
        const char* names[] = {"i", "{auth_authen}", "{auth_author}", "{client_port}"};
        mta.macros[names[which]] = in.ConsumeRandomLengthString(in.ConsumeBool() ? 2000 : 32);
        break;
      }
    }
  }
  // The connection goes away, as libmilter's close would end it.
  const std::string tx = session.transaction_id();
  session.OnClose(mta);
  end_open(tx);

  // The service comes back: the next answers carry every kept release.
  service.down = false;
  for (int i = 0; i < 1000 && policy.pending() > 0; ++i) Check(policy.CheckSender({}).ok());
  Check(policy.pending() == 0);
  for (const auto& [id, m] : txs) {
    Check(m.ended);
    if (m.reserved && !m.verdict && !m.accepted_unchecked) Check(service.released[id] == 1);
    Check(service.released[id] <= 1);
  }
  return 0;
}
