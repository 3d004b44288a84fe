// hive-postfix-config: writes the Postfix side of IP-pool routing from
// hive-policyd's config file (tools/mta_config_files.h), so the two never
// drift. `hivectl postfix-config` writes the same from the running policy.
//
//   hive-postfix-config --config /etc/hive/policyd.yaml --out DIR
//                       [--postfix-dir /etc/postfix] [--pool-header X-Hive-Pool]
//                       [--unchecked-header X-Hive-Policy]
//                       [--default-nexthop '[smtp.example.net]:587']
//
// DIR receives hive_pools, hive_strip (copy them to --postfix-dir),
// master.cf.hive (append to master.cf) and main.cf.hive (append to main.cf).
// Exit 0, 1 when a file cannot be written, or 2 with the config's
// file:line errors.
#include <iostream>
#include <string>

#include "tools/mta_config_files.h"

namespace {

int Usage() {
  std::cerr << "usage: hive-postfix-config --config FILE --out DIR " << hive::policy::tools::kPostfixOptionsUsage
            << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace tools = hive::policy::tools;
  std::string config, out_dir;
  hive::policy::routing::PostfixConfigOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc || a.rfind("--", 0) != 0) return Usage();
    if (a == "--config") config = argv[++i];
    else if (a == "--out") out_dir = argv[++i];
    else if (!tools::SetPostfixOption(a.substr(2), argv[++i], options)) return Usage();
  }
  if (config.empty() || out_dir.empty()) return Usage();
  absl::StatusOr<hive::policy::routing::Router> router = tools::RouterOfPolicyFile(config);
  if (!router.ok()) {
    std::cerr << router.status().message() << "\n";
    return 2;
  }
  if (absl::Status s = tools::WriteMtaConfigFiles(out_dir, tools::PostfixConfigFiles(*router, options)); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  return 0;
}
