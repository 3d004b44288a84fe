// hivectl learn / fingerprint: the content engine's learned signals.
//
//   hivectl learn --spam|--ham FILE.eml...
//   hivectl fingerprint add (--eml FILE | --hash HEX) --label WORD
//   hivectl fingerprint remove (--eml FILE | --hash HEX)
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"

namespace hive::ctl {

namespace av1 = hive::admin::v1;

int Learn(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  if (args.Has("spam") == args.Has("ham") || p.size() < 2) return Usage("learn --spam|--ham FILE.eml...");
  // One call per file: a failure names the file, the earlier ones stay learned.
  for (std::size_t i = 1; i < p.size(); ++i) {
    av1::LearnRequest req;
    if (!ReadFile(p[i], *req.mutable_eml())) return Usage(absl::StrCat("cannot read ", p[i]));
    req.set_is_spam(args.Has("spam"));
    req.set_actor(ctx.actor);
    av1::LearnReply reply;
    grpc::Status s = ctx.stub->Learn(Call().get(), req, &reply);
    if (!s.ok()) {
      std::cerr << "hivectl: " << p[i] << ":\n";
      return Failed(s);
    }
    if (ctx.json) {
      PrintJson(reply, /*one_line=*/true);
      continue;
    }
    std::cout << "learned " << p[i] << " as " << (req.is_spam() ? "spam" : "ham") << ": model has "
              << reply.spam_learns() << " spam, " << reply.ham_learns() << " ham, " << reply.tokens() << " tokens"
              << (reply.saved() ? "" : " (in memory only: no stats_db)") << "\n";
  }
  return kExitOk;
}

int Fingerprint(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  const bool add = p.size() == 2 && p[1] == "add";
  if (!add && !(p.size() == 2 && p[1] == "remove")) {
    return Usage("fingerprint add|remove (--eml FILE | --hash HEX) [--label WORD]");
  }
  av1::FingerprintRequest req;
  const std::string eml = args.Get("eml");
  if (eml.empty() == args.Get("hash").empty()) return Usage(absl::StrCat("fingerprint ", p[1], ": --eml FILE or --hash HEX"));
  if (!eml.empty() && !ReadFile(eml, *req.mutable_eml())) return Usage(absl::StrCat("cannot read ", eml));
  req.set_fingerprint(args.Get("hash"));
  req.set_label(args.Get("label"));
  if (add && req.label().empty()) return Usage("fingerprint add: --label WORD (e.g. the campaign)");
  req.set_actor(ctx.actor);
  av1::FingerprintReply reply;
  grpc::Status s = add ? ctx.stub->AddFingerprint(Call().get(), req, &reply)
                       : ctx.stub->RemoveFingerprint(Call().get(), req, &reply);
  if (!s.ok()) return Failed(s);
  if (ctx.json) {
    PrintJson(reply);
  } else if (add) {
    std::cout << "added " << reply.fingerprint() << " " << req.label() << " (" << reply.stored() << " stored)\n";
  } else {
    std::cout << (reply.changed() ? "removed " : "not stored: ") << reply.fingerprint() << " (" << reply.stored()
              << " stored)\n";
  }
  if (!add && !reply.changed()) return kExitNotFound;
  return kExitOk;
}

}  // namespace hive::ctl
