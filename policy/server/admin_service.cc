#include "server/admin_service.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "admin/policy_objects.h"
#include "server/admin_convert.h"
#include "server/admin_handler.h"
#include "server/convert.h"
#include "support/log.h"
#include "support/proto_to_yaml.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::server {
namespace {

namespace av1 = hive::admin::v1;
namespace pv1 = hive::policy::v1;

absl::StatusOr<admin::ObjectKind> KindOf(av1::ObjectKind kind) {
  switch (kind) {
    case av1::OBJECT_KIND_LIMIT: return admin::ObjectKind::kLimit;
    case av1::OBJECT_KIND_CONTENT_RULE: return admin::ObjectKind::kContentRule;
    case av1::OBJECT_KIND_POOL: return admin::ObjectKind::kPool;
    default: return absl::InvalidArgumentError("ref.kind: must be limit, content rule or pool");
  }
}

void Fill(const admin::ApplyOutcome& o, av1::ApplyReply& reply) {
  reply.set_applied(o.applied);
  reply.set_version(o.version);
  reply.set_previous_version(o.previous_version);
  for (const std::string& c : o.changes) reply.add_changes(c);
}

// The object of `object`'s oneof and its name; nullptr when unset.
const google::protobuf::Message* Payload(const av1::PolicyObject& object, std::string& name) {
  switch (object.object_case()) {
    case av1::PolicyObject::kLimit: name = object.limit().name(); return &object.limit();
    case av1::PolicyObject::kContentRule: name = object.content_rule().name(); return &object.content_rule();
    case av1::PolicyObject::kPool: name = object.pool().name(); return &object.pool();
    default: return nullptr;
  }
}

void SetPayload(admin::ObjectKind kind, const google::protobuf::Message& m, av1::PolicyObject& out) {
  switch (kind) {
    case admin::ObjectKind::kLimit: out.mutable_limit()->CopyFrom(m); break;
    case admin::ObjectKind::kContentRule: out.mutable_content_rule()->CopyFrom(m); break;
    case admin::ObjectKind::kPool: out.mutable_pool()->CopyFrom(m); break;
  }
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(config::SnapshotHolder& config, admin::PolicyRepository& repository,
                                   ratelimit::Limiter& limiter, AdminContext context)
    : config_(config), repository_(repository), limiter_(limiter), context_(std::move(context)) {}

grpc::Status AdminServiceImpl::GetPolicy(grpc::ServerContext*, const av1::GetPolicyRequest*,
                                         av1::PolicyDocument* doc) {
  return Guard([&] {
    absl::StatusOr<admin::PolicyText> current = repository_.Current();
    if (!current.ok()) return ToGrpc(current.status());
    doc->set_version(current->version);
    doc->set_yaml(current->yaml);
    // The file may have been edited by hand since: parse what we can.
    hive::config::YamlToProto(current->yaml, "policy", *doc->mutable_config()).IgnoreError();
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::ValidatePolicy(grpc::ServerContext* ctx, const av1::ApplyPolicyRequest* request,
                                              av1::ApplyReply* reply) {
  return Guard([&] {
    absl::StatusOr<admin::ApplyOutcome> o =
        repository_.Apply(request->yaml(), "", Actor(request->actor(), ctx), "validate", /*validate_only=*/true);
    if (!o.ok()) return ToGrpc(o.status());
    Fill(*o, *reply);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::ApplyPolicy(grpc::ServerContext* ctx, const av1::ApplyPolicyRequest* request,
                                           av1::ApplyReply* reply) {
  return Guard([&] {
    if (request->expected_version().empty()) return Invalid("expected_version: required (see GetPolicy)");
    absl::StatusOr<admin::ApplyOutcome> o = repository_.Apply(request->yaml(), request->expected_version(),
                                                              Actor(request->actor(), ctx), "apply", false);
    if (!o.ok()) return ToGrpc(o.status());
    Fill(*o, *reply);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::GetObject(grpc::ServerContext*, const av1::ObjectRef* ref, av1::PolicyObject* out) {
  return Guard([&] {
    absl::StatusOr<admin::ObjectKind> kind = KindOf(ref->kind());
    if (!kind.ok()) return ToGrpc(kind.status());
    absl::StatusOr<admin::PolicyText> current = repository_.Current();
    if (!current.ok()) return ToGrpc(current.status());
    hive::config::v1::PolicyConfig config;
    if (absl::Status s = hive::config::YamlToProto(current->yaml, "policy", config); !s.ok()) return ToGrpc(s);
    const google::protobuf::Message* found = admin::FindObject(config, *kind, ref->name());
    if (found == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no ", std::string(admin::KindName(*kind)), " named '",
                                                                    ref->name(), "'"));
    }
    *out->mutable_ref() = *ref;
    out->set_version(admin::ObjectVersion(*found));
    out->set_policy_version(current->version);
    SetPayload(*kind, *found, *out);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::EditObject(const av1::ObjectRef& ref, const google::protobuf::Message* replacement,
                                          const std::string& expected_version, const std::string& actor,
                                          bool validate_only, av1::ApplyReply& reply) {
  absl::StatusOr<admin::ObjectKind> kind = KindOf(ref.kind());
  if (!kind.ok()) return ToGrpc(kind.status());
  const std::string subject = absl::StrCat(std::string(admin::KindName(*kind)), " '", ref.name(), "'");
  // Under the repository's write lock: the object's version is checked
  // against the text the write is based on.
  auto edit = [&](const admin::PolicyText& current) -> absl::StatusOr<std::string> {
    hive::config::v1::PolicyConfig config;
    if (absl::Status s = hive::config::YamlToProto(current.yaml, "policy", config); !s.ok()) return s;
    const google::protobuf::Message* existing = admin::FindObject(config, *kind, ref.name());
    const std::string existing_version = existing == nullptr ? "" : admin::ObjectVersion(*existing);
    if (!validate_only && expected_version != existing_version) {
      // The object's own version: edits of other objects do not conflict.
      return admin::StaleVersion(expected_version, existing_version.empty() ? admin::kAbsent : existing_version,
                                 subject);
    }
    if (replacement != nullptr) {
      admin::PutObject(config, *kind, *replacement);
    } else if (!admin::DeleteObject(config, *kind, ref.name())) {
      return absl::NotFoundError(absl::StrCat("no ", subject));
    }
    return hive::config::ProtoToYaml(config);
  };
  absl::StatusOr<admin::ApplyOutcome> o =
      repository_.Edit(edit, actor, replacement != nullptr ? "apply-object" : "delete-object", validate_only);
  if (!o.ok()) return ToGrpc(o.status());
  Fill(*o, reply);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ApplyObject(grpc::ServerContext* ctx, const av1::ApplyObjectRequest* request,
                                           av1::ApplyReply* reply) {
  return Guard([&] {
    std::string name;
    const google::protobuf::Message* object = Payload(request->object(), name);
    if (object == nullptr) return Invalid("object: one of limit, content_rule, pool is required");
    if (name.empty()) return Invalid("object.name: required");
    av1::ObjectRef ref;
    ref.set_name(name);
    ref.set_kind(request->object().object_case() == av1::PolicyObject::kLimit          ? av1::OBJECT_KIND_LIMIT
                 : request->object().object_case() == av1::PolicyObject::kContentRule ? av1::OBJECT_KIND_CONTENT_RULE
                                                                                       : av1::OBJECT_KIND_POOL);
    return EditObject(ref, object, request->expected_version(), Actor(request->actor(), ctx),
                      request->validate_only(), *reply);
  });
}

grpc::Status AdminServiceImpl::DeleteObject(grpc::ServerContext* ctx, const av1::DeleteObjectRequest* request,
                                            av1::ApplyReply* reply) {
  return Guard([&] {
    if (request->expected_version().empty()) return Invalid("expected_version: required (see GetObject)");
    return EditObject(request->ref(), nullptr, request->expected_version(), Actor(request->actor(), ctx), false,
                      *reply);
  });
}

grpc::Status AdminServiceImpl::ListHistory(grpc::ServerContext*, const av1::HistoryRequest* request,
                                           av1::HistoryReply* reply) {
  return Guard([&] {
    absl::StatusOr<std::vector<av1::HistoryEntry>> h = repository_.History(request->limit() == 0 ? 50 : request->limit());
    if (!h.ok()) return ToGrpc(h.status());
    for (av1::HistoryEntry& e : *h) *reply->add_entries() = std::move(e);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::Rollback(grpc::ServerContext* ctx, const av1::RollbackRequest* request,
                                        av1::ApplyReply* reply) {
  return Guard([&] {
    if (request->version().empty()) return Invalid("version: required");
    if (request->expected_version().empty()) return Invalid("expected_version: required (see GetPolicy)");
    absl::StatusOr<admin::ApplyOutcome> o =
        repository_.Rollback(request->version(), request->expected_version(), Actor(request->actor(), ctx));
    if (!o.ok()) return ToGrpc(o.status());
    Fill(*o, *reply);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::GetCounters(grpc::ServerContext*, const av1::CountersRequest* request,
                                           av1::CountersReply* reply) {
  return Guard([&] {
    const config::SnapshotPtr snapshot = config_.Get();
    match::Facts facts;
    ratelimit::Limiter::PeekOptions options{.cost = 0};
    if (!request->limit().empty()) {
      if (request->key().empty()) return Invalid("key: required with limit");
      options.rule = request->limit();
      options.key = request->key();
    } else if (!request->sender().empty() || !request->sasl_user().empty()) {
      pv1::Transaction txn;
      txn.mutable_sender()->set_address(request->sender());
      if (!request->sasl_user().empty()) txn.mutable_connection()->mutable_sasl()->set_login(request->sasl_user());
      facts = FactsFromTransaction(txn);
    } else {
      return Invalid("either limit and key, or sender / sasl_user, are required");
    }
    absl::StatusOr<ratelimit::LimitDecision> d = limiter_.Peek(snapshot->limits, facts, options);
    if (!d.ok()) return ToGrpc(d.status());
    AddCounters(*d, *reply);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::AdjustCounters(grpc::ServerContext* ctx, const av1::AdjustCountersRequest* request,
                                              av1::CountersReply* reply) {
  return Guard([&] {
    if (request->limit().empty() || request->key().empty()) return Invalid("limit and key: required");
    if (!request->reset() && request->consume() <= 0) return Invalid("consume: must be positive (or reset)");
    const config::SnapshotPtr snapshot = config_.Get();
    const std::string actor = Actor(request->actor(), ctx);
    absl::StatusOr<std::vector<ratelimit::BucketOp>> ops =
        limiter_.BucketsOf(snapshot->limits, request->limit(), request->key(), match::Facts{});
    if (!ops.ok()) return ToGrpc(ops.status());
    const std::string what = absl::StrCat("limit=", request->limit(), " key=", request->key());
    if (request->reset()) {
      if (absl::Status s = context_.store->Reset(*ops); !s.ok()) return ToGrpc(s);
      if (absl::Status s = repository_.Audit(actor, "counters-reset", what); !s.ok()) return ToGrpc(s);
    } else {
      // Consumed through the ordinary path: reserve, then commit.
      ratelimit::ReserveRequest r{absl::StrCat("admin-adjust-", std::chrono::steady_clock::now().time_since_epoch().count()),
                                  "", *ops, std::chrono::seconds(30)};
      for (ratelimit::BucketOp& op : r.ops) op.cost = request->consume();
      absl::StatusOr<ratelimit::ReserveResult> taken = context_.store->Reserve(r);
      if (!taken.ok()) return ToGrpc(taken.status());
      if (!taken->allowed) {
        std::int64_t left = std::numeric_limits<std::int64_t>::max();
        for (const ratelimit::BucketResult& b : taken->buckets) {
          if (!b.allowed) left = std::min(left, b.remaining);
        }
        return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                            absl::StrCat("consume ", request->consume(), ": more than the windows have left",
                                         left == std::numeric_limits<std::int64_t>::max()
                                             ? ""
                                             : absl::StrCat(" (at most ", left, " now; counters reset forgets the bucket)")));
      }
      if (absl::StatusOr<int> c = context_.store->Commit(r.transaction); !c.ok()) return ToGrpc(c.status());
      if (absl::Status s = repository_.Audit(actor, "counters-adjust", absl::StrCat(what, " consume=", request->consume()));
          !s.ok()) {
        return ToGrpc(s);
      }
    }
    absl::StatusOr<ratelimit::LimitDecision> d =
        limiter_.Peek(snapshot->limits, {}, {.cost = 0, .rule = request->limit(), .key = request->key()});
    if (!d.ok()) return ToGrpc(d.status());
    AddCounters(*d, *reply);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::TopUsage(grpc::ServerContext*, const av1::TopUsageRequest* request,
                                        av1::TopUsageReply* reply) {
  return Guard([&] {
    if (request->limit().empty()) return Invalid("limit: required");
    if (request->count() > ratelimit::kTopCapacity) return Invalid("count: at most 1000");
    const config::SnapshotPtr snapshot = config_.Get();
    const auto& rules = snapshot->limits.rules;
    if (std::none_of(rules.begin(), rules.end(), [&](const auto& r) { return r.name == request->limit(); })) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no limit named '", request->limit(), "'"));
    }
    absl::StatusOr<std::vector<ratelimit::UsageEntry>> top =
        context_.store->Top(request->limit(), request->count() == 0 ? 10 : request->count());
    if (!top.ok()) return ToGrpc(top.status());
    for (const ratelimit::UsageEntry& e : *top) {
      av1::TopUsageReply::Entry* out = reply->add_entries();
      out->set_key(e.key);
      out->set_used(e.used);
    }
    const auto day = std::chrono::floor<std::chrono::days>(context_.clock->Wall());
    reply->set_since_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(day).count());
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::DryRun(grpc::ServerContext*, const av1::DryRunRequest* request, av1::DryRunReply* reply) {
  return Guard([&] {
    if (request->eml().empty()) return Invalid("eml: required");
    if (request->recipients().empty()) return Invalid("recipients: at least one is required");
    const config::SnapshotPtr snapshot = config_.Get();
    const pv1::MessageRequest message = MessageFromDryRun(*request);
    pv1::Verdict& verdict = *reply->mutable_verdict();
    // The path of DoCheckMessage, on the same inputs, with every counting
    // step a Peek.
    MessageInputs inputs = InputsFromMessage(message, *snapshot);
    match::Facts& facts = inputs.facts;
    const content::ContentResult content = snapshot->content.Score(MessageFromRequest(message), inputs.envelope);
    ApplyContentResult(content, snapshot->content.quarantine_score(), verdict);
    SetScoreHeader(content, message, verdict);
    const routing::RouteDecision route = snapshot->routing.Choose(routing::RouteInput{facts, content.score});
    facts.pool = route.pool;
    facts.content_hash = content.content_hash;
    absl::StatusOr<ratelimit::LimitDecision> limits = limiter_.Peek(snapshot->limits, facts, {});
    if (!limits.ok()) return ToGrpc(limits.status());
    // Content that refuses (reject, tempfail) decides, as in DoCheckMessage.
    const bool refused_by_content =
        content.action == content::ContentAction::kReject || content.action == content::ContentAction::kTempfail;
    const pv1::Verdict by_content = verdict;
    ApplyLimitDecision(*limits, verdict, /*keep_action_on_allow=*/true);
    if (refused_by_content) {
      verdict.set_action(by_content.action());
      *verdict.mutable_reply() = by_content.reply();
    }
    std::string pool = route.pool;
    std::string reason = route.rule.empty() ? "default pool" : absl::StrCat("routing rule ", route.rule);
    if (limits->route_pool) {
      pool = *limits->route_pool;
      reason = "slow lane of a route limit over its limit";
    }
    verdict.set_pool(pool);
    reply->set_pool_rule(route.rule);
    reply->set_pool_reason(reason);
    reply->set_config_version(snapshot->version);
    return grpc::Status::OK;
  });
}

grpc::Status AdminServiceImpl::GetStatus(grpc::ServerContext*, const av1::StatusRequest*, av1::StatusReply* reply) {
  return Guard([&] {
    const config::SnapshotPtr snapshot = config_.Get();
    reply->set_config_version(snapshot->version);
    reply->set_config_source(snapshot->source);
    reply->set_store(context_.store_name);
    // A real round trip to the store: one read of a bucket nobody uses.
    ratelimit::BucketOp probe;
    probe.key = "hive-admin-probe";
    probe.params = ratelimit::GcraParams::From(1, std::chrono::seconds(1), 1);
    probe.cost = 0;
    absl::StatusOr<std::vector<ratelimit::BucketResult>> r = context_.store->Peek(std::span(&probe, 1));
    reply->set_store_status(r.ok() ? "ok" : std::string(r.status().message()));
    const ratelimit::Nanos now = context_.clock->Wall();
    reply->set_started_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(context_.started_wall).count());
    reply->set_uptime_seconds(std::chrono::duration_cast<std::chrono::seconds>(now - context_.started_wall).count());
    if (const AccessControl* access = InstalledAccessControl(); access != nullptr) {
      AccessToProto(*access->Settings(), *reply->mutable_access());
    }
    if (const std::shared_ptr<content::Classifier>& c = snapshot->content.classifier(); c != nullptr) {
      av1::BayesModel& bayes = *reply->mutable_bayes();
      const content::ClassifierStats st = c->stats();
      bayes.set_spam_learns(st.spam_learns);
      bayes.set_ham_learns(st.ham_learns);
      bayes.set_tokens(st.tokens);
      if (context_.model_follower != nullptr) {
        const admin::SharedFollower::State m = context_.model_follower->state();
        bayes.set_store(context_.model_follower->object().Describe());
        bayes.set_version(m.version);
        bayes.set_error(m.error);
      } else {
        bayes.set_store(c->path().empty() ? "memory" : absl::StrCat("file ", c->path()));
      }
    }
    if (context_.follower != nullptr) {
      const admin::FollowerState f = context_.follower->state();
      reply->set_policy_store(f.storage);
      reply->set_policy_store_version(f.store_version);
      reply->set_last_reload_error(f.error);
      reply->set_policy_polled_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(f.last_poll).count());
    } else {
      reply->set_policy_store(repository_.storage().Describe());
      absl::StatusOr<std::string> head = repository_.storage().HeadVersion();
      reply->set_policy_store_version(head.ok() ? *head : "");
      if (!head.ok()) {
        reply->set_last_reload_error(std::string(head.status().message()));
      } else if (*head != snapshot->version) {
        // The file is not what runs: a reload refused it, or none was made.
        const std::optional<config::SnapshotHolder::ReloadFailure> failed = config_.LastReloadFailure();
        reply->set_last_reload_error(
            failed && failed->version == *head
                ? absl::StrCat("version ", *head, " refused, keeping version ", snapshot->version, ": ",
                               failed->error)
                : absl::StrCat("the file is at version ", *head, " and not loaded: reload to run it (SIGHUP, ",
                               "systemctl reload hive-policyd)"));
      }
    }
    return grpc::Status::OK;
  });
}

}  // namespace hive::policy::server
