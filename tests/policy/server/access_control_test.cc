// The admin API's access table and decisions (access_control.h): every
// AdminService method has a role (so a new RPC cannot be added unguarded),
// roles order, refusals say who, what and which role is needed; tokens are
// compared by SHA-256; config errors name the field. The same checks run
// over real gRPC with certificates in tests/integration/security_test.cc.
#include "server/access_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include <set>
#include <string>

#include "hive/admin/v1/admin.pb.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::server {
namespace {

using ::testing::HasSubstr;

const google::protobuf::ServiceDescriptor& AdminServiceDescriptor() {
  return *hive::admin::v1::GetPolicyRequest::descriptor()->file()->FindServiceByName("AdminService");
}

TEST(AccessTableTest, EveryAdminServiceMethodHasARole) {
  const google::protobuf::ServiceDescriptor& service = AdminServiceDescriptor();
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string path = "/" + service.full_name() + "/" + service.method(i)->name();
    EXPECT_TRUE(RequiredRole(path).has_value())
        << path << " is not in kMethodRoles (access_control.cc): add it with the role it needs";
  }
}

TEST(AccessTableTest, NoEntryNamesAMethodThatDoesNotExistAndNoneIsListedTwice) {
  const google::protobuf::ServiceDescriptor& service = AdminServiceDescriptor();
  std::set<std::string> seen;
  for (const MethodRole& m : MethodRoles()) {
    const std::string path = m.path;
    EXPECT_TRUE(seen.insert(path).second) << path << " twice";
    const std::string prefix = "/" + service.full_name() + "/";
    if (path.rfind(prefix, 0) == 0) {
      EXPECT_NE(service.FindMethodByName(path.substr(prefix.size())), nullptr) << path;
      // Only probes go without identity, never an admin method.
      EXPECT_NE(m.role, Role::kNone) << path;
    }
  }
}

TEST(AccessTableTest, WritesNeedAdminCounterAndLearningChangesNeedOperator) {
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/ApplyPolicy"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/ApplyObject"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/DeleteObject"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/Rollback"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/AdjustCounters"), Role::kOperator);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/Learn"), Role::kOperator);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/AddFingerprint"), Role::kOperator);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/GetPolicy"), Role::kViewer);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/TailDecisions"), Role::kViewer);
  EXPECT_EQ(RequiredRole("/hive.admin.v1.AdminService/Nope"), std::nullopt);
}

TEST(AccessDecisionTest, RolesOrderAndRefusalsNameCallerMethodAndRole) {
  const std::string apply = "/hive.admin.v1.AdminService/ApplyPolicy";
  const std::string reset = "/hive.admin.v1.AdminService/AdjustCounters";
  EXPECT_TRUE(AccessControl::Decide({"cert:a", Role::kAdmin, ""}, apply).ok());
  EXPECT_TRUE(AccessControl::Decide({"cert:o", Role::kOperator, ""}, reset).ok());
  EXPECT_TRUE(AccessControl::Decide({"cert:a", Role::kAdmin, ""}, reset).ok());
  grpc::Status viewer = AccessControl::Decide({"cert:v", Role::kViewer, ""}, reset);
  EXPECT_EQ(viewer.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(viewer.error_message(), "AdjustCounters needs role operator; cert:v has role viewer");
  grpc::Status none = AccessControl::Decide({"", Role::kNone, ""}, apply);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status bad_token = AccessControl::Decide({"token:1234", Role::kNone, "bearer token not recognised"}, apply);
  EXPECT_EQ(bad_token.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(bad_token.error_message(), "ApplyPolicy: bearer token not recognised");
  // Not in the table: refused even for an admin.
  grpc::Status unknown = AccessControl::Decide({"cert:a", Role::kAdmin, ""}, "/hive.admin.v1.AdminService/New");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Probes need nobody.
  EXPECT_TRUE(AccessControl::Decide({"", Role::kNone, ""}, "/grpc.health.v1.Health/Check").ok());
}

TEST(AccessSettingsTest, Sha256IsOpenSslsAndTokensAreStoredAsHashes) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  hive::config::v1::AdminServer admin;
  ASSERT_TRUE(hive::config::YamlToProto("tokens:\n  - {name: ci, sha256: BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD, role: operator}\n",
                                        "admin", admin)
                  .ok());
  absl::StatusOr<AccessSettings> s = AccessSettingsFrom(admin, /*plaintext=*/true);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->tokens.size(), 1u);
  EXPECT_EQ(s->tokens[0].sha256, Sha256Hex("abc"));
  EXPECT_EQ(s->tokens[0].role, Role::kOperator);
  // With credentials configured, a local caller without any has no role.
  EXPECT_EQ(s->local_role, Role::kNone);
}

TEST(AccessSettingsTest, LocalRoleIsAdminOnlyWhenNothingIsConfigured) {
  absl::StatusOr<AccessSettings> s = AccessSettingsFrom(hive::config::v1::AdminServer(), true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->local_role, Role::kAdmin);
  hive::config::v1::AdminServer admin;
  admin.set_local_role(hive::config::v1::ADMIN_ROLE_VIEWER);
  EXPECT_EQ(AccessSettingsFrom(admin, true)->local_role, Role::kViewer);
}

TEST(AccessSettingsTest, ErrorsNameTheField) {
  hive::config::v1::AdminServer admin;
  auto* t = admin.add_tokens();
  t->set_name("ci");
  t->set_sha256("not-a-hash");
  t->set_role(hive::config::v1::ADMIN_ROLE_ADMIN);
  EXPECT_THAT(std::string(AccessSettingsFrom(admin, false).status().message()),
              HasSubstr("server.admin.tokens[0].sha256: 64 hex digits"));
  admin.Clear();
  admin.add_principals()->set_name("ops");
  EXPECT_THAT(std::string(AccessSettingsFrom(admin, false).status().message()),
              HasSubstr("server.admin.principals[0].role: required"));
}

}  // namespace
}  // namespace hive::policy::server
