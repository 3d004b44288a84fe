#include "server/decision_event.h"

#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::server {

namespace v1 = hive::policy::v1;

const char* ActionName(v1::Action a) {
  switch (a) {
    case v1::ACTION_CONTINUE: return "continue";
    case v1::ACTION_TEMPFAIL: return "tempfail";
    case v1::ACTION_REJECT: return "reject";
    case v1::ACTION_DISCARD: return "discard";
    case v1::ACTION_QUARANTINE: return "quarantine";
    default: return "unspecified";
  }
}

hive::admin::v1::Decision MakeDecision(const DecisionContext& c, const v1::Verdict& v, const grpc::Status& status) {
  hive::admin::v1::Decision d;
  d.set_decision_id(v.decision_id());
  d.set_rpc(std::string(c.rpc));
  d.set_time_unix_ms(c.time_unix_ms);
  d.set_latency_us(c.latency_us);
  if (c.transaction != nullptr) {
    const v1::Transaction& t = *c.transaction;
    // Client-supplied text: bounded like the decision log line.
    d.set_transaction_id(hive::log::Sanitize(t.id(), 64));
    d.set_queue_id(hive::log::Sanitize(t.queue_id(), 32));
    d.set_sender(hive::log::Sanitize(t.sender().address(), 128));
    d.set_client_address(hive::log::Sanitize(t.connection().client_address(), 64));
    d.set_sasl_user(hive::log::Sanitize(t.connection().sasl().login(), 128));
  }
  if (c.recipient != nullptr) d.add_recipients(hive::log::Sanitize(c.recipient->address(), 128));
  if (c.recipients != nullptr) {
    for (const v1::Address& r : *c.recipients) d.add_recipients(hive::log::Sanitize(r.address(), 128));
  }
  if (!status.ok()) {
    d.set_action("error");
    d.set_error(absl::StrCat(status.error_code(), " ", hive::log::Sanitize(status.error_message(), 200)));
    return d;
  }
  d.set_action(ActionName(v.action()));
  if (v.has_reply()) d.set_reply(absl::StrCat(v.reply().code(), " ", v.reply().enhanced_code()));
  d.set_score(v.score());
  for (const v1::Symbol& s : v.symbols()) d.add_symbols(s.name());
  d.set_pool(v.pool());
  d.set_pool_member(v.pool_member());
  return d;
}

}  // namespace hive::policy::server
