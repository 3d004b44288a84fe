#include "server/admin_convert.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "content/message.h"

namespace hive::policy::server {
namespace pv1 = hive::policy::v1;

pv1::MessageRequest MessageFromDryRun(const hive::admin::v1::DryRunRequest& request) {
  pv1::MessageRequest out;
  pv1::Transaction* txn = out.mutable_transaction();
  // Never reaches the store (a dry-run only peeks); unique anyway.
  txn->set_id(absl::StrCat("dry-run-", std::chrono::steady_clock::now().time_since_epoch().count()));
  txn->mutable_sender()->set_address(request.sender());
  txn->mutable_connection()->set_client_address(request.client_ip().empty() ? "127.0.0.1" : request.client_ip());
  txn->mutable_connection()->set_helo(request.helo());
  if (!request.sasl_user().empty()) txn->mutable_connection()->mutable_sasl()->set_login(request.sasl_user());
  for (const std::string& r : request.recipients()) out.add_recipients()->set_address(r);

  // Split as the content engine splits raw messages (folds kept, as the
  // milter forwards them).
  content::Message m = content::SplitRawMessage(request.eml());
  for (content::Header& h : m.headers) {
    pv1::Header* out_h = out.add_headers();
    out_h->set_name(std::move(h.name));
    out_h->set_value(std::move(h.value));
  }
  std::string body = std::move(m.body);
  out.set_body_size(body.size());
  out.set_body(std::move(body));
  return out;
}

void AddCounters(const ratelimit::LimitDecision& decision, hive::admin::v1::CountersReply& reply) {
  for (const ratelimit::WindowStatus& w : decision.windows) {
    hive::admin::v1::WindowCounter* c = reply.add_windows();
    c->set_limit(w.rule);
    c->set_key(w.key);
    c->set_window(w.window);
    c->set_capacity(w.limit);
    c->set_remaining(w.remaining);
    c->set_used(std::max<std::int64_t>(0, static_cast<std::int64_t>(w.limit) - w.remaining));
    c->set_reset_at_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(w.reset_at).count());
  }
}

void AccessToProto(const AccessSettings& settings, hive::admin::v1::AdminAccess& out) {
  for (const AccessSettings::Token& t : settings.tokens) {
    auto* e = out.add_tokens();
    e->set_name(t.name);
    e->set_role(RoleName(t.role));
  }
  for (const auto& [name, role] : settings.principals) {
    auto* e = out.add_principals();
    e->set_name(name);
    e->set_role(RoleName(role));
  }
  out.set_local_role(RoleName(settings.plaintext ? settings.local_role : Role::kNone));
}

}  // namespace hive::policy::server
