// hivectl's single-object commands (rules, pools) and the issue-7 names of
// the policy and counter commands (rules validate|diff|history|rollback,
// quota show|reset, check, decisions tail), which run the same code as
// policy / counters / dry-run / tail.
//
//   rules list [--kind K]              every limit, content rule and pool
//   rules get NAME [--kind K]          one object as YAML (what apply -f reads)
//   rules apply -f FILE [--kind K] [--version V] [--dry-run]
//   rules delete NAME [--kind K] [--version V]
//   pools                              pools and their members
// K: limit (default), content-rule, pool. Without --version a write is based
// on the object's current version (or, for a new object, its absence).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "support/proto_to_yaml.h"
#include "support/yaml_to_proto.h"

namespace hive::ctl {
namespace {

namespace av1 = hive::admin::v1;
namespace cv1 = hive::config::v1;

bool KindOf(const std::string& text, av1::ObjectKind& kind) {
  if (text.empty() || text == "limit") kind = av1::OBJECT_KIND_LIMIT;
  else if (text == "content-rule") kind = av1::OBJECT_KIND_CONTENT_RULE;
  else if (text == "pool") kind = av1::OBJECT_KIND_POOL;
  else return false;
  return true;
}

std::string KindText(av1::ObjectKind kind) {
  return kind == av1::OBJECT_KIND_CONTENT_RULE ? "content-rule" : kind == av1::OBJECT_KIND_POOL ? "pool" : "limit";
}

const google::protobuf::Message* Payload(const av1::PolicyObject& o) {
  switch (o.object_case()) {
    case av1::PolicyObject::kLimit: return &o.limit();
    case av1::PolicyObject::kContentRule: return &o.content_rule();
    case av1::PolicyObject::kPool: return &o.pool();
    default: return nullptr;
  }
}

google::protobuf::Message* MutablePayload(av1::ObjectKind kind, av1::PolicyObject& o) {
  switch (kind) {
    case av1::OBJECT_KIND_CONTENT_RULE: return o.mutable_content_rule();
    case av1::OBJECT_KIND_POOL: return o.mutable_pool();
    default: return o.mutable_limit();
  }
}

// The object's current version ("" when absent), for a write without
// --version. False (code set) on any other failure.
bool CurrentObjectVersion(Context& ctx, const av1::ObjectRef& ref, std::string& version, int& code) {
  av1::PolicyObject current;
  grpc::Status s = ctx.stub->GetObject(Call().get(), ref, &current);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    version.clear();
    return true;
  }
  if (!s.ok()) {
    code = Failed(s);
    return false;
  }
  version = current.version();
  return true;
}

int List(Context& ctx, const Args& args) {
  av1::ObjectKind only = av1::OBJECT_KIND_UNSPECIFIED;
  if (args.Has("kind") && !KindOf(args.Get("kind"), only)) return Usage("--kind: limit, content-rule or pool");
  av1::PolicyDocument doc;
  grpc::Status s = ctx.stub->GetPolicy(Call().get(), {}, &doc);
  if (!s.ok()) return Failed(s);
  std::vector<std::pair<av1::ObjectKind, std::string>> names;
  for (const cv1::LimitRule& l : doc.config().limits()) names.emplace_back(av1::OBJECT_KIND_LIMIT, l.name());
  for (const cv1::ContentRule& r : doc.config().content().rules()) {
    names.emplace_back(av1::OBJECT_KIND_CONTENT_RULE, r.name());
  }
  for (const cv1::Pool& p : doc.config().routing().pools()) names.emplace_back(av1::OBJECT_KIND_POOL, p.name());
  if (ctx.json) {
    // One ObjectRef a line (JSON lines, as tail --json).
    for (const auto& [kind, name] : names) {
      if (only != av1::OBJECT_KIND_UNSPECIFIED && kind != only) continue;
      av1::ObjectRef ref;
      ref.set_kind(kind);
      ref.set_name(name);
      PrintJson(ref, /*one_line=*/true);
    }
    return kExitOk;
  }
  std::cout << "KIND\tNAME\t(policy version " << doc.version() << ")\n";
  for (const auto& [kind, name] : names) {
    if (only == av1::OBJECT_KIND_UNSPECIFIED || kind == only) std::cout << KindText(kind) << "\t" << name << "\n";
  }
  return kExitOk;
}

int Get(Context& ctx, const Args& args, av1::ObjectKind kind) {
  if (args.positional.size() != 3) return Usage("rules get NAME [--kind K]");
  av1::ObjectRef ref;
  ref.set_kind(kind);
  ref.set_name(args.positional[2]);
  av1::PolicyObject object;
  grpc::Status s = ctx.stub->GetObject(Call().get(), ref, &object);
  if (!s.ok()) return Failed(s);
  if (ctx.json) {
    PrintJson(object);
    return kExitOk;
  }
  std::cout << "# " << KindText(kind) << " " << ref.name() << " version " << object.version() << " (policy version "
            << object.policy_version() << ")\n";
  if (const google::protobuf::Message* m = Payload(object)) std::cout << hive::config::ProtoToYaml(*m);
  return kExitOk;
}

int Apply(Context& ctx, const Args& args, av1::ObjectKind kind) {
  // -f FILE (as the issue writes it), --file FILE, or FILE.
  std::string file = args.Get("file");
  const std::vector<std::string>& p = args.positional;
  if (file.empty() && p.size() == 4 && p[2] == "-f") file = p[3];
  if (file.empty() && p.size() == 3) file = p[2];
  if (file.empty()) return Usage("rules apply -f FILE [--kind K] [--version V] [--dry-run]");
  std::string text;
  if (!ReadFile(file, text)) return Usage(absl::StrCat("cannot read ", file));
  av1::ApplyObjectRequest req;
  google::protobuf::Message* payload = MutablePayload(kind, *req.mutable_object());
  if (absl::Status st = hive::config::YamlToProto(text, file, *payload); !st.ok()) {
    std::cerr << "hivectl: " << st.message() << "\n";
    return kExitUsage;
  }
  req.mutable_object()->mutable_ref()->set_kind(kind);
  req.set_validate_only(args.Has("dry-run"));
  req.set_actor(ctx.actor);
  if (args.Has("version")) {
    req.set_expected_version(args.Get("version"));
  } else {
    av1::ObjectRef ref;
    ref.set_kind(kind);
    ref.set_name(payload->GetReflection()->GetString(*payload, payload->GetDescriptor()->FindFieldByName("name")));
    std::string version;
    int code = kExitOk;
    if (!CurrentObjectVersion(ctx, ref, version, code)) return code;
    req.set_expected_version(version);
  }
  av1::ApplyReply reply;
  grpc::Status s = ctx.stub->ApplyObject(Call().get(), req, &reply);
  if (!s.ok()) return Failed(s);
  return PrintApply(ctx, reply);
}

int Delete(Context& ctx, const Args& args, av1::ObjectKind kind) {
  if (args.positional.size() != 3) return Usage("rules delete NAME [--kind K] [--version V]");
  av1::DeleteObjectRequest req;
  req.mutable_ref()->set_kind(kind);
  req.mutable_ref()->set_name(args.positional[2]);
  req.set_actor(ctx.actor);
  std::string version = args.Get("version");
  if (version.empty()) {
    int code = kExitOk;
    if (!CurrentObjectVersion(ctx, req.ref(), version, code)) return code;
    if (version.empty()) {
      std::cerr << "hivectl: no " << KindText(kind) << " named '" << req.ref().name() << "'\n";
      return kExitNotFound;
    }
  }
  req.set_expected_version(version);
  av1::ApplyReply reply;
  grpc::Status s = ctx.stub->DeleteObject(Call().get(), req, &reply);
  if (!s.ok()) return Failed(s);
  return PrintApply(ctx, reply);
}

// The command line with its first words replaced: "rules history" runs as
// "policy history".
Args Renamed(const Args& args, std::vector<std::string> words, std::size_t drop) {
  Args out = args;
  out.positional.erase(out.positional.begin(), out.positional.begin() + static_cast<std::ptrdiff_t>(drop));
  out.positional.insert(out.positional.begin(), words.begin(), words.end());
  return out;
}

}  // namespace

int Rules(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  if (p.size() < 2) return Usage("rules: list, get, apply, delete, validate, diff, history or rollback");
  const std::string& verb = p[1];
  av1::ObjectKind kind = av1::OBJECT_KIND_LIMIT;
  if (verb != "list" && !KindOf(args.Get("kind"), kind)) return Usage("--kind: limit, content-rule or pool");
  if (verb == "list") return List(ctx, args);
  if (verb == "get") return Get(ctx, args, kind);
  if (verb == "apply") return Apply(ctx, args, kind);
  if (verb == "delete") return Delete(ctx, args, kind);
  // The whole policy, as `policy ...`: diff is a validation's change list.
  if (verb == "validate" || verb == "diff") return Run(ctx, Renamed(args, {"policy", "validate"}, 2));
  if (verb == "history" || verb == "rollback") return Run(ctx, Renamed(args, {"policy", verb}, 2));
  return Usage(absl::StrCat("rules: unknown command '", verb, "'"));
}

int Pools(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage("pools");
  av1::PolicyDocument doc;
  grpc::Status s = ctx.stub->GetPolicy(Call().get(), {}, &doc);
  if (!s.ok()) return Failed(s);
  const cv1::Routing& routing = doc.config().routing();
  if (ctx.json) {
    PrintJson(routing);
    return kExitOk;
  }
  std::cout << "POOL\tMEMBERS\tOVERFLOW\n";
  for (const cv1::Pool& pool : routing.pools()) {
    std::vector<std::string> members;
    for (const cv1::PoolMember& m : pool.members()) members.push_back(absl::StrCat(m.name(), "=", m.address()));
    std::cout << pool.name() << (pool.name() == routing.default_pool() ? " (default)" : "") << "\t"
              << (members.empty() ? "-" : absl::StrJoin(members, ",")) << "\t"
              << (pool.overflow_pool().empty() ? "-" : pool.overflow_pool()) << "\n";
  }
  return kExitOk;
}

int Alias(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  const std::string& cmd = p.front();
  if (cmd == "quota") {
    if (p.size() < 2 || (p[1] != "show" && p[1] != "reset")) return Usage("quota show|reset");
    return Run(ctx, Renamed(args, {"counters", p[1] == "show" ? "get" : "reset"}, 2));
  }
  if (cmd == "decisions") {
    if (p.size() < 2 || p[1] != "tail") return Usage("decisions tail");
    return Run(ctx, Renamed(args, {"tail"}, 2));
  }
  // check MSG.eml --from A --rcpt B: dry-run --eml MSG.eml --from A --to B.
  if (p.size() != 2) return Usage("check MSG.eml --from A --rcpt B [--rcpt C]");
  Args dry = Renamed(args, {"dry-run"}, 2);
  dry.options["eml"] = {p[1]};
  if (args.Has("rcpt")) dry.options["to"] = args.options.at("rcpt");
  return Run(ctx, dry);
}

}  // namespace hive::ctl
