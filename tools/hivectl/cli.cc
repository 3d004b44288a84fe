#include "cli.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "absl/time/time.h"

namespace hive::ctl {

namespace av1 = hive::admin::v1;

namespace {
std::string& BearerToken() {
  static std::string token;
  return token;
}
}  // namespace

void SetBearerToken(std::string token) { BearerToken() = std::move(token); }

void AddBearerToken(grpc::ClientContext& context) {
  if (!BearerToken().empty()) context.AddMetadata("authorization", "Bearer " + BearerToken());
}

std::unique_ptr<grpc::ClientContext> Call() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + kDeadline);
  AddBearerToken(*c);
  return c;
}

int Usage(const std::string& why) {
  std::cerr << "hivectl: " << why << " (hivectl --help)\n";
  return kExitUsage;
}

// A failed call: the server's message, and an exit code by its status.
int Failed(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::FAILED_PRECONDITION: {
      // A stale version carries the current one; other preconditions (a
      // content model that is not configured) are server state.
      av1::VersionConflict conflict;
      if (conflict.ParseFromString(s.error_details()) && !conflict.current_version().empty()) {
        std::cerr << "hivectl: conflict: " << s.error_message() << "\n"
                  << "current version: " << conflict.current_version() << "\n";
        return kExitConflict;
      }
      std::cerr << "hivectl: " << s.error_message() << "\n";
      return kExitError;
    }
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      std::cerr << "hivectl: refused:\n" << s.error_message() << "\n";
      return kExitUsage;
    case grpc::StatusCode::NOT_FOUND:
      std::cerr << "hivectl: " << s.error_message() << "\n";
      return kExitNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      std::cerr << "hivectl: refused by the admin API: " << s.error_message() << "\n";
      return kExitDenied;
    case grpc::StatusCode::UNIMPLEMENTED:
      // gRPC's own answer for a service or method the server lacks.
      std::cerr << "hivectl: the server does not serve this admin call"
                << (s.error_message().empty() ? "" : ": " + s.error_message())
                << " (is --server hive-policyd's policy listener instead of its admin listener, "
                   "server.admin.listen / --admin-listen? or an older hive-policyd)\n";
      return kExitError;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::cerr << "hivectl: cannot reach hive-policyd's admin API: " << s.error_message() << "\n";
      return kExitError;
    default:
      std::cerr << "hivectl: error " << s.error_code() << ": " << s.error_message() << "\n";
      return kExitError;
  }
}

void PrintJson(const google::protobuf::Message& m, bool one_line) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = !one_line;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  std::cout << out;
  if (out.empty() || out.back() != '\n') std::cout << "\n";
}

std::string TimeText(std::int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

}  // namespace hive::ctl
