// hivectl learn / fingerprint: the content engine's learned signals.
//
//   hivectl learn --spam|--ham PATH...   (content/mail_source.h: a message
//                                        file, an mbox, a directory, a Maildir)
//   hivectl fingerprint add (--eml FILE | --hash HEX) --label WORD
//   hivectl fingerprint remove (--eml FILE | --hash HEX)
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "content/mail_source.h"

namespace hive::ctl {

namespace av1 = hive::admin::v1;

int Learn(Context& ctx, const Args& args) {
  const std::vector<std::string>& p = args.positional;
  if (args.Has("spam") == args.Has("ham") || p.size() < 2) {
    return Usage("learn --spam|--ham PATH... (a message file, an mbox, a directory of message files or a Maildir folder)");
  }
  // One call per message: a failure names the message, the earlier ones
  // stay learned.
  for (std::size_t i = 1; i < p.size(); ++i) {
    grpc::Status failed;
    absl::StatusOr<policy::content::MailSourceReport> report = policy::content::ForEachMessage(
        p[i], [&](std::string_view name, std::string_view raw) -> absl::Status {
          av1::LearnRequest req;
          req.set_eml(std::string(raw));
          req.set_is_spam(args.Has("spam"));
          req.set_actor(ctx.actor);
          av1::LearnReply reply;
          if (grpc::Status s = ctx.stub->Learn(Call().get(), req, &reply); !s.ok()) {
            std::cerr << "hivectl: " << name << ":\n";
            failed = s;
            return absl::AbortedError("");
          }
          if (ctx.json) {
            PrintJson(reply, /*one_line=*/true);
          } else {
            std::cout << "learned " << name << " as " << (req.is_spam() ? "spam" : "ham") << ": model has "
                      << reply.spam_learns() << " spam, " << reply.ham_learns() << " ham, " << reply.tokens()
                      << " tokens" << (reply.saved() ? "" : " (in memory only: no stats_db)") << "\n";
          }
          return absl::OkStatus();
        });
    if (!failed.ok()) return Failed(failed);
    if (!report.ok()) return Usage(std::string(report.status().message()));
    for (const policy::content::SkippedFile& skipped : report->skipped) {
      std::cerr << "hivectl: skipped " << skipped.name << ": " << skipped.why << "\n";
    }
    if (report->messages == 0) return Usage(absl::StrCat(p[i], ": no message in it"));
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
