#include "server/admin_handler.h"

#include "admin/policy_repository.h"
#include "server/access_control.h"
#include "hive/admin/v1/admin.pb.h"

namespace hive::policy::server {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  std::string details;
  if (const auto current = s.GetPayload(admin::kCurrentVersionPayload)) {
    hive::admin::v1::VersionConflict conflict;
    conflict.set_current_version(std::string(*current));
    details = conflict.SerializeAsString();
  }
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()), details);
}

std::string Actor(const std::string& given, const grpc::ServerContext* context) {
  std::string identity;
  if (const AccessControl* access = InstalledAccessControl(); access != nullptr) {
    identity = access->IdentityOf(*context);
  }
  const bool verified = !identity.empty() && identity != "local";
  return absl::StrCat(given.empty() ? "anonymous" : given, verified ? absl::StrCat(" (", identity, ")") : "", "@",
                      context->peer());
}

}  // namespace hive::policy::server
