// The bulk-sender compliance gate: what Gmail, Yahoo and Outlook require of
// bulk and marketing mail (field.md §1.9) that can be checked before the
// mail leaves the platform:
//
//   BULK_NO_LIST_UNSUBSCRIBE    no List-Unsubscribe with an https: or mailto: URI
//   BULK_NO_HTTPS_UNSUBSCRIBE   only mailto: (require_one_click: the providers
//                               ask for RFC 8058 one-click, which needs https)
//   BULK_NO_ONE_CLICK_POST      an https: URI without "List-Unsubscribe-Post:
//                               List-Unsubscribe=One-Click" (RFC 8058 §3.1)
//   BULK_FROM_NOT_ALIGNED       From's organisational domain is neither the
//                               envelope sender's, the account's nor a DKIM d=
//   BULK_NO_DKIM_SIGNATURE      no DKIM-Signature (require_dkim_signature: the
//                               platform signs before the milter)
//   BULK_DKIM_NOT_ALIGNED       DKIM-Signatures, none with d= aligned with From
//   BULK_DKIM_UNSUB_UNSIGNED    one-click offered, but no aligned signature's h=
//                               covers List-Unsubscribe and List-Unsubscribe-Post
//                               (RFC 8058 §4: receivers then SHOULD NOT offer it)
//   BULK_NO_MESSAGE_ID, BULK_NO_DATE, BULK_NOT_ONE_FROM   RFC 5322 basics
//   BULK_BY_MARKER              (fact, weight 0) no class, but Precedence:
//                               bulk/list/junk or List-Id marks the mail as bulk
//
// A message is gated when its class (Envelope::message_class) is one of
// `classes`, or, with `bulk_markers`, when it has no class and carries a
// bulk marker. Transactional mail is never gated (one-time codes and
// receipts are exempt from one-click unsubscribe).
//
// Contract: CheckCompliance() reads only its arguments and returns the
// failing requirements (each at most once, with a detail for the operator),
// empty when the message is not gated. The scorer weighs them and applies
// the gate's action.
//
// Thread-safety: pure functions over immutable data.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "content/checks.h"
#include "content/envelope.h"
#include "content/parser.h"

namespace hive::policy::content {

struct ComplianceOptions {
  bool enabled = false;
  std::set<std::string> classes = {"marketing", "bulk"};  // lower case
  bool bulk_markers = true;
  bool require_one_click = true;
  bool require_dkim_signature = false;
  // true: a failing requirement with a weight above 0 refuses the message
  // (550 5.7.1 naming it); false: the symbols only add to the score.
  bool reject = true;
};

// Every compliance symbol with its default weight and the requirement it
// names (the text of the refusal).
const std::vector<BuiltinSymbol>& ComplianceSymbols();

std::vector<Finding> CheckCompliance(const ParsedMessage& parsed, const Envelope& envelope,
                                     const ComplianceOptions& options);

}  // namespace hive::policy::content
