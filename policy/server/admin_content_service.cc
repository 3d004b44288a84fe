// AdminService handlers over the content engine's learned signals (Learn,
// Add/RemoveFingerprint) and the live decision stream (TailDecisions). The
// class and its contract: admin_service.h.
#include <optional>

#include "absl/strings/str_cat.h"
#include "admin/learning.h"
#include "content/message.h"
#include "server/admin_handler.h"
#include "server/admin_service.h"
#include "server/decision_bus.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::server {
namespace {

namespace av1 = hive::admin::v1;

constexpr std::size_t kDefaultTailQueue = 256;
// How often a waiting stream looks whether its client went away.
constexpr auto kTailPoll = std::chrono::milliseconds(200);

grpc::Status NotConfigured(const char* what) {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, absl::StrCat(what, " is not enabled in this policy"));
}

// For the audit line: which message was learned, without its content.
std::string Describe(const std::string& eml) {
  const content::Message m = content::SplitRawMessage(eml);
  const std::string* id = content::FindHeader(m, "Message-ID");
  return absl::StrCat("message-id=", id == nullptr ? "-" : hive::log::Sanitize(*id, 128), " bytes=", eml.size());
}

bool KnownAction(const std::string& a) {
  for (const char* known : {"continue", "tempfail", "reject", "discard", "quarantine", "error"}) {
    if (a == known) return true;
  }
  return false;
}

}  // namespace

grpc::Status AdminServiceImpl::Learn(grpc::ServerContext* ctx, const av1::LearnRequest* request,
                                     av1::LearnReply* reply) {
  return Guard([&] {
    if (request->eml().empty()) return Invalid("eml: required");
    const config::SnapshotPtr snapshot = config_.Get();
    const std::shared_ptr<content::Classifier>& classifier = snapshot->content.classifier();
    if (classifier == nullptr) return NotConfigured("content.bayes");
    absl::StatusOr<admin::LearnOutcome> o = admin::LearnMessage(*classifier, request->eml(), request->is_spam(), context_.shared_model);
    if (!o.ok()) return ToGrpc(o.status());
    reply->set_spam_learns(o->spam_learns);
    reply->set_ham_learns(o->ham_learns);
    reply->set_tokens(o->tokens);
    reply->set_saved(o->saved);
    return ToGrpc(repository_.Audit(Actor(request->actor(), ctx), request->is_spam() ? "learn-spam" : "learn-ham",
                                    Describe(request->eml())));
  });
}

absl::StatusOr<std::uint64_t> AdminServiceImpl::FingerprintOf(const av1::FingerprintRequest& request,
                                                              const config::PolicySnapshot& snapshot) const {
  if (!request.fingerprint().empty()) return admin::ParseFingerprint(request.fingerprint());
  if (request.eml().empty()) return absl::InvalidArgumentError("eml or fingerprint: one is required");
  // The scorer's own threshold, from the policy it was built from.
  std::size_t min_tokens = content::FingerprintSymbols{}.min_tokens;
  if (absl::StatusOr<admin::PolicyText> text = repository_.Current(); text.ok()) {
    hive::config::v1::PolicyConfig config;
    if (hive::config::YamlToProto(text->yaml, "policy", config).ok() && config.content().fingerprints().min_tokens() > 0) {
      min_tokens = config.content().fingerprints().min_tokens();
    }
  }
  return admin::FingerprintOfMessage(request.eml(), min_tokens, snapshot.content.limits());
}

grpc::Status AdminServiceImpl::EditFingerprint(grpc::ServerContext* ctx, const av1::FingerprintRequest& request,
                                               bool add, av1::FingerprintReply& reply) {
  const config::SnapshotPtr snapshot = config_.Get();
  const std::shared_ptr<content::FingerprintStore>& store = snapshot->content.fingerprints();
  if (store == nullptr) return NotConfigured("content.fingerprints");
  absl::StatusOr<std::uint64_t> fp = FingerprintOf(request, *snapshot);
  if (!fp.ok()) return ToGrpc(fp.status());
  absl::StatusOr<admin::FingerprintOutcome> o =
      add ? admin::AddFingerprint(*store, *fp, request.label(), context_.shared_fingerprints)
          : admin::RemoveFingerprint(*store, *fp, context_.shared_fingerprints);
  if (!o.ok()) return ToGrpc(o.status());
  reply.set_fingerprint(admin::FormatFingerprint(*fp));
  reply.set_changed(o->changed);
  reply.set_stored(o->stored);
  reply.set_saved(o->saved);
  if (!o->changed) return grpc::Status::OK;  // nothing removed: nothing to audit
  std::string detail = absl::StrCat("fingerprint=", reply.fingerprint());
  if (add) absl::StrAppend(&detail, " label=", hive::log::Sanitize(request.label(), 64));
  if (!request.eml().empty()) absl::StrAppend(&detail, " ", Describe(request.eml()));
  return ToGrpc(repository_.Audit(Actor(request.actor(), ctx), add ? "fingerprint-add" : "fingerprint-remove", detail));
}

grpc::Status AdminServiceImpl::AddFingerprint(grpc::ServerContext* ctx, const av1::FingerprintRequest* request,
                                              av1::FingerprintReply* reply) {
  return Guard([&] { return EditFingerprint(ctx, *request, /*add=*/true, *reply); });
}

grpc::Status AdminServiceImpl::RemoveFingerprint(grpc::ServerContext* ctx, const av1::FingerprintRequest* request,
                                                 av1::FingerprintReply* reply) {
  return Guard([&] { return EditFingerprint(ctx, *request, /*add=*/false, *reply); });
}

grpc::Status AdminServiceImpl::TailDecisions(grpc::ServerContext* ctx, const av1::TailRequest* request,
                                             grpc::ServerWriter<av1::Decision>* writer) {
  return Guard([&] {
    if (context_.decisions == nullptr) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no decision stream");
    if (!request->action().empty() && !KnownAction(request->action())) {
      return Invalid("action: continue, tempfail, reject, discard, quarantine or error");
    }
    std::unique_ptr<DecisionBus::Subscription> sub = context_.decisions->Subscribe(
        DecisionFilter{.sender = request->sender(), .action = request->action(), .pool = request->pool()},
        request->queue() == 0 ? kDefaultTailQueue : request->queue());
    // Subscribed: the initial metadata tells the client that every
    // decision from now on will reach it.
    writer->SendInitialMetadata();
    while (!ctx->IsCancelled()) {
      std::optional<av1::Decision> d = sub->Next(kTailPoll);
      if (!d) {
        if (sub->closed()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "hive-policyd is shutting down");
        continue;
      }
      // Blocks this stream's thread only; meanwhile its queue fills and drops.
      if (!writer->Write(*d)) break;  // the client went away
    }
    return grpc::Status::OK;
  });
}

}  // namespace hive::policy::server
