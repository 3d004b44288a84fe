// hivectl: the operator's CLI over hive-policyd's admin API
// (hive.admin.v1.AdminService). See `hivectl --help` and README.md.
//
//   hivectl [--server ADDR] [--tls-ca ..] [--token-file ..] [--json] <command> ...
// Connection settings: connection.h.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cli.h"
#include "commands.h"
#include "connection.h"
#include "support/log.h"
#include "tools/mta_config_files.h"

namespace {

// Options that take a value; everything else starting with -- is a flag.
bool TakesValue(const std::string& name) {
  for (const char* n : {"server", "version", "key", "limit", "sender", "sasl-user", "eml", "from", "to",
                        "client-ip", "helo", "consume", "actor", "count", "hash", "label", "action", "pool",
                        "for", "queue", "kind", "file", "rcpt", "config", "tls-ca", "tls-cert", "tls-key",
                        "tls-server-name", "token-file", "out", "tag"}) {
    if (name == n) return true;
  }
  return hive::policy::tools::IsPostfixOption(name);
}

// Options without a value.
bool IsFlag(const std::string& name) { return name == "spam" || name == "ham" || name == "dry-run"; }

// Who the history names when --actor is not given: the login, else the
// account of this uid ($USER is not set under sudo -i, cron, or a
// container's shell), never "unknown".
std::string DefaultActor() {
  for (const char* variable : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') return value;
  }
  if (const passwd* account = getpwuid(getuid()); account != nullptr && account->pw_name != nullptr) {
    return account->pw_name;
  }
  return "uid:" + std::to_string(getuid());
}

}  // namespace

int main(int argc, char** argv) {
  hive::ctl::Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      hive::ctl::PrintUsage(std::cout);
      hive::ctl::PrintConnectionUsage(std::cout);
      return hive::ctl::kExitOk;
    }
    if (a == "--json") {
      args.json = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (IsFlag(name)) {
      // present, no value
    } else if (TakesValue(name)) {
      if (i + 1 >= argc) {
        std::cerr << "hivectl: --" << name << " needs a value\n";
        return hive::ctl::kExitUsage;
      }
      value = argv[++i];
    } else {
      std::cerr << "hivectl: unknown option --" << name << "\n";
      return hive::ctl::kExitUsage;
    }
    args.options[name].push_back(value);
  }
  if (args.positional.empty()) {
    hive::ctl::PrintUsage(std::cerr);
    return hive::ctl::kExitUsage;
  }
  // The TLS checks' log lines are for the daemons; hivectl says what fails.
  hive::log::Init({.ident = "hivectl", .to_syslog = false, .to_stderr = false});
  absl::StatusOr<hive::ctl::Connection> connection = hive::ctl::ResolveConnection(args);
  if (!connection.ok()) return hive::ctl::Usage(std::string(connection.status().message()));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = hive::ctl::Connect(*connection);
  if (!channel.ok()) return hive::ctl::Usage(std::string(channel.status().message()));
  hive::ctl::SetBearerToken(connection->token);
  hive::ctl::Context ctx;
  ctx.json = args.json;
  ctx.actor = args.Get("actor");
  if (ctx.actor.empty()) ctx.actor = DefaultActor();
  ctx.stub = hive::admin::v1::AdminService::NewStub(*channel);
  return hive::ctl::Run(ctx, args);
}
