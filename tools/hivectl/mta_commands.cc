// hivectl postfix-config / sendmail-config: the MTA side of the pools,
// generated from the policy hive-policyd runs (fetched over the admin API)
// by the code hive-postfix-config and hive-sendmail-config run on a file
// (policy/tools/mta_config_files.h): the snippets never drift from the
// running pools.
//
//   postfix-config [--out DIR] [--postfix-dir DIR] [--pool-header NAME]
//                  [--unchecked-header NAME] [--default-nexthop NEXTHOP]
//   sendmail-config [--out FILE] [--tag TAG]
//
// --out: the files exactly as the tools write them. Otherwise on stdout:
// sendmail-config the .m4 itself, postfix-config each file after a
// "==> NAME <==" line. --json: {"policy_version", "files": [{"name",
// "text"}]}. Exit 1 when the running policy does not compile here (a
// hivectl older than the policyd) or a file cannot be written.
#include <functional>
#include <iostream>

#include <google/protobuf/struct.pb.h>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "tools/mta_config_files.h"

namespace hive::ctl {
namespace {

namespace av1 = hive::admin::v1;
namespace mta = hive::policy::tools;
using hive::policy::routing::Router;

// The running policy's Router and version; false (code set) on failure.
bool RunningRouter(Context& ctx, Router& router, std::string& version, int& code) {
  av1::PolicyDocument doc;
  if (!GetRunningPolicy(ctx, doc, code)) return false;
  version = doc.version();
  absl::StatusOr<Router> compiled =
      mta::RouterOfPolicy(doc.yaml(), absl::StrCat("policy version ", version));
  if (!compiled.ok()) {
    std::cerr << "hivectl: the running policy does not compile here (is hivectl older than hive-policyd?):\n"
              << compiled.status().message() << "\n";
    code = kExitError;
    return false;
  }
  router = *std::move(compiled);
  return true;
}

// --json, --out (a directory for several files, a file for one) or stdout
// (one file as it is; several each after "==> NAME <==").
int Output(const Context& ctx, const Args& args, const std::string& version,
           const std::vector<mta::MtaConfigFile>& files) {
  if (ctx.json) {
    google::protobuf::Struct out;
    (*out.mutable_fields())["policy_version"].set_string_value(version);
    google::protobuf::ListValue* list = (*out.mutable_fields())["files"].mutable_list_value();
    for (const mta::MtaConfigFile& f : files) {
      google::protobuf::Struct* file = list->add_values()->mutable_struct_value();
      (*file->mutable_fields())["name"].set_string_value(f.name);
      (*file->mutable_fields())["text"].set_string_value(f.text);
    }
    PrintJson(out);
    return kExitOk;
  }
  const std::string out = args.Get("out");
  if (out.empty()) {
    if (files.size() == 1) std::cout << files.front().text;
    for (std::size_t i = 0; files.size() > 1 && i < files.size(); ++i) {
      std::cout << (i == 0 ? "" : "\n") << "==> " << files[i].name << " <==\n" << files[i].text;
    }
    return kExitOk;
  }
  std::vector<std::string> paths;
  absl::Status written;
  if (files.size() == 1) {
    paths.push_back(out);
    written = mta::WriteTextFile(out, files.front().text);
  } else {
    for (const mta::MtaConfigFile& f : files) paths.push_back(absl::StrCat(out, "/", f.name));
    written = mta::WriteMtaConfigFiles(out, files);
  }
  if (!written.ok()) {
    std::cerr << "hivectl: " << written.message() << "\n";
    return kExitError;
  }
  for (const std::string& p : paths) std::cout << "wrote " << p << "\n";
  std::cout << "from policy version " << version << "\n";
  return kExitOk;
}

// The files `make` generates from the running policy's pools, output.
int Generate(Context& ctx, const Args& args,
             const std::function<std::vector<mta::MtaConfigFile>(const Router&)>& make) {
  Router router;
  std::string version;
  int code = kExitOk;
  if (!RunningRouter(ctx, router, version, code)) return code;
  return Output(ctx, args, version, make(router));
}

}  // namespace

int PostfixConfig(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage(absl::StrCat("postfix-config [--out DIR] ", mta::kPostfixOptionsUsage));
  hive::policy::routing::PostfixConfigOptions options;
  for (const auto& [name, values] : args.options) {
    if (mta::IsPostfixOption(name)) mta::SetPostfixOption(name, values.back(), options);
  }
  return Generate(ctx, args, [&](const Router& router) { return mta::PostfixConfigFiles(router, options); });
}

int SendmailConfig(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage("sendmail-config [--out FILE] [--tag TAG]");
  hive::policy::routing::SendmailConfigOptions options;
  if (args.Has("tag")) options.tag = args.Get("tag");
  if (absl::Status s = mta::CheckSenderPoolTag(options.tag); !s.ok()) return Usage(std::string(s.message()));
  return Generate(ctx, args, [&](const Router& router) { return mta::SendmailConfigFiles(router, options); });
}

}  // namespace hive::ctl
