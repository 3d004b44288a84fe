// hive-sendmail-config: writes the Sendmail side of IP-pool routing
// (hive-pools.m4, routing/sendmail_config.h) from hive-policyd's config, so
// the two never drift.
//
//   hive-sendmail-config --config /etc/hive/policyd.yaml --out /etc/mail/hive-pools.m4
//                        [--tag hive]
//
// --tag must equal hive-milter's sender_pool_tag. Then include the file in
// sendmail.mc before the MAILER() lines and rebuild sendmail.cf.
// Exit 0, or 2 with the config's file:line errors.
#include <fstream>
#include <iostream>
#include <string>

#include "config/snapshot.h"
#include "routing/sendmail_config.h"

namespace {

int Usage() {
  std::cerr << "usage: hive-sendmail-config --config FILE --out FILE [--tag TAG]\n";
  return 2;
}

bool ValidTag(const std::string& tag) {
  if (tag.empty()) return false;
  for (char c : tag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
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
  if (!ValidTag(options.tag)) {
    std::cerr << "--tag: letters, digits, '_' and '-' only (hive-milter's sender_pool_tag)\n";
    return 2;
  }
  auto snapshot = hive::policy::config::LoadSnapshot(config);
  if (!snapshot.ok()) {
    std::cerr << snapshot.status().message() << "\n";
    return 2;
  }
  std::ofstream out(out_path, std::ios::trunc);
  out << GenerateSendmailConfig((*snapshot)->routing, options);
  if (!out.flush()) {
    std::cerr << out_path << ": cannot write\n";
    return 1;
  }
  return 0;
}
