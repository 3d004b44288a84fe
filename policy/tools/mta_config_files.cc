#include "tools/mta_config_files.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/snapshot.h"

namespace hive::policy::tools {

std::vector<MtaConfigFile> PostfixConfigFiles(const routing::Router& router,
                                              const routing::PostfixConfigOptions& options) {
  routing::PostfixConfig pf = GeneratePostfixConfig(router, options);
  return {{"hive_pools", std::move(pf.hive_pools)},
          {"hive_strip", std::move(pf.hive_strip)},
          {"master.cf.hive", std::move(pf.master_cf)},
          {"main.cf.hive", std::move(pf.main_cf)}};
}

std::vector<MtaConfigFile> SendmailConfigFiles(const routing::Router& router,
                                               const routing::SendmailConfigOptions& options) {
  return {{"hive-pools.m4", GenerateSendmailConfig(router, options)}};
}

absl::StatusOr<routing::Router> RouterOfPolicy(std::string_view yaml, std::string_view source_name) {
  absl::StatusOr<config::SnapshotPtr> snapshot = config::LoadSnapshotFromText(yaml, source_name);
  if (!snapshot.ok()) return snapshot.status();
  return (*snapshot)->routing;
}

absl::StatusOr<routing::Router> RouterOfPolicyFile(const std::string& path) {
  absl::StatusOr<config::SnapshotPtr> snapshot = config::LoadSnapshot(path);
  if (!snapshot.ok()) return snapshot.status();
  return (*snapshot)->routing;
}

absl::Status WriteMtaConfigFiles(const std::string& dir, const std::vector<MtaConfigFile>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const MtaConfigFile& f : files) {
    if (absl::Status s = WriteTextFile(absl::StrCat(dir, "/", f.name), f.text); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status WriteTextFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return absl::UnavailableError(absl::StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

bool IsPostfixOption(std::string_view name) {
  return name == "postfix-dir" || name == "pool-header" || name == "unchecked-header" || name == "default-nexthop";
}

bool SetPostfixOption(std::string_view name, std::string value, routing::PostfixConfigOptions& options) {
  if (name == "postfix-dir") options.config_directory = std::move(value);
  else if (name == "pool-header") options.pool_header = std::move(value);
  else if (name == "unchecked-header") options.unchecked_header = std::move(value);
  else if (name == "default-nexthop") options.default_nexthop = std::move(value);
  else return false;
  return true;
}

absl::Status CheckSenderPoolTag(std::string_view tag) {
  bool ok = !tag.empty();
  for (char c : tag) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError("--tag: letters, digits, '_' and '-' only (hive-milter's sender_pool_tag)");
}

}  // namespace hive::policy::tools
