// The files hive-postfix-config, hive-sendmail-config and `hivectl
// postfix-config|sendmail-config` produce from a policy's pools, and the
// options they share: one code path whether the policy comes from a file
// (the tools) or from a running hive-policyd (hivectl, over the admin API),
// so the MTA's side of the pools never drifts from what policyd runs.
//
//   Postfix:  hive_pools, hive_strip (copy to the Postfix directory),
//             master.cf.hive, main.cf.hive (append to master.cf / main.cf);
//             routing/postfix_config.h says what each holds.
//   Sendmail: hive-pools.m4 (routing/sendmail_config.h).
//
// Thread-safe: pure functions, except WriteMtaConfigFiles (the filesystem).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "routing/postfix_config.h"
#include "routing/router.h"
#include "routing/sendmail_config.h"

namespace hive::policy::tools {

struct MtaConfigFile {
  std::string name;  // a file name, no directory
  std::string text;
};

// In the order above.
std::vector<MtaConfigFile> PostfixConfigFiles(const routing::Router& router,
                                              const routing::PostfixConfigOptions& options);
std::vector<MtaConfigFile> SendmailConfigFiles(const routing::Router& router,
                                               const routing::SendmailConfigOptions& options);

// The Router of a policy YAML text (the whole policy compiled, as
// hive-policyd compiles it); errors name `source_name`:line:col and the field.
absl::StatusOr<routing::Router> RouterOfPolicy(std::string_view yaml, std::string_view source_name);
absl::StatusOr<routing::Router> RouterOfPolicyFile(const std::string& path);

// Writes each file into `dir` (created when missing); an error names the
// file that could not be written.
absl::Status WriteMtaConfigFiles(const std::string& dir, const std::vector<MtaConfigFile>& files);
absl::Status WriteTextFile(const std::string& path, std::string_view text);

// The Postfix generator's options by flag name, without the dashes:
// postfix-dir, pool-header, unchecked-header, default-nexthop.
bool IsPostfixOption(std::string_view name);
// Sets the option `name` (IsPostfixOption); false for any other name.
bool SetPostfixOption(std::string_view name, std::string value, routing::PostfixConfigOptions& options);
inline constexpr char kPostfixOptionsUsage[] =
    "[--postfix-dir DIR] [--pool-header NAME] [--unchecked-header NAME] [--default-nexthop NEXTHOP]";

// --tag (hive-milter's sender_pool_tag): letters, digits, '_' and '-'.
absl::Status CheckSenderPoolTag(std::string_view tag);

}  // namespace hive::policy::tools
