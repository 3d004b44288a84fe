// hive-milter's settings: the command line, the optional YAML file
// (hive.config.v1.MilterConfig), defaults, and validation, resolved into one
// immutable Settings value that sessions share.
//
// Usage: auto cl = ParseCommandLine(args); auto settings = LoadSettings(*cl);
// An error names the flag, or the file:line:col and field path.
//
// Thread-safety: pure functions; Settings is immutable once built.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hive/config/v1/tls.pb.h"
#include "milter/decision.h"
#include "milter/degraded.h"
#include "milter/lease_table.h"

namespace hive::milter {

inline constexpr absl::Duration kDefaultRpcTimeout = absl::Seconds(2);
inline constexpr absl::Duration kMaxRpcTimeout = absl::Seconds(60);
inline constexpr uint64_t kDefaultMaxBodyBytes = 1024 * 1024;
inline constexpr uint32_t kDefaultMaxHeaders = 500;
inline constexpr uint64_t kDefaultMaxHeaderBytes = 1024 * 1024;
inline constexpr char kDefaultPoolHeader[] = "X-Hive-Pool";
inline constexpr char kDefaultUncheckedHeader[] = "X-Hive-Policy";

struct Settings {
  std::string listen;
  std::string policy_target;
  // TLS towards policy_target (grpc_tls.h); the settings are read at start
  // only, like the target (gRPC re-reads the files they name). From the
  // config file only: flags are kept to what an init script overrides.
  hive::config::v1::ClientTls policy_tls;
  absl::Duration rpc_timeout = kDefaultRpcTimeout;
  FailureMode failure_mode = FailureMode::kTempfail;
  uint64_t max_body_bytes = kDefaultMaxBodyBytes;
  uint32_t max_headers = kDefaultMaxHeaders;
  uint64_t max_header_bytes = kDefaultMaxHeaderBytes;
  std::string pool_header = kDefaultPoolHeader;
  std::string unchecked_header = kDefaultUncheckedHeader;
  // Sendmail pools (sender_tag.h): "" = the envelope sender is left alone.
  std::string sender_pool_tag;
  // Degraded mode (degraded.h): class header and per-class failure modes.
  ClassFailureModes class_modes;
  // Sender limits decided with the first RCPT call instead of a CheckSender
  // call at MAIL FROM (milter_config.proto). Read at start only.
  bool sender_limits_at_first_rcpt = false;
  // Read at start only: the lease table is sized once.
  std::size_t max_leases = kDefaultMaxLeases;
  bool debug = false;
  // Read at start only (a reload keeps the running endpoint and format).
  std::string metrics_listen;  // "" = no Prometheus endpoint
  bool log_json = false;
};

struct CommandLine {
  std::string config_path;  // empty: no file
  std::optional<std::string> listen;
  std::optional<std::string> policy_target;
  std::optional<FailureMode> failure_mode;
  bool debug = false;
  bool help = false;
  // Validate as a start would, then exit (the unit's ExecStartPre).
  bool check = false;
};

std::string Usage();

// `args` without the program name. Accepts "--flag value" and "--flag=value".
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// Reads the file named by the command line (if any), applies defaults, then
// the flags (flags win), then validates.
absl::StatusOr<Settings> LoadSettings(const CommandLine& command_line);

// SIGUSR1: LoadSettings again. An error leaves the caller on `running`. The
// listen socket and the policy target cannot change without a restart: they
// keep their running values and `note` says so; so do policy_tls, the
// metrics endpoint and the log format. `start_check` (main.cc: the policy
// client as start builds it) runs on the file as loaded: what it refuses is
// an error, so a reload that passes never leaves a restart to fail.
using StartCheck = std::function<absl::Status(const Settings&)>;
absl::StatusOr<Settings> ReloadSettings(const CommandLine& command_line, const Settings& running,
                                        std::string* note, const StartCheck& start_check = nullptr);

}  // namespace hive::milter
