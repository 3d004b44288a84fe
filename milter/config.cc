#include "milter/config.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hive/config/v1/milter_config.pb.h"
#include "support/listen_address.h"
#include "support/yaml_to_proto.h"

namespace hive::milter {
namespace {

namespace cfg = hive::config::v1;

absl::StatusOr<FailureMode> ParseFailureMode(std::string_view text) {
  if (text == "tempfail") return FailureMode::kTempfail;
  if (text == "accept") return FailureMode::kAccept;
  return absl::InvalidArgumentError(
      absl::StrCat("--failure-mode: expected tempfail or accept, got '", std::string(text), "'"));
}

// class_header and failure_modes: a class at most once, a class header
// whenever a class is named (else no message could ever have one).
absl::Status LoadClassModes(const cfg::MilterConfig& file, const hive::config::SourceMap& where,
                            ClassFailureModes& out) {
  auto bad = [&](const std::string& field, const std::string& problem) {
    return absl::InvalidArgumentError(where.Describe(field, problem));
  };
  if (!file.class_header().empty()) {
    if (!IsValidHeaderName(file.class_header())) return bad("class_header", "not a valid header name");
    out.class_header = file.class_header();
  }
  for (int i = 0; i < file.failure_modes_size(); ++i) {
    const cfg::ClassFailureMode& m = file.failure_modes(i);
    const std::string path = absl::StrCat("failure_modes[", i, "]");
    std::string name = absl::AsciiStrToLower(m.class_());
    if (name.empty()) return bad(path + ".class", "is required");
    for (const auto& [seen, mode] : out.modes) {
      if (seen == name) return bad(path + ".class", "listed twice");
    }
    ClassMode mode = ClassMode::kTempfail;
    switch (m.mode()) {
      case cfg::CLASS_MODE_TEMPFAIL: mode = ClassMode::kTempfail; break;
      case cfg::CLASS_MODE_ACCEPT: mode = ClassMode::kAccept; break;
      case cfg::CLASS_MODE_LEASE_THEN_TEMPFAIL: mode = ClassMode::kLeaseThenTempfail; break;
      default: return bad(path + ".mode", "is required: tempfail, accept or lease_then_tempfail");
    }
    out.modes.emplace_back(std::move(name), mode);
  }
  if (!out.modes.empty() && out.class_header.empty()) {
    return bad("class_header", "is required with failure_modes (hive-policyd's ratelimit.class_header)");
  }
  return absl::OkStatus();
}

}  // namespace

std::string Usage() {
  return "usage: hive-milter [--config PATH] [--listen SPEC] [--policy TARGET]\n"
         "                   [--failure-mode tempfail|accept] [--check] [--debug]\n"
         "  --config PATH        YAML file (hive.config.v1.MilterConfig); optional when\n"
         "                       --listen and --policy are given\n"
         "  --listen SPEC        libmilter socket: inet:PORT@HOST, inet6:PORT@HOST, unix:PATH\n"
         "  --policy TARGET      gRPC target of hive-policyd: HOST:PORT or unix:PATH\n"
         "  --failure-mode MODE  when the policy service fails: tempfail (default) or accept\n"
         "  --check              validate the configuration as a start would, and exit\n"
         "                       (0 valid, 2 invalid); nothing listens, nothing connects\n"
         "  --debug              log debug lines\n";
}

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const std::size_t eq = flag.find('='); absl::StartsWith(flag, "--") && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(flag, ": missing value"));
      return args[++i];
    };
    if (flag == "--help" || flag == "-h") {
      cl.help = true;
    } else if (flag == "--debug") {
      if (inline_value) return absl::InvalidArgumentError("--debug takes no value");
      cl.debug = true;
    } else if (flag == "--check") {
      if (inline_value) return absl::InvalidArgumentError("--check takes no value");
      cl.check = true;
    } else if (flag == "--config") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      cl.config_path = *v;
    } else if (flag == "--listen") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      cl.listen = *v;
    } else if (flag == "--policy") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      cl.policy_target = *v;
    } else if (flag == "--failure-mode") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      absl::StatusOr<FailureMode> mode = ParseFailureMode(*v);
      if (!mode.ok()) return mode.status();
      cl.failure_mode = *mode;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", flag, "'"));
    }
  }
  return cl;
}

absl::StatusOr<Settings> LoadSettings(const CommandLine& cl) {
  Settings s;
  cfg::MilterConfig file;
  hive::config::SourceMap where;
  where.SetSource(cl.config_path.empty() ? "command line" : cl.config_path);
  if (!cl.config_path.empty()) {
    if (absl::Status st = hive::config::YamlFileToProto(cl.config_path, file, &where); !st.ok()) return st;
  }
  auto bad = [&](const std::string& field, const std::string& problem) {
    return absl::InvalidArgumentError(where.Describe(field, problem));
  };

  s.listen = file.listen();
  s.policy_target = file.policy_target();
  s.policy_tls = file.policy_tls();
  if (file.has_rpc_timeout()) {
    const absl::Duration d =
        absl::Seconds(file.rpc_timeout().seconds()) + absl::Nanoseconds(file.rpc_timeout().nanos());
    if (d <= absl::ZeroDuration() || d > kMaxRpcTimeout) {
      return bad("rpc_timeout", "must be above 0 and at most 60s (keep it far below the MTA's milter timeouts)");
    }
    s.rpc_timeout = d;
  }
  switch (file.failure_mode()) {
    case cfg::FAILURE_MODE_ACCEPT: s.failure_mode = FailureMode::kAccept; break;
    case cfg::FAILURE_MODE_TEMPFAIL:
    case cfg::FAILURE_MODE_UNSPECIFIED: s.failure_mode = FailureMode::kTempfail; break;
    default: return bad("failure_mode", "unknown value");
  }
  if (file.max_body_bytes() != 0) s.max_body_bytes = file.max_body_bytes();
  if (file.max_headers() != 0) s.max_headers = file.max_headers();
  if (file.max_header_bytes() != 0) s.max_header_bytes = file.max_header_bytes();
  if (!file.pool_header().empty()) {
    if (!IsValidHeaderName(file.pool_header())) return bad("pool_header", "not a valid header name");
    s.pool_header = file.pool_header();
  }
  if (!file.unchecked_header().empty()) {
    if (!IsValidHeaderName(file.unchecked_header())) return bad("unchecked_header", "not a valid header name");
    s.unchecked_header = file.unchecked_header();
  }
  if (!file.sender_pool_tag().empty()) {
    if (!IsValidPoolName(file.sender_pool_tag()) || file.sender_pool_tag().find('.') != std::string::npos) {
      return bad("sender_pool_tag", "expected letters, digits, '_' and '-' only");
    }
    s.sender_pool_tag = file.sender_pool_tag();
  }
  if (absl::Status st = LoadClassModes(file, where, s.class_modes); !st.ok()) return st;
  if (file.max_leases() != 0) s.max_leases = file.max_leases();
  s.sender_limits_at_first_rcpt = file.sender_limits_at_first_rcpt();
  s.metrics_listen = file.observability().metrics_listen();
  s.log_json = file.observability().log_format() == cfg::LOG_FORMAT_JSON;
  if (file.observability().near_limit_ratio() != 0) {
    return bad("observability.near_limit_ratio", "applies to hive-policyd only");
  }
  if (!file.listen().empty()) {
    if (absl::Status st = hive::support::CheckMilterSocket(file.listen()); !st.ok()) {
      return bad("listen", std::string(st.message()));
    }
  }
  if (!s.metrics_listen.empty()) {
    if (absl::Status st = hive::support::CheckHostPort(s.metrics_listen); !st.ok()) {
      return bad("observability.metrics_listen", std::string(st.message()));
    }
  }

  if (cl.listen) s.listen = *cl.listen;
  if (cl.policy_target) s.policy_target = *cl.policy_target;
  if (cl.failure_mode) s.failure_mode = *cl.failure_mode;
  s.debug = cl.debug;

  if (cl.listen) {
    if (absl::Status st = hive::support::CheckMilterSocket(s.listen); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--listen: ", st.message()));
    }
  }
  for (absl::string_view target : absl::StrSplit(s.policy_target, ',', absl::SkipWhitespace())) {
    if (absl::Status st = hive::support::CheckTargetPort(std::string(absl::StripAsciiWhitespace(target))); !st.ok()) {
      return cl.policy_target ? absl::InvalidArgumentError(absl::StrCat("--policy: ", st.message()))
                              : bad("policy_target", std::string(st.message()));
    }
  }
  if (s.listen.empty()) {
    return absl::InvalidArgumentError(cl.config_path.empty()
                                          ? "no listen socket: give --listen or --config"
                                          : where.Describe("listen", "missing (or give --listen)"));
  }
  if (s.policy_target.empty()) {
    return absl::InvalidArgumentError(cl.config_path.empty()
                                          ? "no policy target: give --policy or --config"
                                          : where.Describe("policy_target", "missing (or give --policy)"));
  }
  if (SameName(s.class_modes.class_header, s.pool_header) || SameName(s.class_modes.class_header, s.unchecked_header)) {
    return bad("class_header", "must differ from pool_header and unchecked_header");
  }
  if (s.pool_header == s.unchecked_header) {
    return bad("unchecked_header", "must differ from pool_header");
  }
  return s;
}

absl::StatusOr<Settings> ReloadSettings(const CommandLine& command_line, const Settings& running,
                                        std::string* note, const StartCheck& start_check) {
  absl::StatusOr<Settings> loaded = LoadSettings(command_line);
  if (!loaded.ok()) return loaded;
  if (start_check) {
    if (absl::Status refused = start_check(*loaded); !refused.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("a restart would refuse it: ", refused.message()));
    }
  }
  note->clear();
  if (loaded->listen != running.listen) {
    absl::StrAppend(note, "listen stays ", running.listen, " until a restart; ");
    loaded->listen = running.listen;
  }
  if (loaded->policy_target != running.policy_target) {
    absl::StrAppend(note, "policy_target stays ", running.policy_target, " until a restart; ");
    loaded->policy_target = running.policy_target;
  }
  if (loaded->policy_tls.SerializeAsString() != running.policy_tls.SerializeAsString()) {
    absl::StrAppend(note, "policy_tls stays as it was until a restart; ");
    loaded->policy_tls = running.policy_tls;
  }
  if (loaded->sender_limits_at_first_rcpt != running.sender_limits_at_first_rcpt) {
    // On a UNIX socket it decides the MAIL step's negotiation (no reply),
    // which connections keep for their lifetime.
    absl::StrAppend(note, "sender_limits_at_first_rcpt stays ", running.sender_limits_at_first_rcpt ? "on" : "off",
                    " until a restart; ");
    loaded->sender_limits_at_first_rcpt = running.sender_limits_at_first_rcpt;
  }
  if (loaded->metrics_listen != running.metrics_listen || loaded->log_json != running.log_json) {
    absl::StrAppend(note, "observability.metrics_listen / log_format stay as they were until a restart; ");
    loaded->metrics_listen = running.metrics_listen;
    loaded->log_json = running.log_json;
  }
  loaded->debug = running.debug;
  return loaded;
}

}  // namespace hive::milter
