// What every hivectl command shares: parsed arguments, the connection,
// exit codes, and the helpers that call, fail and print alike (a failed
// call's message and exit code by its gRPC status; --json as proto JSON).
//
// Exit codes (kExit*): what a script can branch on.
// Not thread-safe (one command per process).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "hive/admin/v1/admin.grpc.pb.h"

namespace hive::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // server unreachable or failed
inline constexpr int kExitUsage = 2;     // bad arguments, invalid policy
inline constexpr int kExitConflict = 3;  // stale version
inline constexpr int kExitNotFound = 4;
inline constexpr int kExitDenied = 5;    // UNAUTHENTICATED / PERMISSION_DENIED

// Unary calls; a stream (tail) has none unless asked.
inline constexpr auto kDeadline = std::chrono::seconds(10);

struct Args {
  std::vector<std::string> positional;  // command words and operands
  std::map<std::string, std::vector<std::string>> options;  // --name value (repeatable)
  bool json = false;

  std::string Get(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() || it->second.empty() ? "" : it->second.back();
  }
  bool Has(const std::string& name) const { return options.contains(name); }
};

struct Context {
  std::unique_ptr<hive::admin::v1::AdminService::Stub> stub;
  std::string actor;
  bool json = false;
};

// A client context with kDeadline and the bearer token.
std::unique_ptr<grpc::ClientContext> Call();
// Every call carries "authorization: Bearer <token>" ("" = none); set once
// by main before any call.
void SetBearerToken(std::string token);
void AddBearerToken(grpc::ClientContext& context);
// "hivectl: <why> (hivectl --help)" on stderr; kExitUsage.
int Usage(const std::string& why);
// The server's message on stderr; the exit code by its status.
int Failed(const grpc::Status& s);
// Indented proto JSON (field names as in the .proto), or one line.
void PrintJson(const google::protobuf::Message& m, bool one_line = false);
std::string TimeText(std::int64_t unix_ms);
bool ReadFile(const std::string& path, std::string& out);

}  // namespace hive::ctl
