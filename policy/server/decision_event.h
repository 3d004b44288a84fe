// One PolicyService decision as the admin API's live stream shows it
// (hive.admin.v1.Decision): who sent what, the action, reply, score,
// symbols and pool, or the error the MTA got instead. Built only when a
// stream is open (DecisionBus::HasSubscribers).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "hive/admin/v1/admin.pb.h"
#include "hive/policy/v1/policy.pb.h"

namespace hive::policy::server {

// "continue", "tempfail", "reject", "discard", "quarantine", "unspecified":
// the decision log's and the stream's (and its filter's) action names.
const char* ActionName(hive::policy::v1::Action action);

struct DecisionContext {
  std::string_view rpc;  // "CheckSender", "CheckRecipient", "CheckMessage"
  const hive::policy::v1::Transaction* transaction = nullptr;
  // The recipient of a CheckRecipient, or every recipient of a CheckMessage.
  const google::protobuf::RepeatedPtrField<hive::policy::v1::Address>* recipients = nullptr;
  const hive::policy::v1::Address* recipient = nullptr;
  std::int64_t time_unix_ms = 0;
  std::int64_t latency_us = 0;
};

// action "error" (and the status) when the RPC failed.
hive::admin::v1::Decision MakeDecision(const DecisionContext& context, const hive::policy::v1::Verdict& verdict,
                                       const grpc::Status& status);

}  // namespace hive::policy::server
