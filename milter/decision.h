// Turns the policy service's answer (or its failure) into what the milter
// does at one SMTP stage: the single place where a verdict becomes an SMTP
// reply, so every rule about failure modes and reply validation lives here.
//
// Usage: Decision d = Decide(client.CheckRecipient(req), Stage::kRecipient,
// FailureMode::kTempfail); then Session applies d through Actions.
//
// Everything coming from the verdict is validated: a reply code must be three
// digits whose class matches the action, the enhanced code must match the
// class, text lines are stripped of control characters, bounded to 32 lines
// and have '%' escaped for libmilter; header names, the pool and a new sender
// are checked. A verdict that fails validation, ACTION_UNSPECIFIED or an
// unknown action is treated like an unreachable service (the failure mode).
//
// Discard and quarantine are only possible at end of message in libmilter.
// When the policy asks for one at MAIL or RCPT, the stage continues and the
// request is carried as `deferred`, to be applied at end of message unless the
// final verdict refuses the message (see Session). We do not tempfail it: a
// deterministic verdict answered with 4xx would loop in the client's queue.
// Header edits, pool and new sender are only honoured at end of message.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "hive/policy/v1/policy.pb.h"

namespace hive::milter {

enum class Stage { kSender, kRecipient, kMessage };
std::string_view StageName(Stage stage);

// What to do when the policy service cannot give a usable verdict.
enum class FailureMode { kTempfail, kAccept };
std::string_view FailureModeName(FailureMode mode);

enum class Disposition { kContinue, kTempfail, kReject, kDiscard, kQuarantine };
std::string_view DispositionName(Disposition disposition);

struct SmtpReply {
  std::string code;           // "451"
  std::string enhanced_code;  // "4.7.1"
  // Safe for libmilter: printable ASCII, '%' doubled, 1..kMaxReplyLines.
  std::vector<std::string> lines;
};

struct HeaderEdit {
  enum class Op { kAdd, kInsert, kChange, kDelete };
  Op op = Op::kAdd;
  std::string name;
  std::string value;
  uint32_t index = 0;
};

struct NewSender {
  std::string address;  // without angle brackets, never empty
  std::string esmtp_args;  // space separated, may be empty
};

struct Decision {
  Disposition disposition = Disposition::kContinue;
  // Set exactly when disposition is kTempfail or kReject.
  std::optional<SmtpReply> reply;
  // Only at Stage::kMessage.
  std::vector<HeaderEdit> header_edits;
  // The pool mark: "<pool>", or "<pool>/<member>" when the verdict names one.
  std::string pool;
  // The member alone ("" without one), for the sender tag (sender_tag.h).
  std::string pool_member;
  std::optional<NewSender> new_sender;
  std::string quarantine_reason;  // kQuarantine or deferred kQuarantine
  // kDiscard / kQuarantine requested before end of message; otherwise kContinue.
  Disposition deferred = Disposition::kContinue;
  // The policy gave no usable verdict and the failure mode decided.
  bool policy_failed = false;
  // Failure mode accept let the stage pass without a decision: the message
  // must carry the unchecked header.
  bool unchecked = false;
  // Why the policy failed ("rpc UNAVAILABLE: ...", "invalid verdict: ..."),
  // for logs; untrusted, sanitise before logging.
  std::string failure;
};

inline constexpr std::size_t kMaxReplyLines = 32;      // smfi_setmlreply's limit
inline constexpr std::size_t kMaxReplyLineBytes = 400;  // before '%' escaping
inline constexpr std::size_t kMaxHeaderEdits = 64;
inline constexpr std::size_t kMaxHeaderNameBytes = 128;
inline constexpr std::size_t kMaxHeaderValueBytes = 8192;
inline constexpr std::size_t kMaxPoolBytes = 64;
inline constexpr std::size_t kMaxAddressBytes = 512;
inline constexpr std::size_t kMaxEsmtpParams = 16;
inline constexpr std::size_t kMaxQuarantineReasonBytes = 256;

// The reply used when the failure mode refuses.
inline constexpr std::string_view kUnavailableText = "policy service unavailable, try again later";

Decision Decide(const absl::StatusOr<hive::policy::v1::Verdict>& verdict, Stage stage, FailureMode mode);

// The decision of the failure mode alone ("policy failed because `why`").
Decision FailureDecision(FailureMode mode, std::string why);

// Exposed for tests and for Session's own replies.
// Printable ASCII only (controls, CR, LF become spaces, non-ASCII '?'),
// cut at kMaxReplyLineBytes, then '%' doubled.
std::string SanitizeReplyLine(std::string_view line);
// True for a field name libmilter and RFC 5322 accept: 1..128 bytes of
// printable ASCII without ':'.
bool IsValidHeaderName(std::string_view name);
// ASCII case-insensitive equality (header names, "IPv6:"). Takes
// std::string_view: absl::EqualsIgnoreCase takes absl::string_view, which
// is not std::string_view in Debian's abseil.
bool SameName(std::string_view a, std::string_view b);
// Controls other than TAB become spaces (no CR/LF can reach the MTA).
std::string SanitizeHeaderValue(std::string_view value);
// [A-Za-z0-9._-]{1,64}: a pool name goes into a header the MTA routes on.
bool IsValidPoolName(std::string_view pool);

}  // namespace hive::milter
