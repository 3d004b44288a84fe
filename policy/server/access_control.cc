#include "server/access_control.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::server {
namespace {

namespace cv1 = hive::config::v1;

constexpr char kAdmin[] = "/hive.admin.v1.AdminService/";

// Every RPC of the admin listener and the role it needs.
constexpr MethodRole kMethodRoles[] = {
    {"/hive.admin.v1.AdminService/GetPolicy", Role::kViewer},
    {"/hive.admin.v1.AdminService/ValidatePolicy", Role::kViewer},
    {"/hive.admin.v1.AdminService/ApplyPolicy", Role::kAdmin},
    {"/hive.admin.v1.AdminService/GetObject", Role::kViewer},
    {"/hive.admin.v1.AdminService/ApplyObject", Role::kAdmin},
    {"/hive.admin.v1.AdminService/DeleteObject", Role::kAdmin},
    {"/hive.admin.v1.AdminService/ListHistory", Role::kViewer},
    {"/hive.admin.v1.AdminService/Rollback", Role::kAdmin},
    {"/hive.admin.v1.AdminService/GetCounters", Role::kViewer},
    {"/hive.admin.v1.AdminService/AdjustCounters", Role::kOperator},
    {"/hive.admin.v1.AdminService/TopUsage", Role::kViewer},
    {"/hive.admin.v1.AdminService/DryRun", Role::kViewer},
    {"/hive.admin.v1.AdminService/GetStatus", Role::kViewer},
    {"/hive.admin.v1.AdminService/Learn", Role::kOperator},
    {"/hive.admin.v1.AdminService/AddFingerprint", Role::kOperator},
    {"/hive.admin.v1.AdminService/RemoveFingerprint", Role::kOperator},
    {"/hive.admin.v1.AdminService/TailDecisions", Role::kViewer},
    // Probes need no identity; reflection shows the schema, a read.
    {"/grpc.health.v1.Health/Check", Role::kNone},
    {"/grpc.health.v1.Health/Watch", Role::kNone},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Role::kViewer},
};

absl::StatusOr<Role> RoleFrom(cv1::AdminRole role, const std::string& field) {
  switch (role) {
    case cv1::ADMIN_ROLE_NONE: return Role::kNone;
    case cv1::ADMIN_ROLE_VIEWER: return Role::kViewer;
    case cv1::ADMIN_ROLE_OPERATOR: return Role::kOperator;
    case cv1::ADMIN_ROLE_ADMIN: return Role::kAdmin;
    default: return absl::InvalidArgumentError(absl::StrCat(field, ": required (none, viewer, operator or admin)"));
  }
}

std::string Value(const grpc::string_ref& s) { return std::string(s.data(), s.size()); }

std::string MethodName(const std::string& path) {
  const std::string name = absl::StartsWith(path, kAdmin) ? path.substr(sizeof kAdmin - 1) : path;
  return hive::log::Sanitize(name, 96);
}

std::atomic<const AccessControl*> g_installed{nullptr};

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kNone: return "none";
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "none";
}

std::span<const MethodRole> MethodRoles() { return kMethodRoles; }

std::optional<Role> RequiredRole(const std::string& path) {
  for (const MethodRole& m : kMethodRoles) {
    if (m.path == path) return m.role;
  }
  return std::nullopt;
}

std::string Sha256Hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

absl::StatusOr<AccessSettings> AccessSettingsFrom(const cv1::AdminServer& admin, bool plaintext) {
  AccessSettings out;
  out.plaintext = plaintext;
  for (int i = 0; i < admin.principals_size(); ++i) {
    const std::string field = absl::StrCat("server.admin.principals[", i, "]");
    const cv1::AdminPrincipal& p = admin.principals(i);
    if (p.name().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".name: required"));
    absl::StatusOr<Role> role = RoleFrom(p.role(), field + ".role");
    if (!role.ok()) return role.status();
    out.principals.emplace_back(p.name(), *role);
  }
  for (int i = 0; i < admin.tokens_size(); ++i) {
    const std::string field = absl::StrCat("server.admin.tokens[", i, "]");
    const cv1::AdminToken& t = admin.tokens(i);
    if (t.name().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".name: required"));
    std::string hash = absl::AsciiStrToLower(t.sha256());
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".sha256: 64 hex digits (printf %s \"$TOKEN\" | sha256sum)"));
    }
    absl::StatusOr<Role> role = RoleFrom(t.role(), field + ".role");
    if (!role.ok()) return role.status();
    out.tokens.push_back({t.name(), std::move(hash), *role});
  }
  if (admin.local_role() == cv1::ADMIN_ROLE_UNSPECIFIED) {
    out.local_role = out.principals.empty() && out.tokens.empty() ? Role::kAdmin : Role::kNone;
  } else {
    absl::StatusOr<Role> role = RoleFrom(admin.local_role(), "server.admin.local_role");
    if (!role.ok()) return role.status();
    out.local_role = *role;
  }
  return out;
}

AccessControl::AccessControl(AccessSettings settings, RefusalSink sink)
    : plaintext_(settings.plaintext),
      settings_(std::make_shared<const AccessSettings>(std::move(settings))),
      sink_(std::move(sink)) {}

void AccessControl::Update(AccessSettings settings) {
  settings.plaintext = plaintext_;
  auto next = std::make_shared<const AccessSettings>(std::move(settings));
  std::lock_guard lock(mu_);
  settings_ = std::move(next);
}

std::shared_ptr<const AccessSettings> AccessControl::Settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

Caller AccessControl::Identify(const grpc::AuthContext& auth, const std::string& authorization) const {
  const std::shared_ptr<const AccessSettings> settings = Settings();
  Caller caller;
  if (!authorization.empty()) {
    constexpr char kBearer[] = "Bearer ";
    if (!absl::StartsWith(authorization, kBearer)) {
      caller.refusal = "the authorization metadata is not \"Bearer <token>\"";
      return caller;
    }
    const std::string hash = Sha256Hex(authorization.substr(sizeof kBearer - 1));
    for (const AccessSettings::Token& t : settings->tokens) {
      // Constant time: the comparison says nothing about how close a guess was.
      if (CRYPTO_memcmp(hash.data(), t.sha256.data(), hash.size()) == 0) {
        caller.identity = "token:" + t.name;
        caller.role = t.role;
        return caller;
      }
    }
    caller.identity = "token:" + hash.substr(0, 12);
    caller.refusal = "bearer token not recognised";
    return caller;
  }
  std::vector<std::string> names;
  for (const grpc::string_ref& cn : auth.FindPropertyValues("x509_common_name")) names.push_back(Value(cn));
  for (const grpc::string_ref& san : auth.FindPropertyValues("x509_subject_alternative_name")) {
    names.push_back(Value(san));
  }
  for (const std::string& name : names) {
    for (const auto& [principal, role] : settings->principals) {
      if (principal == name) {
        caller.identity = "cert:" + name;
        caller.role = role;
        return caller;
      }
    }
  }
  if (!names.empty()) {
    caller.identity = "cert:" + names.front();  // verified, but no principal
    return caller;
  }
  if (settings->plaintext) {
    caller.identity = "local";
    caller.role = settings->local_role;
  }
  return caller;
}

grpc::Status AccessControl::Decide(const Caller& caller, const std::string& path) {
  const std::string method = MethodName(path);
  const std::optional<Role> needed = RequiredRole(path);
  if (!caller.refusal.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, absl::StrCat(method, ": ", caller.refusal));
  }
  if (needed && *needed == Role::kNone) return grpc::Status::OK;
  if (caller.identity.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat(method, ": no client certificate of a principal and no bearer token"));
  }
  if (!needed) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(method, ": not in the access table, refused for everyone"));
  }
  if (caller.role < *needed) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(method, " needs role ", RoleName(*needed), "; ", caller.identity, " has role ",
                                     RoleName(caller.role)));
  }
  return grpc::Status::OK;
}

std::string AccessControl::IdentityOf(const grpc::ServerContext& context) const {
  std::string authorization;
  const auto& md = context.client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) authorization = Value(it->second);
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  return Identify(*auth, authorization).identity;
}

grpc::Status AccessControl::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                    OutputMetadata* /*consumed*/, OutputMetadata* /*response*/) {
  std::string path;
  std::string authorization;
  for (const auto& [key, value] : auth_metadata) {
    if (key == ":path") path = Value(value);
    if (key == "authorization") authorization = Value(value);
  }
  const Caller caller = Identify(*context, authorization);
  grpc::Status status = Decide(caller, path);
  if (!status.ok() && sink_) {
    sink_(caller.identity.empty() ? "anonymous" : caller.identity, MethodName(path), status.error_message());
  }
  return status;
}

void InstallAccessControl(const AccessControl* access) { g_installed.store(access); }
const AccessControl* InstalledAccessControl() { return g_installed.load(); }

}  // namespace hive::policy::server
