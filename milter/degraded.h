// Degraded mode by message class: what the milter does with a message when
// the policy service gave no usable verdict, by the message's class (the
// value of the configured class header). Pure decisions; the lease table
// (lease_table.h) holds the allowance, Session asks and applies.
//
//   tempfail             451 4.7.1, the client retries
//   accept               deliver, marked "unchecked" (explicit fail-open)
//   lease_then_tempfail  deliver, marked "lease", while the sender holds a
//                        valid lease for the class (one unit per
//                        recipient), else 451 4.7.1
//
// A class without an entry, and a message without a class, get the
// milter's `failure_mode`. The class is known only once the headers are in:
// at MAIL and RCPT a failed policy call lets the transaction go on when
// some class could still be delivered (MayDecideAtEnd); end of message
// decides.
//
// Thread-safety: immutable values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hive/policy/v1/policy.pb.h"
#include "milter/decision.h"

namespace hive::milter {

enum class ClassMode { kTempfail, kAccept, kLeaseThenTempfail };
std::string_view ClassModeName(ClassMode mode);

struct ClassFailureModes {
  // "" when no class is configured (then every message has no class).
  std::string class_header;
  // Lower-case class -> mode; a class at most once.
  std::vector<std::pair<std::string, ClassMode>> modes;

  ClassMode For(std::string_view message_class, FailureMode fallback) const;
  // Whether, when the policy fails before end of message, some message of
  // this sender could still be delivered: the fallback or a class accepts,
  // or a class leases and `has_lease`.
  bool MayDecideAtEnd(FailureMode fallback, bool has_lease) const;
  bool any_lease() const;
};

// The class of a message: the value of the first header named
// `class_header` (any case), trimmed and lower-cased; "" without one.
std::string MessageClassOf(const google::protobuf::RepeatedPtrField<hive::policy::v1::Header>& headers,
                           std::string_view class_header);

// The decision for a message whose policy call failed (`failure`: why),
// given its class's mode and whether a lease unit was spent for it. A
// lease-mode message without a lease is tempfailed.
Decision DegradedDecision(ClassMode mode, bool lease_spent, std::string failure);

}  // namespace hive::milter
