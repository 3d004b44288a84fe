// hivectl's commands: each turns parsed arguments into one or two
// AdminService calls and prints the answer, as a human table / text by
// default or as JSON (--json, the reply messages in proto JSON) for scripts.
//
// Exit codes (kExit*): what a script can branch on.
// Not thread-safe (one command per process).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hive/admin/v1/admin.grpc.pb.h"

namespace hive::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // server unreachable or failed
inline constexpr int kExitUsage = 2;     // bad arguments, invalid policy
inline constexpr int kExitConflict = 3;  // stale version
inline constexpr int kExitNotFound = 4;

struct Args {
  std::vector<std::string> positional;  // command words and operands
  std::map<std::string, std::vector<std::string>> options;  // --name value (repeatable)
  bool json = false;

  std::string Get(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() || it->second.empty() ? "" : it->second.back();
  }
};

struct Context {
  std::unique_ptr<hive::admin::v1::AdminService::Stub> stub;
  std::string actor;
  bool json = false;
};

// Runs the command named by args.positional; returns the exit code.
int Run(Context& ctx, const Args& args);

void PrintUsage(std::ostream& out);

}  // namespace hive::ctl
