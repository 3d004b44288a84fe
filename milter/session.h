// The state of one MTA connection to the milter and of the message
// transaction in progress, and the stage logic: ask the policy service at
// MAIL, each RCPT and end of message, then apply the Decision through Actions.
//
// Stages the policy does not decide at (stage_plan.h) are not asked: MAIL
// and RCPT then just record the sender and recipient for end of message.
//
// Connection state (client address, HELO, TLS, SASL, daemon macros) lives as
// long as the Session. Message state (transaction id, sender, accepted
// recipients, headers, body) starts at MAIL and ends at end of message, at
// abort (RSET, MTA error) or at a refusal at MAIL; a new MAIL always starts
// clean. Rate-limit reservations made by CheckRecipient are released with
// EndTransaction when a transaction ends without a message verdict.
//
// Usage (callbacks.cc): one Session per connection, stored with smfi_setpriv;
// each xxfi_* calls the matching On* with a LibmilterActions, and maps the
// returned Status to SMFIS_*. Tests drive it with fakes.
//
// Degraded mode (degraded.h): when the policy fails at MAIL or RCPT and
// some class of the sender could still be delivered, the transaction goes
// on and end of message decides by the message's class, spending a lease
// of the shared LeaseTable where the class's mode says so. A delivered
// verdict's lease is stored there; after a successful CheckSender the
// usage spent meanwhile is reported (lease_report.h).
//
// Thread-safety: not thread-safe; libmilter runs the callbacks of one
// connection one at a time. The PolicyClient and LeaseTable are shared and
// thread-safe.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hive/policy/v1/policy.pb.h"
#include "milter/actions.h"
#include "milter/config.h"
#include "milter/decision.h"
#include "milter/lease_table.h"
#include "milter/policy_client.h"
#include "milter/stage_plan.h"

namespace hive::milter {

// Per-stage outcome, mapped 1:1 to SMFIS_* by callbacks. There is no
// "accept": accepting a whole message from a stage callback would skip our
// later stages (and trips Postfix bug 20260803), so we always continue.
enum class Status { kContinue, kTempfail, kReject, kDiscard };

// "IPv6:2001:db8::1" -> "2001:db8::1", "::ffff:192.0.2.1" -> "192.0.2.1",
// "[192.0.2.1]" -> "192.0.2.1"; IPv6 re-written in canonical form. Text that
// is not an address is returned as given (minus the prefix / brackets).
std::string NormaliseAddress(std::string_view address);
// The same for a socket address; port in host order, "" for AF_UNIX/unknown.
std::string SockaddrToString(const sockaddr* addr, uint16_t* port);

class Session {
 public:
  using IdGenerator = std::function<std::string()>;

  // `settings`, `policy`, `leases` and `stages` must outlive the Session.
  // `ids` makes transaction ids (default: 128 random bits in hex). Without
  // `leases` no lease is kept or spent; without `stages` every stage is
  // asked.
  Session(std::shared_ptr<const Settings> settings, PolicyClient& policy, IdGenerator ids = {},
          LeaseTable* leases = nullptr, StagePlan* stages = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Status OnConnect(Actions& mta, std::string_view hostname, const sockaddr* hostaddr);
  Status OnHelo(Actions& mta, std::string_view helo);
  Status OnEnvFrom(Actions& mta, const std::vector<std::string>& argv);
  Status OnEnvRcpt(Actions& mta, const std::vector<std::string>& argv);
  Status OnData(Actions& mta);
  Status OnHeader(Actions& mta, std::string_view name, std::string_view value);
  Status OnEndOfHeaders(Actions& mta);
  Status OnBody(Actions& mta, std::string_view chunk);
  Status OnEndOfMessage(Actions& mta);
  void OnAbort(Actions& mta);
  void OnClose(Actions& mta);

  // Read-only views for tests and logs.
  const hive::policy::v1::Connection& connection() const { return connection_; }
  bool in_transaction() const { return message_ != nullptr; }
  const std::string& transaction_id() const;  // "" outside a transaction
  const std::string& queue_id() const;        // "" outside a transaction

 private:
  struct Message;

  void UpdateQueueId(Actions& mta);
  // Follows the stages an answering service decides at.
  void Learn(const absl::StatusOr<hive::policy::v1::Verdict>& verdict);
  // Releases reservations of the current transaction if it made any, then
  // forgets the message.
  void EndMessage(hive::policy::v1::EndTransactionRequest::Reason reason);
  Status Refuse(Actions& mta, const Decision& decision);
  // A failed policy call at MAIL or RCPT becomes "continue" when end of
  // message may still deliver some class of this sender; true if so.
  bool DeferFailure(Decision& decision);
  // The policy failed at end of message: the decision of the message's
  // class (spending a lease unit when its mode says so).
  Decision DecideByClass(const hive::policy::v1::MessageRequest& request, std::string failure);
  Status ApplyEndOfMessage(Actions& mta, const Decision& decision);
  // The envelope sender to set at end of message: the verdict's new sender,
  // tagged with the pool member when sender_pool_tag is set; nullopt when
  // the sender stays as the client gave it.
  std::optional<NewSender> SenderToSet(const Decision& decision) const;
  void LogDecision(Stage stage, const Decision& decision, const absl::StatusOr<hive::policy::v1::Verdict>& verdict,
                   int64_t latency_ms, std::string_view extra) const;

  std::shared_ptr<const Settings> settings_;
  PolicyClient& policy_;
  IdGenerator ids_;
  LeaseTable* leases_;
  StagePlan* stages_;
  hive::policy::v1::Connection connection_;
  std::unique_ptr<Message> message_;
};

// 32 lowercase hex digits, unique within the process (a randomly started,
// mixed counter; see session.cc).
std::string RandomTransactionId();

}  // namespace hive::milter
