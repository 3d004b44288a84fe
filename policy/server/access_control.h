// Who may call what on the admin API, decided in ONE place for every RPC:
// AccessControl is the gRPC AuthMetadataProcessor of the admin listener,
// so gRPC runs it before any handler, for every call, and a refusal never
// reaches AdminServiceImpl.
//
// Identity, in this order:
//   1. a bearer token (metadata "authorization: Bearer <token>"), found by
//      its SHA-256 among admin.tokens ("token:<name>"); a token that is not
//      there is refused (UNAUTHENTICATED), whatever else the caller shows;
//   2. a verified client certificate (TLS listener): its subject CN or a
//      subject alternative name among admin.principals ("cert:<name>"); a
//      certificate that names no principal has no role;
//   3. on a plaintext (loopback / unix socket) listener only: admin.local_role
//      ("local").
// Roles (kViewer < kOperator < kAdmin) come from the config; each method
// needs the role of kMethodRoles. A method missing from the table is
// refused for everyone (the unit test checks the table against the
// service's descriptor, so a new RPC cannot be added unguarded).
// No identity: UNAUTHENTICATED; too small a role: PERMISSION_DENIED; both
// with a message naming the caller, the method and the role it needs, and
// each refusal goes to the refusal sink (main.cc: the audit history and the
// log, hence syslog).
//
// Tokens, principals and the local role follow reloads (Update, from
// main.cc): a revoked token is refused from the next call on, without the
// restart that would cost the in-memory counters. Whether the listener is
// plaintext is fixed with the listener.
//
// Thread-safe (Update swaps the settings under a mutex; a call in progress
// finishes with the ones it started with); the sink must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "hive/config/v1/policy_config.pb.h"

namespace hive::policy::server {

enum class Role { kNone = 0, kViewer = 1, kOperator = 2, kAdmin = 3 };
const char* RoleName(Role role);

struct MethodRole {
  const char* path;  // "/hive.admin.v1.AdminService/ApplyPolicy"
  Role role;              // kNone: anyone, even without identity (health)
};
// The table: every RPC the admin listener serves.
std::span<const MethodRole> MethodRoles();
// nullopt: not in the table (refused).
std::optional<Role> RequiredRole(const std::string& path);

// SHA-256 as 64 lower-case hex digits (OpenSSL).
std::string Sha256Hex(const std::string& data);

struct Caller {
  std::string identity;  // "token:ci", "cert:oncall.example", "local", "" (none)
  Role role = Role::kNone;
  std::string refusal;   // non-empty: refused before any role (bad token)
};

struct AccessSettings {
  struct Token {
    std::string name;
    std::string sha256;  // 64 lower-case hex digits
    Role role = Role::kNone;
  };
  std::vector<std::pair<std::string, Role>> principals;
  std::vector<Token> tokens;
  Role local_role = Role::kNone;
  bool plaintext = false;  // the listener is plaintext (local_role applies)
};

// From the config's server.admin; errors name the field.
absl::StatusOr<AccessSettings> AccessSettingsFrom(const hive::config::v1::AdminServer& admin, bool plaintext);

class AccessControl final : public grpc::AuthMetadataProcessor {
 public:
  // who ("cert:oncall", "anonymous"), method ("ApplyPolicy"), why.
  using RefusalSink = std::function<void(const std::string& who, const std::string& method, const std::string& why)>;

  AccessControl(AccessSettings settings, RefusalSink sink);

  // Replaces the tokens, principals and local role; `settings.plaintext` is
  // ignored (the listener's stays).
  void Update(AccessSettings settings);
  // The settings in force now.
  std::shared_ptr<const AccessSettings> Settings() const;

  // `authorization`: the metadata value, "" when absent.
  Caller Identify(const grpc::AuthContext& auth, const std::string& authorization) const;
  // OK, UNAUTHENTICATED or PERMISSION_DENIED for `caller` calling `path`.
  static grpc::Status Decide(const Caller& caller, const std::string& path);
  // The caller of a running handler, for the audit ("token:ci").
  std::string IdentityOf(const grpc::ServerContext& context) const;

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata, OutputMetadata* response_metadata) override;

 private:
  const bool plaintext_;
  mutable std::mutex mu_;
  std::shared_ptr<const AccessSettings> settings_;  // guarded by mu_
  const RefusalSink sink_;
};

// The AccessControl of the running admin listener, for Actor()
// (admin_handler.h); null when there is none (unit tests of handlers).
void InstallAccessControl(const AccessControl* access);
const AccessControl* InstalledAccessControl();

}  // namespace hive::policy::server
