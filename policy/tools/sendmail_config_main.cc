// hive-sendmail-config: writes the Sendmail side of IP-pool routing
// (hive-pools.m4, routing/sendmail_config.h) from hive-policyd's config
// file, so the two never drift (tools/mta_config_files.h). `hivectl
// sendmail-config` writes the same from the running policy.
//
//   hive-sendmail-config --config /etc/hive/policyd.yaml --out /etc/mail/hive-pools.m4
//                        [--tag hive]
//
// --tag must equal hive-milter's sender_pool_tag. Then include the file in
// sendmail.mc before the MAILER() lines and rebuild sendmail.cf.
// Exit 0, 1 when the file cannot be written, or 2 with the config's
// file:line errors.
#include <iostream>
#include <string>

#include "tools/mta_config_files.h"

namespace {

int Usage() {
  std::cerr << "usage: hive-sendmail-config --config FILE --out FILE [--tag TAG]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace tools = hive::policy::tools;
  std::string config, out_path;
  hive::policy::routing::SendmailConfigOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--config") config = argv[++i];
    else if (a == "--out") out_path = argv[++i];
    else if (a == "--tag") options.tag = argv[++i];
    else return Usage();
  }
  if (config.empty() || out_path.empty()) return Usage();
  if (absl::Status s = tools::CheckSenderPoolTag(options.tag); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  absl::StatusOr<hive::policy::routing::Router> router = tools::RouterOfPolicyFile(config);
  if (!router.ok()) {
    std::cerr << router.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = tools::WriteTextFile(out_path, tools::SendmailConfigFiles(*router, options).front().text);
      !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  return 0;
}
