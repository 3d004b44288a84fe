// What every AdminService handler shares (admin_service.cc,
// admin_content_service.cc): absl errors as gRPC statuses (a stale version
// carries a serialized VersionConflict in the details), the guard that keeps
// exceptions from crossing into gRPC, and who is calling, for the audit.
//
// Pure functions; thread-safe.
#pragma once

#include <exception>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::server {

grpc::Status ToGrpc(const absl::Status& s);

inline grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// "<given or anonymous>@<peer>", with the verified identity of the caller
// (access_control.h) when there is one: "alice (cert:ops)@ipv4:..".
std::string Actor(const std::string& given, const grpc::ServerContext* context);

// No exception may cross a gRPC handler.
template <typename F>
grpc::Status Guard(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    hive::log::Error(absl::StrCat("admin: internal error: ", e.what()));
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  } catch (...) {
    hive::log::Error("admin: internal error");
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
}

}  // namespace hive::policy::server
