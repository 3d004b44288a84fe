#include "commands.h"

#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hive::ctl {
namespace {

namespace av1 = hive::admin::v1;

}  // namespace

int PrintApply(const Context& ctx, const av1::ApplyReply& r) {
  if (ctx.json) {
    PrintJson(r);
    return kExitOk;
  }
  if (!r.applied() && r.version() == r.previous_version() && r.changes().empty()) {
    // Nothing to apply (or nothing a validated apply would change).
    std::cout << "unchanged: version " << r.version() << " is the running policy; nothing written\n";
    return kExitOk;
  }
  std::cout << (r.applied() ? "applied: version " : "valid: version ") << r.version() << " (was "
            << r.previous_version() << ")\n";
  if (r.changes().empty()) std::cout << "  no change\n";
  for (const std::string& c : r.changes()) std::cout << "  " << c << "\n";
  return kExitOk;
}

bool GetRunningPolicy(Context& ctx, av1::PolicyDocument& doc, int& code) {
  grpc::Status s = ctx.stub->GetPolicy(Call().get(), {}, &doc);
  if (!s.ok()) {
    code = Failed(s);
    return false;
  }
  return true;
}

namespace {

// The running version, for writes given no --version.
bool CurrentVersion(Context& ctx, std::string& version, int& code) {
  av1::PolicyDocument doc;
  if (!GetRunningPolicy(ctx, doc, code)) return false;
  version = doc.version();
  return true;
}

int Policy(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  if (p.size() < 2) return Usage("policy: get, validate FILE, apply FILE, history or rollback VERSION");
  const std::string& verb = p[1];
  if (verb == "get") {
    av1::PolicyDocument doc;
    grpc::Status s = ctx.stub->GetPolicy(Call().get(), {}, &doc);
    if (!s.ok()) return Failed(s);
    if (ctx.json) {
      PrintJson(doc);
    } else {
      std::cout << "# version " << doc.version() << "\n" << doc.yaml();
    }
    return kExitOk;
  }
  if (verb == "validate" || verb == "apply") {
    if (p.size() != 3) return Usage(absl::StrCat("policy ", verb, " FILE"));
    av1::ApplyPolicyRequest req;
    if (!ReadFile(p[2], *req.mutable_yaml())) return Usage(absl::StrCat("cannot read ", p[2]));
    req.set_actor(ctx.actor);
    av1::ApplyReply reply;
    grpc::Status s;
    if (verb == "validate") {
      s = ctx.stub->ValidatePolicy(Call().get(), req, &reply);
    } else {
      std::string expected = args.Get("version");
      int code = kExitOk;
      if (expected.empty() && !CurrentVersion(ctx, expected, code)) return code;
      req.set_expected_version(expected);
      s = ctx.stub->ApplyPolicy(Call().get(), req, &reply);
    }
    if (!s.ok()) return Failed(s);
    return PrintApply(ctx, reply);
  }
  if (verb == "history") {
    av1::HistoryRequest req;
    std::uint32_t n = 0;
    if (!args.Get("count").empty() && absl::SimpleAtoi(args.Get("count"), &n)) req.set_limit(n);
    av1::HistoryReply reply;
    grpc::Status s = ctx.stub->ListHistory(Call().get(), req, &reply);
    if (!s.ok()) return Failed(s);
    if (ctx.json) {
      PrintJson(reply);
      return kExitOk;
    }
    for (const av1::HistoryEntry& e : reply.entries()) {
      std::cout << e.seq() << "  " << TimeText(e.time_unix_ms()) << "  " << e.action() << "  version "
                << e.version();
      if (!e.previous_version().empty()) std::cout << " (was " << e.previous_version() << ")";
      std::cout << "  by " << e.actor() << "\n";
      for (const std::string& c : e.changes()) std::cout << "    " << c << "\n";
      if (!e.detail().empty()) std::cout << "    " << e.detail() << "\n";
    }
    return kExitOk;
  }
  if (verb == "rollback") {
    if (p.size() != 3) return Usage("policy rollback VERSION");
    av1::RollbackRequest req;
    req.set_version(p[2]);
    req.set_actor(ctx.actor);
    std::string expected = args.Get("version");
    int code = kExitOk;
    if (expected.empty() && !CurrentVersion(ctx, expected, code)) return code;
    req.set_expected_version(expected);
    av1::ApplyReply reply;
    grpc::Status s = ctx.stub->Rollback(Call().get(), req, &reply);
    if (!s.ok()) return Failed(s);
    return PrintApply(ctx, reply);
  }
  return Usage(absl::StrCat("policy: unknown command '", verb, "'"));
}

int PrintCounters(const Context& ctx, const av1::CountersReply& r) {
  if (ctx.json) {
    PrintJson(r);
    return kExitOk;
  }
  if (r.windows().empty()) {
    std::cout << "no limit applies\n";
    return kExitOk;
  }
  std::cout << "LIMIT\tKEY\tWINDOW\tLIMIT\tUSED\tREMAINING\tRESET AT\n";
  for (const av1::WindowCounter& w : r.windows()) {
    std::cout << w.limit() << "\t" << w.key() << "\t" << w.window() << "\t" << w.capacity() << "\t" << w.used()
              << "\t" << w.remaining() << "\t" << TimeText(w.reset_at_unix_ms()) << "\n";
  }
  return kExitOk;
}

int Counters(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  if (p.size() != 2) return Usage("counters get|reset|adjust");
  if (p[1] == "get") {
    av1::CountersRequest req;
    req.set_limit(args.Get("limit"));
    req.set_key(args.Get("key"));
    req.set_sender(args.Get("sender"));
    req.set_sasl_user(args.Get("sasl-user"));
    if (req.key().empty() == req.sender().empty() && req.sasl_user().empty()) {
      return Usage("counters get: --limit L --key K, or --sender S");
    }
    av1::CountersReply reply;
    grpc::Status s = ctx.stub->GetCounters(Call().get(), req, &reply);
    if (!s.ok()) return Failed(s);
    return PrintCounters(ctx, reply);
  }
  if (p[1] == "reset" || p[1] == "adjust") {
    av1::AdjustCountersRequest req;
    req.set_limit(args.Get("limit"));
    req.set_key(args.Get("key"));
    req.set_actor(ctx.actor);
    if (req.limit().empty() || req.key().empty()) return Usage(absl::StrCat("counters ", p[1], ": --limit L --key K"));
    if (p[1] == "reset") {
      req.set_reset(true);
    } else {
      std::int64_t n = 0;
      if (!absl::SimpleAtoi(args.Get("consume"), &n) || n <= 0) return Usage("counters adjust: --consume N (N > 0)");
      req.set_consume(n);
    }
    av1::CountersReply reply;
    grpc::Status s = ctx.stub->AdjustCounters(Call().get(), req, &reply);
    if (!s.ok()) return Failed(s);
    return PrintCounters(ctx, reply);
  }
  return Usage(absl::StrCat("counters: unknown command '", p[1], "'"));
}

int Top(Context& ctx, const Args& args) {
  av1::TopUsageRequest req;
  req.set_limit(args.Get("limit"));
  if (req.limit().empty() || args.positional.size() != 1) return Usage("top --limit L [--count N]");
  if (!args.Get("count").empty()) {
    std::uint32_t n = 0;
    if (!absl::SimpleAtoi(args.Get("count"), &n) || n == 0) return Usage("top: --count N (N > 0)");
    req.set_count(n);
  }
  av1::TopUsageReply reply;
  grpc::Status s = ctx.stub->TopUsage(Call().get(), req, &reply);
  if (!s.ok()) return Failed(s);
  if (ctx.json) {
    PrintJson(reply);
    return kExitOk;
  }
  std::cout << "limit " << req.limit() << ", usage since " << TimeText(reply.since_unix_ms()) << "\n";
  if (reply.entries().empty()) {
    std::cout << "no usage yet\n";
    return kExitOk;
  }
  std::cout << "RANK\tKEY\tUSED\n";
  int rank = 0;
  for (const av1::TopUsageReply::Entry& e : reply.entries()) {
    std::cout << ++rank << "\t" << e.key() << "\t" << e.used() << "\n";
  }
  return kExitOk;
}

int DryRun(Context& ctx, const Args& args) {
  av1::DryRunRequest req;
  const std::string eml = args.Get("eml");
  if (eml.empty() || args.Get("from").empty() || args.options.count("to") == 0) {
    return Usage("dry-run --eml FILE --from ADDR --to ADDR [--to ADDR ...]");
  }
  if (!ReadFile(eml, *req.mutable_eml())) return Usage(absl::StrCat("cannot read ", eml));
  req.set_sender(args.Get("from"));
  for (const std::string& to : args.options.at("to")) req.add_recipients(to);
  req.set_client_ip(args.Get("client-ip"));
  req.set_sasl_user(args.Get("sasl-user"));
  req.set_helo(args.Get("helo"));
  av1::DryRunReply reply;
  grpc::Status s = ctx.stub->DryRun(Call().get(), req, &reply);
  if (!s.ok()) return Failed(s);
  if (ctx.json) {
    PrintJson(reply);
    return kExitOk;
  }
  const hive::policy::v1::Verdict& v = reply.verdict();
  std::string action = hive::policy::v1::Action_Name(v.action());
  if (action.rfind("ACTION_", 0) == 0) action = action.substr(7);
  std::cout << "action: " << action;
  if (v.has_reply()) {
    std::cout << " (" << v.reply().code() << " " << v.reply().enhanced_code() << " "
              << absl::StrJoin(v.reply().lines(), " / ") << ")";
  }
  std::cout << "\nscore: " << v.score() << "\n";
  std::cout << "pool: " << v.pool() << " (" << reply.pool_reason() << ")\n";
  for (const auto& sym : v.symbols()) std::cout << "symbol " << sym.name() << " " << sym.weight() << "\n";
  for (const auto& l : v.limits()) {
    std::cout << "limit " << l.rule() << " " << l.key() << " " << l.window() << ": " << l.remaining() << " of "
              << l.limit() << " remaining\n";
  }
  std::cout << "config version: " << reply.config_version() << " (nothing was counted)\n";
  return kExitOk;
}

// "tokens ci (operator); principals viewer.ops (viewer); local role none".
std::string AccessText(const av1::AdminAccess& access) {
  const auto entries = [](const auto& list) {
    std::string out;
    for (const av1::AdminAccess::Entry& e : list) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", e.name(), " (", e.role(), ")");
    }
    return out.empty() ? std::string("none") : out;
  };
  return absl::StrCat("tokens ", entries(access.tokens()), "; principals ", entries(access.principals()),
                      "; local role ", access.local_role());
}

int Status(Context& ctx) {
  av1::StatusReply reply;
  grpc::Status s = ctx.stub->GetStatus(Call().get(), {}, &reply);
  if (!s.ok()) return Failed(s);
  if (ctx.json) {
    PrintJson(reply);
    return kExitOk;
  }
  std::cout << "config version: " << reply.config_version() << " (" << reply.config_source() << ")\n";
  if (!reply.policy_store().empty()) {
    std::cout << "policy store: " << reply.policy_store() << " at version " << reply.policy_store_version();
    if (reply.policy_polled_unix_ms() != 0) std::cout << " (polled " << TimeText(reply.policy_polled_unix_ms()) << ")";
    std::cout << "\n";
  }
  if (!reply.last_reload_error().empty()) std::cout << "policy error: " << reply.last_reload_error() << "\n";
  std::cout << "store: " << reply.store() << " (" << reply.store_status() << ")\n"
            << "uptime: " << reply.uptime_seconds() << "s (since " << TimeText(reply.started_unix_ms()) << ")\n";
  if (reply.has_access()) std::cout << "admin access: " << AccessText(reply.access()) << "\n";
  if (reply.has_bayes()) {
    const av1::BayesModel& b = reply.bayes();
    std::cout << "bayes model: " << b.store();
    if (b.version() != 0) std::cout << " at version " << b.version();
    std::cout << ": " << b.spam_learns() << " spam, " << b.ham_learns() << " ham learned, " << b.tokens()
              << " tokens\n";
    if (!b.error().empty()) std::cout << "bayes error: " << b.error() << "\n";
  }
  // 1 when something needs an operator: the counter store or the policy.
  return reply.store_status() == "ok" && reply.last_reload_error().empty() ? kExitOk : kExitError;
}

}  // namespace

void PrintUsage(std::ostream& out) {
  out << "usage: hivectl [--server ADDR] [--json] [--actor NAME] <command>\n"
         "  ADDR: --server, else $HIVECTL_SERVER, else 127.0.0.1:7454 (hive-policyd --admin-listen)\n"
         "commands:\n"
         "  status                                   config version, where the policy lives and whether\n"
         "                                           this replica runs it, counter store, uptime, the\n"
         "                                           Bayes model it scores with\n"
         "                                           (exit 1: counter store or policy in trouble)\n"
         "  policy get                               the running policy (YAML) and its version\n"
         "  policy validate FILE                     full validation, nothing applied\n"
         "  policy apply FILE [--version V]          apply if the policy is still at V (default: current)\n"
         "  policy history [--count N]               applies, rollbacks and counter changes, newest first\n"
         "  policy rollback V [--version CUR]        apply version V's text again\n"
         "  rules list [--kind K]                    every limit, content rule and pool (K: limit,\n"
         "                                           content-rule, pool)\n"
         "  rules get NAME [--kind K]                one object as YAML and its version\n"
         "  rules apply -f FILE [--kind K] [--version V] [--dry-run]\n"
         "                                           add or replace the object in FILE (V: the\n"
         "                                           object's version it was based on; default current)\n"
         "  rules delete NAME [--kind K] [--version V]\n"
         "  rules validate|diff FILE, rules history, rules rollback V   as policy ...\n"
         "  pools                                    pools, members, overflow\n"
         "  postfix-config [--out DIR] [--postfix-dir DIR] [--pool-header NAME] [--unchecked-header NAME]\n"
         "                 [--default-nexthop NEXTHOP]\n"
         "                                           Postfix's side of the running pools (hive_pools,\n"
         "                                           hive_strip, master.cf.hive, main.cf.hive), as\n"
         "                                           hive-postfix-config writes them; stdout without --out\n"
         "  sendmail-config [--out FILE] [--tag TAG] Sendmail's side (hive-pools.m4), as\n"
         "                                           hive-sendmail-config writes it; stdout without --out\n"
         "  counters get --limit L --key K | --sender S [--sasl-user U]\n"
         "  counters reset --limit L --key K         forget the bucket (audited)\n"
         "  counters adjust --limit L --key K --consume N   use N units of every window (audited)\n"
         "  top --limit L [--count N]                the keys of limit L that used the most today (UTC)\n"
         "  dry-run --eml FILE --from A --to B [--to C] [--client-ip IP] [--sasl-user U]\n"
         "                                           the full verdict, counting nothing\n"
         "  quota show|reset ..., check FILE --from A --rcpt B, decisions tail ...\n"
         "                                           the same as counters get|reset, dry-run, tail\n"
         "  learn --spam|--ham PATH...               train the Bayes classifier (content.bayes; audited);\n"
         "                                           PATH: a message file, an mbox, a directory, a Maildir\n"
         "  fingerprint add (--eml F | --hash HEX) --label WORD   mark a message known-bad (audited)\n"
         "  fingerprint remove (--eml F | --hash HEX)             (exit 4: was not stored)\n"
         "  tail [--sender A|@DOMAIN] [--action A] [--pool P] [--count N] [--for SECONDS]\n"
         "                                           live decisions, one a line (--json: JSON lines)\n"
         "exit codes: 0 ok, 1 server error or unreachable, 2 usage or invalid input,\n"
         "            3 version conflict, 4 not found, 5 refused by access control\n";
}

int Run(Context& ctx, const Args& args) {
  const std::string& cmd = args.positional.front();
  if (cmd == "policy") return Policy(ctx, args);
  if (cmd == "counters") return Counters(ctx, args);
  if (cmd == "dry-run") return DryRun(ctx, args);
  if (cmd == "top") return Top(ctx, args);
  if (cmd == "rules") return Rules(ctx, args);
  if (cmd == "pools") return Pools(ctx, args);
  if (cmd == "postfix-config") return PostfixConfig(ctx, args);
  if (cmd == "sendmail-config") return SendmailConfig(ctx, args);
  if (cmd == "quota" || cmd == "check" || cmd == "decisions") return Alias(ctx, args);
  if (cmd == "status") return Status(ctx);
  if (cmd == "learn") return Learn(ctx, args);
  if (cmd == "fingerprint") return Fingerprint(ctx, args);
  if (cmd == "tail") return Tail(ctx, args);
  return Usage(absl::StrCat("unknown command '", cmd, "'"));
}

}  // namespace hive::ctl
