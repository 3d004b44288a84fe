// hivectl: the operator's CLI over hive-policyd's admin API
// (hive.admin.v1.AdminService). See `hivectl --help` and README.md.
//
//   hivectl [--server ADDR] [--json] <command> ...
// ADDR: --server, else $HIVECTL_SERVER, else 127.0.0.1:7454.
#include <cstdlib>
#include <iostream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cli.h"
#include "commands.h"

namespace {

// Options that take a value; everything else starting with -- is a flag.
bool TakesValue(const std::string& name) {
  for (const char* n : {"server", "version", "key", "limit", "sender", "sasl-user", "eml", "from", "to",
                        "client-ip", "helo", "consume", "actor", "count", "hash", "label", "action", "pool",
                        "for", "queue", "kind", "file", "rcpt"}) {
    if (name == n) return true;
  }
  return false;
}

// Options without a value.
bool IsFlag(const std::string& name) { return name == "spam" || name == "ham" || name == "dry-run"; }

}  // namespace

int main(int argc, char** argv) {
  hive::ctl::Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      hive::ctl::PrintUsage(std::cout);
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
  std::string server = args.Get("server");
  if (server.empty()) {
    const char* env = std::getenv("HIVECTL_SERVER");
    server = env != nullptr && *env != '\0' ? env : "127.0.0.1:7454";
  }
  hive::ctl::Context ctx;
  ctx.json = args.json;
  ctx.actor = args.Get("actor");
  if (ctx.actor.empty()) {
    const char* user = std::getenv("USER");
    ctx.actor = user != nullptr ? user : "unknown";
  }
  // Plaintext: the admin listener is loopback / unix socket only (README).
  ctx.stub = hive::admin::v1::AdminService::NewStub(grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  return hive::ctl::Run(ctx, args);
}
