// hive-postfix-config: writes the Postfix side of IP-pool routing from
// hive-policyd's config (routing/postfix_config.h), so the two never drift.
//
//   hive-postfix-config --config /etc/hive/policyd.yaml --out DIR
//                       [--postfix-dir /etc/postfix] [--pool-header X-Hive-Pool]
//                       [--unchecked-header X-Hive-Policy]
//                       [--default-nexthop '[smtp.example.net]:587']
//
// DIR receives hive_pools, hive_strip (copy them to --postfix-dir),
// master.cf.hive (append to master.cf) and main.cf.hive (append to main.cf).
// Exit 0, or 2 with the config's file:line errors.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "config/snapshot.h"
#include "routing/postfix_config.h"

namespace {

bool Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

int Usage() {
  std::cerr << "usage: hive-postfix-config --config FILE --out DIR [--postfix-dir DIR] [--pool-header NAME] "
               "[--unchecked-header NAME] [--default-nexthop NEXTHOP]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, out_dir;
  hive::policy::routing::PostfixConfigOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--config") config = argv[++i];
    else if (a == "--out") out_dir = argv[++i];
    else if (a == "--postfix-dir") options.config_directory = argv[++i];
    else if (a == "--pool-header") options.pool_header = argv[++i];
    else if (a == "--unchecked-header") options.unchecked_header = argv[++i];
    else if (a == "--default-nexthop") options.default_nexthop = argv[++i];
    else return Usage();
  }
  if (config.empty() || out_dir.empty()) return Usage();
  auto snapshot = hive::policy::config::LoadSnapshot(config);
  if (!snapshot.ok()) {
    std::cerr << snapshot.status().message() << "\n";
    return 2;
  }
  const hive::policy::routing::PostfixConfig pf = GeneratePostfixConfig((*snapshot)->routing, options);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  for (const auto& [name, text] : {std::pair{"hive_pools", &pf.hive_pools}, std::pair{"hive_strip", &pf.hive_strip},
                                   std::pair{"master.cf.hive", &pf.master_cf}, std::pair{"main.cf.hive", &pf.main_cf}}) {
    if (!Write(out_dir + "/" + name, *text)) {
      std::cerr << out_dir << "/" << name << ": cannot write\n";
      return 1;
    }
  }
  return 0;
}
