// TLS and access control of hive-policyd's two listeners, through real gRPC
// over loopback with certificates made at test time (harness/test_pki.h):
// the policy listener with mutual TLS (a milter's client certificate), the
// admin listener with roles from client certificates and bearer tokens,
// driven by the real hivectl binary as an operator runs it (its output and
// exit codes asserted), and the audit of every refusal. Also: plaintext is
// refused on a non-loopback address and said loudly on loopback; renewed
// certificates and a new CA are used without a restart, by both listeners
// and by a long-lived client (the milter's credentials); the admin listener
// cannot share the policy listener's address.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "harness/net.h"
#include "harness/process.h"
#include "harness/temp_dir.h"
#include "harness/test_pki.h"
#include "hive/admin/v1/admin.grpc.pb.h"
#include "hive/policy/v1/policy.grpc.pb.h"
#include "milter/policy_client.h"
#include "support/grpc_tls.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kWait = std::chrono::seconds(45);
constexpr char kToken[] = "s3cret-operator-token";

struct CtlRun {
  int code = -1;
  std::string output;
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = pki_.Issue("localhost", {.server = true});
    milter_ = pki_.Issue("milter.mta1");
    viewer_ = pki_.Issue("viewer.ops");
    operator_ = pki_.Issue("operator.ops");
    admin_ = pki_.Issue("admin.ops");
    stranger_ = pki_.Issue("stranger.ops");
    expired_ = pki_.Issue("admin.ops", {.expired = true});
    alien_ = pki_.Issue("admin.ops", {.other_ca = true});
    // hive-policyd reads its certificate, key and CA from here, where a
    // test can replace them while it runs.
    std::filesystem::create_directories(dir_.Sub("live"));
    Install(server_.cert_file, kLiveCert);
    Install(server_.key_file, kLiveKey);
    Install(pki_.ca_file(), kLiveCa);
  }

  static constexpr char kLiveCert[] = "live/server.crt";
  static constexpr char kLiveKey[] = "live/server.key";
  static constexpr char kLiveCa[] = "live/ca.pem";

  // Copies `from` to dir_/`to` as an operator renews a file: written
  // whole beside it, renamed into place.
  void Install(const std::string& from, const std::string& to) {
    WriteFile(dir_.Sub(to) + ".new", ReadFile(from));
    ASSERT_EQ(std::rename((dir_.Sub(to) + ".new").c_str(), dir_.Sub(to).c_str()), 0) << to;
  }

  // hive-policyd with TLS on both listeners; `admin_extra` is appended to
  // server.admin.
  void StartPolicyd(const std::string& admin_tls_extra = "", const std::string& token_hash = "") {
    if (policy_port_ == 0) policy_port_ = FreePort();
    if (admin_port_ == 0) admin_port_ = FreePort();
    if (metrics_port_ == 0) metrics_port_ = FreePort();
    const std::string tls = "{cert_file: " + dir_.Sub(kLiveCert) + ", key_file: " + dir_.Sub(kLiveKey) +
                            ", ca_file: " + dir_.Sub(kLiveCa);
    const std::string yaml = "server:\n  tls: " + tls + ", require_client_cert: true}\n" +
                             "  admin:\n    listen: 127.0.0.1:" + std::to_string(admin_port_) +
                             "\n    tls: " + tls + admin_tls_extra + "}\n" +
                             "    principals:\n"
                             "      - {name: viewer.ops, role: viewer}\n"
                             "      - {name: operator.ops, role: operator}\n"
                             "      - {name: admin.ops, role: admin}\n"
                             "    tokens:\n"
                             "      - {name: ci, sha256: " + (token_hash.empty() ? Sha(kToken) : token_hash) +
                             ", role: operator}\n" + kLimits + "observability: {metrics_listen: \"127.0.0.1:" +
                             std::to_string(metrics_port_) + "\"}\n";
    WriteFile(dir_.Sub("policyd.yaml"), yaml);
    policyd_ = std::make_unique<Process>(
        std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir_.Sub("policyd.yaml"), "--listen",
                                 "127.0.0.1:" + std::to_string(policy_port_)},
        dir_.Sub("policyd.log"));
    ASSERT_TRUE(WaitForListener(admin_port_, kWait) && WaitForListener(policy_port_, kWait)) << Log();
  }

  // The token's hash as an operator makes it (sha256sum), not our code.
  std::string Sha(const std::string& token) {
    const std::string out = dir_.Sub("sha.txt");
    const std::string cmd = "printf %s '" + token + "' | sha256sum > " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return ReadFile(out).substr(0, 64);
  }

  // hivectl against the admin listener with `args` (connection flags first).
  CtlRun Ctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(HIVECTL_BIN);
    argv.push_back("--server");
    argv.push_back("127.0.0.1:" + std::to_string(admin_port_));
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_.Sub("hivectl-" + std::to_string(++runs_) + ".log");
    Process p(argv, log);
    CtlRun r;
    if (p.WaitExit(kWait) && WIFEXITED(p.ExitStatus())) r.code = WEXITSTATUS(p.ExitStatus());
    r.output = ReadFile(log);
    return r;
  }
  std::vector<std::string> As(const Issued& who, std::vector<std::string> args) {
    std::vector<std::string> out{"--tls-ca", pki_.ca_file(), "--tls-cert", who.cert_file, "--tls-key", who.key_file};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  std::string Log() const { return ReadFile(dir_.Sub("policyd.log")); }
  std::string Metrics() const { return ScrapeMetrics(metrics_port_); }
  std::string History() const { return ReadFile(dir_.Sub("policyd.yaml.history/history.log")); }

  std::shared_ptr<grpc::Channel> PolicyChannel(const grpc::SslCredentialsOptions& options) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(policy_port_), grpc::SslCredentials(options));
  }
  grpc::SslCredentialsOptions Trusting(const std::string& ca, const Issued* client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadFile(ca);
    if (client != nullptr) {
      o.pem_cert_chain = ReadFile(client->cert_file);
      o.pem_private_key = ReadFile(client->key_file);
    }
    return o;
  }
  grpc::Status CheckSender(const std::shared_ptr<grpc::Channel>& channel,
                           std::chrono::seconds deadline = std::chrono::seconds(20)) {
    auto stub = hive::policy::v1::PolicyService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    hive::policy::v1::SenderRequest req;
    req.mutable_transaction()->set_id("tls-1");
    req.mutable_transaction()->mutable_sender()->set_address("alice@shop.example");
    hive::policy::v1::Verdict verdict;
    return stub->CheckSender(&ctx, req, &verdict);
  }

  static constexpr char kLimits[] = R"(limits:
  - name: per-sender
    match: {sender_domain: [shop.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 100, period: 1h}
)";

  TempDir dir_;
  TestPki pki_{dir_.Sub("pki")};
  Issued server_, milter_, viewer_, operator_, admin_, stranger_, expired_, alien_;
  uint16_t policy_port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<Process> policyd_;
  int runs_ = 0;
};

TEST_F(SecurityTest, PolicyListenerRefusesClientsWithoutAValidCertificate) {
  StartPolicyd();
  // The milter's certificate from our CA: served.
  grpc::Status ok = CheckSender(PolicyChannel(Trusting(pki_.ca_file(), &milter_)));
  EXPECT_TRUE(ok.ok()) << ok.error_message() << Log();
  // No client certificate, one from another CA, an expired one, plaintext:
  // the handshake fails, no RPC reaches the service.
  for (const auto& [what, status] : std::vector<std::pair<std::string, grpc::Status>>{
           {"no certificate", CheckSender(PolicyChannel(Trusting(pki_.ca_file(), nullptr)))},
           {"another CA", CheckSender(PolicyChannel(Trusting(pki_.ca_file(), &alien_)))},
           {"expired", CheckSender(PolicyChannel(Trusting(pki_.ca_file(), &expired_)))},
           {"plaintext", CheckSender(grpc::CreateChannel("127.0.0.1:" + std::to_string(policy_port_),
                                                         grpc::InsecureChannelCredentials()))}}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << what << ": " << status.error_message();
  }
  // A client that does not trust the server's CA refuses it.
  grpc::Status distrust = CheckSender(PolicyChannel(Trusting(pki_.other_ca_file(), &milter_)));
  EXPECT_EQ(distrust.error_code(), grpc::StatusCode::UNAVAILABLE) << distrust.error_message();
  EXPECT_THAT(Log(), HasSubstr("TLS on 127.0.0.1:" + std::to_string(policy_port_) +
                               ": client certificates required"));
}

TEST_F(SecurityTest, RolesFromClientCertificatesEachRefusalAudited) {
  StartPolicyd();
  const std::string policy = dir_.Sub("new-policy.yaml");
  // The running file with a pool added: an apply keeps the server section.
  WriteFile(policy, ReadFile(dir_.Sub("policyd.yaml")) + "routing:\n  pools:\n    - {name: bulk}\n  default_pool: bulk\n");

  // viewer: reads, cannot apply.
  CtlRun status = Ctl(As(viewer_, {"status"}));
  EXPECT_EQ(status.code, 0) << status.output << Log();
  EXPECT_THAT(status.output, HasSubstr("config version: "));
  CtlRun viewer_apply = Ctl(As(viewer_, {"policy", "apply", policy}));
  EXPECT_EQ(viewer_apply.code, 5) << viewer_apply.output;
  EXPECT_THAT(viewer_apply.output,
              HasSubstr("refused by the admin API: ApplyPolicy needs role admin; cert:viewer.ops has role viewer"));

  // operator: resets a counter, cannot apply.
  CtlRun reset = Ctl(As(operator_, {"counters", "reset", "--limit", "per-sender", "--key", "alice@shop.example",
                                 "--actor", "bob"}));
  EXPECT_EQ(reset.code, 0) << reset.output << Log();
  CtlRun operator_apply = Ctl(As(operator_, {"policy", "apply", policy}));
  EXPECT_EQ(operator_apply.code, 5) << operator_apply.output;
  EXPECT_THAT(operator_apply.output, HasSubstr("ApplyPolicy needs role admin; cert:operator.ops has role operator"));

  // admin: applies.
  CtlRun apply = Ctl(As(admin_, {"policy", "apply", policy, "--actor", "carol"}));
  EXPECT_EQ(apply.code, 0) << apply.output << Log();
  EXPECT_THAT(apply.output, HasSubstr("applied"));

  // A verified certificate that names no principal, and no credentials at
  // all (TLS, no client certificate): refused, nothing read.
  CtlRun stranger = Ctl(As(stranger_, {"status"}));
  EXPECT_EQ(stranger.code, 5) << stranger.output;
  EXPECT_THAT(stranger.output, HasSubstr("GetStatus needs role viewer; cert:stranger.ops has role none"));
  CtlRun nobody = Ctl({"--tls-ca", pki_.ca_file(), "status"});
  EXPECT_EQ(nobody.code, 5) << nobody.output;
  EXPECT_THAT(nobody.output, HasSubstr("GetStatus: no client certificate of a principal and no bearer token"));

  // The MTA-side generators read the running policy: a viewer may, a
  // stranger may not (refused, audited below).
  CtlRun viewer_pf = Ctl(As(viewer_, {"postfix-config"}));
  EXPECT_EQ(viewer_pf.code, 0) << viewer_pf.output;
  EXPECT_THAT(viewer_pf.output, HasSubstr("==> hive_pools <=="));
  CtlRun stranger_pf = Ctl(As(stranger_, {"sendmail-config"}));
  EXPECT_EQ(stranger_pf.code, 5) << stranger_pf.output;
  EXPECT_THAT(stranger_pf.output, HasSubstr("GetPolicy needs role viewer; cert:stranger.ops has role none"));

  // Certificates that fail the handshake never reach the access table.
  CtlRun expired = Ctl(As(expired_, {"status"}));
  EXPECT_EQ(expired.code, 1) << expired.output;
  EXPECT_THAT(expired.output, HasSubstr("cannot reach hive-policyd's admin API"));
  CtlRun alien = Ctl(As(alien_, {"status"}));
  EXPECT_EQ(alien.code, 1) << alien.output;

  // The audit: every change and every refusal, who / what / when, in the
  // history and in the log (hence syslog).
  const std::string history = History();
  EXPECT_THAT(history, HasSubstr(R"("actor":"bob (cert:operator.ops)@)")) << history;
  EXPECT_THAT(history, HasSubstr(R"("action":"counters-reset")"));
  EXPECT_THAT(history, HasSubstr(R"("actor":"carol (cert:admin.ops)@)"));
  EXPECT_THAT(history, HasSubstr(R"("action":"apply")"));
  for (const std::string who : {"cert:viewer.ops", "cert:operator.ops", "cert:stranger.ops", "anonymous"}) {
    EXPECT_THAT(history, HasSubstr(R"("actor":")" + who + R"(","action":"refused")")) << who << "\n" << history;
  }
  EXPECT_THAT(history, HasSubstr("method=ApplyPolicy reason=ApplyPolicy needs role admin"));
  EXPECT_THAT(history, HasSubstr("method=GetPolicy reason=GetPolicy needs role viewer; cert:stranger.ops"));
  EXPECT_THAT(history, HasSubstr(R"("time_unix_ms":)"));
  EXPECT_THAT(Log(), HasSubstr("admin: refused actor=\"cert:viewer.ops\" method=ApplyPolicy"));
  // hivectl shows the refusals too (as admin).
  CtlRun shown = Ctl(As(admin_, {"policy", "history"}));
  EXPECT_EQ(shown.code, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr("refused"));
}

TEST_F(SecurityTest, BearerTokensFromFileOrEnvironmentAndAWrongTokenIsRefused) {
  StartPolicyd();
  const std::string token_file = dir_.Sub("token");
  WriteFile(token_file, std::string(kToken) + "\n");
  // The operator token over TLS without a client certificate.
  CtlRun reset = Ctl({"--tls-ca", pki_.ca_file(), "--token-file", token_file, "counters", "reset", "--limit", "per-sender",
                   "--key", "alice@shop.example"});
  EXPECT_EQ(reset.code, 0) << reset.output << Log();
  CtlRun from_env = Ctl({"counters", "get", "--limit", "per-sender", "--key", "alice@shop.example"},
                     {"HIVECTL_CA=" + pki_.ca_file(), std::string("HIVECTL_TOKEN=") + kToken});
  EXPECT_EQ(from_env.code, 0) << from_env.output;
  CtlRun apply = Ctl({"--tls-ca", pki_.ca_file(), "--token-file", token_file, "policy", "rollback", "0000000000000000"});
  EXPECT_EQ(apply.code, 5) << apply.output;
  EXPECT_THAT(apply.output, HasSubstr("Rollback needs role admin; token:ci has role operator"));
  // A wrong token is refused even with an admin certificate.
  CtlRun wrong = Ctl(As(admin_, {"status"}), {"HIVECTL_TOKEN=guess"});
  EXPECT_EQ(wrong.code, 5) << wrong.output;
  EXPECT_THAT(wrong.output, HasSubstr("GetStatus: bearer token not recognised"));
  // The same through a config file.
  const std::string config = dir_.Sub("hivectl.yaml");
  WriteFile(config, "server: 127.0.0.1:" + std::to_string(admin_port_) + "\ntls: {ca_file: " + pki_.ca_file() +
                        "}\ntoken_file: " + token_file + "\n");
  CtlRun from_config = Ctl({"--config", config, "status"});
  EXPECT_EQ(from_config.code, 0) << from_config.output;

  const std::string history = History();
  EXPECT_THAT(history, HasSubstr(R"( (token:ci)@)")) << history;
  EXPECT_THAT(history, HasSubstr(R"(","action":"refused","version")"));
  EXPECT_THAT(history, HasSubstr("method=GetStatus reason=GetStatus: bearer token not recognised"));
  // The token itself is never written anywhere.
  EXPECT_THAT(history, Not(HasSubstr(kToken)));
  EXPECT_THAT(Log(), Not(HasSubstr(kToken)));
}

TEST_F(SecurityTest, EveryAdminMethodIsGuarded) {
  StartPolicyd();
  // Each method of the service's descriptor, called without credentials
  // over real gRPC: refused before any handler runs. A method added to
  // admin.proto without an entry in the access table fails here too.
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadFile(pki_.ca_file());
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(admin_port_), grpc::SslCredentials(o));
  grpc::GenericStub stub(channel);
  const google::protobuf::ServiceDescriptor* service =
      hive::admin::v1::GetPolicyRequest::descriptor()->file()->FindServiceByName("AdminService");
  ASSERT_NE(service, nullptr);
  ASSERT_GT(service->method_count(), 10);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string path = "/" + service->full_name() + "/" + service->method(i)->name();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice empty("", 0);
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer reply;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, path, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << path << ": " << status.error_message();
  }
}

TEST_F(SecurityTest, RequiredClientCertificateOnTheAdminListenerRefusesTokensWithoutOne) {
  StartPolicyd(", require_client_cert: true");
  const std::string token_file = dir_.Sub("token");
  WriteFile(token_file, kToken);
  CtlRun token_only = Ctl({"--tls-ca", pki_.ca_file(), "--token-file", token_file, "status"});
  EXPECT_EQ(token_only.code, 1) << token_only.output;
  EXPECT_THAT(token_only.output, HasSubstr("cannot reach hive-policyd's admin API"));
  CtlRun viewer = Ctl(As(viewer_, {"status"}));
  EXPECT_EQ(viewer.code, 0) << viewer.output;
}

TEST_F(SecurityTest, PlaintextIsRefusedOffLoopbackAndSaidLoudlyOnIt) {
  WriteFile(dir_.Sub("open.yaml"), "server:\n  listen: 0.0.0.0:" + std::to_string(FreePort()) + "\n" + kLimits);
  Process open({HIVE_POLICYD_BIN, "--config", dir_.Sub("open.yaml")}, dir_.Sub("open.log"));
  ASSERT_TRUE(open.WaitExit(kWait));
  EXPECT_EQ(WEXITSTATUS(open.ExitStatus()), 2);
  EXPECT_THAT(ReadFile(dir_.Sub("open.log")),
              HasSubstr("plaintext gRPC on 0.0.0.0:" ));
  EXPECT_THAT(ReadFile(dir_.Sub("open.log")), HasSubstr("only loopback addresses and unix sockets may be plaintext"));

  const uint16_t port = FreePort();
  const uint16_t admin = FreePort();
  WriteFile(dir_.Sub("local.yaml"), "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
                                        "\n  admin: {listen: '127.0.0.1:" + std::to_string(admin) + "'}\n" + kLimits);
  Process local({HIVE_POLICYD_BIN, "--config", dir_.Sub("local.yaml")}, dir_.Sub("local.log"));
  ASSERT_TRUE(WaitForListener(admin, kWait)) << ReadFile(dir_.Sub("local.log"));
  const std::string log = ReadFile(dir_.Sub("local.log"));
  EXPECT_THAT(log, HasSubstr("PLAINTEXT: listener 127.0.0.1:" + std::to_string(port) + " is not encrypted"));
  EXPECT_THAT(log, HasSubstr("PLAINTEXT: listener 127.0.0.1:" + std::to_string(admin) + " is not encrypted"));
  EXPECT_THAT(log, HasSubstr("every local client without credentials has role admin"));

  // hivectl --help names every connection setting.
  CtlRun help = Ctl({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* setting : {"--tls-ca FILE", "$HIVECTL_CA", "--tls-cert FILE", "--tls-key FILE", "--token-file FILE",
                              "$HIVECTL_TOKEN", "--config FILE", "exit code 5"}) {
    EXPECT_THAT(help.output, HasSubstr(setting)) << help.output;
  }
  // hivectl will not send a token in plaintext off loopback either.
  admin_port_ = admin;
  CtlRun remote = Ctl({"--server", "192.0.2.1:7454", "status"});
  EXPECT_EQ(remote.code, 2) << remote.output;
  EXPECT_THAT(remote.output, HasSubstr("plaintext gRPC to 192.0.2.1:7454 refused"));
}

// Polls `ok` (a new connection each time) for a reload period and more.
template <typename F>
bool Eventually(F ok) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4 * hive::tls::kCertificateReloadSeconds);
  while (std::chrono::steady_clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return ok();
}

TEST_F(SecurityTest, RenewedCertificatesAndANewCaAreServedWithoutARestart) {
  StartPolicyd();
  const pid_t pid = policyd_->pid();
  const Issued server_b = pki_.Issue("localhost", {.server = true, .other_ca = true});
  const Issued milter_b = pki_.Issue("milter.mta1", {.other_ca = true});
  EXPECT_TRUE(CheckSender(PolicyChannel(Trusting(pki_.ca_file(), &milter_))).ok());
  // A client of the new CA only: refused before the rotation.
  EXPECT_FALSE(CheckSender(PolicyChannel(Trusting(pki_.other_ca_file(), &milter_b)), std::chrono::seconds(5)).ok());
  CtlRun before = Ctl({"--tls-ca", pki_.other_ca_file(), "--tls-cert", alien_.cert_file, "--tls-key", alien_.key_file,
                       "status"});
  EXPECT_EQ(before.code, 1) << before.output;

  // The operator renews both listeners' certificate and moves to the new CA.
  Install(server_b.key_file, kLiveKey);
  Install(server_b.cert_file, kLiveCert);
  Install(pki_.other_ca_file(), kLiveCa);
  EXPECT_TRUE(Eventually([&] {
    return CheckSender(PolicyChannel(Trusting(pki_.other_ca_file(), &milter_b)), std::chrono::seconds(5)).ok();
  })) << Log();
  // The admin listener too: admin.ops with a certificate of the new CA.
  EXPECT_TRUE(Eventually([&] {
    return Ctl({"--tls-ca", pki_.other_ca_file(), "--tls-cert", alien_.cert_file, "--tls-key", alien_.key_file,
                "status"})
               .code == 0;
  })) << Log();
  // The old CA's clients are refused now; the same process served it all.
  EXPECT_FALSE(CheckSender(PolicyChannel(Trusting(pki_.ca_file(), &milter_)), std::chrono::seconds(5)).ok());
  CtlRun old_admin = Ctl(As(admin_, {"status"}));
  EXPECT_EQ(old_admin.code, 1) << old_admin.output;
  EXPECT_TRUE(policyd_->Running());
  EXPECT_EQ(policyd_->pid(), pid);

  // A renewed key that does not belong to the certificate: gRPC would load
  // the pair and fail new handshakes. The change is checked as it lands,
  // without a SIGHUP: an error line and the metric at 0.
  EXPECT_THAT(Metrics(), HasSubstr("hive_policyd_tls_files_ok{listener=\"server.tls\"} 1"));
  const std::string mismatch =
      "TLS: server.tls.key_file: the key does not belong to the certificate '" + dir_.Sub(kLiveCert) + "'";
  Install(milter_b.key_file, kLiveKey);
  EXPECT_TRUE(Eventually([&] { return Log().find(mismatch) != std::string::npos; })) << Log();
  EXPECT_THAT(Metrics(), HasSubstr("hive_policyd_tls_files_ok{listener=\"server.tls\"} 0"));
  // Fixed: said, and the metric back to 1. SIGHUP checks the files too.
  Install(server_b.key_file, kLiveKey);
  EXPECT_TRUE(Eventually([&] {
    return Metrics().find("hive_policyd_tls_files_ok{listener=\"server.tls\"} 1") != std::string::npos;
  })) << Log();
  EXPECT_THAT(Log(), HasSubstr("TLS: server.tls: certificate, key and CA files are sound"));
  Install(milter_b.key_file, kLiveKey);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    const std::string log = Log();
    return log.find(mismatch) != log.rfind(mismatch);  // said twice
  })) << Log();
}

// A leaked token is revoked by editing the file and reloading: refused from
// the next call on, by the same process (no restart, which would lose the
// in-memory counters); the token that replaces it works at once. The admin
// API cannot change the server section: an apply without it (which would
// have dropped every token and principal, the admin's too) is refused.
TEST_F(SecurityTest, ARevokedTokenIsRefusedAfterAReloadWithoutARestart) {
  StartPolicyd();
  const pid_t pid = policyd_->pid();
  const std::vector<std::string> old_token{"HIVECTL_CA=" + pki_.ca_file(), std::string("HIVECTL_TOKEN=") + kToken};
  const std::vector<std::string> new_token{"HIVECTL_CA=" + pki_.ca_file(), "HIVECTL_TOKEN=n3w-operator-token"};
  CtlRun before = Ctl({"status"}, old_token);
  ASSERT_EQ(before.code, 0) << before.output << Log();
  EXPECT_THAT(before.output, HasSubstr("admin access: tokens ci (operator); principals viewer.ops (viewer), "
                                       "operator.ops (operator), admin.ops (admin); local role none\n"));
  EXPECT_EQ(Ctl({"status"}, new_token).code, 5);

  const std::string old_entry = "{name: ci, sha256: " + Sha(kToken) + ", role: operator}";
  std::string yaml = ReadFile(dir_.Sub("policyd.yaml"));
  ASSERT_NE(yaml.find(old_entry), std::string::npos) << yaml;
  yaml.replace(yaml.find(old_entry), old_entry.size(),
               "{name: ci-2, sha256: " + Sha("n3w-operator-token") + ", role: operator}");
  WriteFile(dir_.Sub("policyd.yaml"), yaml);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return Log().find("admin: access settings in force: 1 tokens, 3 principals") != std::string::npos;
  })) << Log();
  EXPECT_THAT(Log(), Not(HasSubstr("tokens / local_role changed; they apply after a restart")));

  CtlRun revoked = Ctl({"status"}, old_token);
  EXPECT_EQ(revoked.code, 5) << revoked.output;
  EXPECT_THAT(revoked.output, HasSubstr("GetStatus: bearer token not recognised"));
  CtlRun replaced = Ctl({"status"}, new_token);
  EXPECT_EQ(replaced.code, 0) << replaced.output;
  // The history says when the access changed, by names (never a hash).
  EXPECT_THAT(History(), HasSubstr(R"("action":"access")")) << History();
  EXPECT_THAT(History(), HasSubstr("ci-2"));
  EXPECT_THAT(History(), Not(HasSubstr(Sha("n3w-operator-token"))));
  // What hivectl status shows an operator checking the revocation.
  EXPECT_THAT(replaced.output, HasSubstr("admin access: tokens ci-2 (operator); principals"));
  CtlRun json = Ctl({"--json", "status"}, new_token);
  EXPECT_THAT(json.output, HasSubstr("\"name\": \"ci-2\""));
  EXPECT_THAT(json.output, Not(HasSubstr(Sha("n3w-operator-token"))));

  const std::string applied = dir_.Sub("limits-only.yaml");
  WriteFile(applied, std::string(kLimits) + "routing:\n  pools:\n    - {name: bulk}\n  default_pool: bulk\n");
  CtlRun apply = Ctl(As(admin_, {"policy", "apply", applied}));
  EXPECT_EQ(apply.code, 2) << apply.output;
  EXPECT_THAT(apply.output, HasSubstr("server: differs from the running one (listeners, TLS, admin access)"));
  EXPECT_EQ(ReadFile(dir_.Sub("policyd.yaml")), yaml);
  EXPECT_EQ(Ctl({"status"}, new_token).code, 0);
  EXPECT_EQ(Ctl(As(admin_, {"status"})).code, 0);
  // An object edit writes the whole file again as hive renders it: the
  // server section (TLS, principals, tokens) comes through unchanged, so
  // the edit is taken and the access stays.
  const std::string limit = dir_.Sub("limit.yaml");
  WriteFile(limit, "name: per-sender\nmatch: {sender_domain: [shop.example]}\nkey: \"{sender}\"\ncost: messages\n"
                   "windows:\n  - {limit: 50, period: 1h}\n");
  CtlRun edit = Ctl(As(admin_, {"rules", "apply", "-f", limit}));
  EXPECT_EQ(edit.code, 0) << edit.output << Log();
  EXPECT_THAT(ReadFile(dir_.Sub("policyd.yaml")), HasSubstr("limit: 50"));
  EXPECT_EQ(Ctl({"status"}, new_token).code, 0);
  EXPECT_EQ(Ctl({"status"}, old_token).code, 5);
  EXPECT_EQ(policyd_->pid(), pid);
  EXPECT_TRUE(policyd_->Running());
}

// hive-maillog-follower reports deliveries to a hive-policyd whose policy
// listener requires a client certificate (--tls-ca, --tls-cert, --tls-key),
// and refuses plaintext towards an address off loopback. It used to speak
// plaintext only, so a TLS deployment lost its warm-up feedback.
TEST_F(SecurityTest, TheMaillogFollowerReportsOverMutualTls) {
  StartPolicyd();
  WriteFile(dir_.Sub("policyd.yaml"), ReadFile(dir_.Sub("policyd.yaml")) +
                                          "routing:\n  pools:\n    - name: bulk\n      members:\n"
                                          "        - {name: warm-1, address: 127.0.0.2, helo: warm-1.example.com}\n"
                                          "  default_pool: bulk\n");
  ASSERT_EQ(kill(policyd_->pid(), SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] { return Log().find("reloaded") != std::string::npos; })) << Log();
  const std::string maillog = dir_.Sub("mail.log");
  WriteFile(maillog,
            "2026-11-26T10:00:01.123+00:00 mta postfix/hive-warm-1/smtp[12]: 4B1C: to=<a@x.example>, relay=r, "
            "delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");
  const std::string target = "127.0.0.1:" + std::to_string(policy_port_);
  const auto follow = [&](const std::string& name, std::vector<std::string> tls) {
    std::vector<std::string> argv{HIVE_MAILLOG_FOLLOWER_BIN, "--log", maillog, "--policy", target, "--from-start"};
    argv.insert(argv.end(), tls.begin(), tls.end());
    return std::make_unique<Process>(argv, dir_.Sub(name));
  };

  auto with_tls = follow("tls.log", {"--tls-ca", pki_.ca_file(), "--tls-cert", milter_.cert_file, "--tls-key",
                                     milter_.key_file});
  EXPECT_TRUE(Eventually([&] {
    return ReadFile(dir_.Sub("tls.log")).find("reported queue=4B1C member=warm-1 status=sent") != std::string::npos;
  })) << ReadFile(dir_.Sub("tls.log")) << Log();
  with_tls->Stop();

  // Plaintext to the same listener: the handshake fails, the report is
  // dropped (UNAVAILABLE) and said.
  auto plaintext = follow("plain.log", {});
  EXPECT_TRUE(Eventually([&] { return ReadFile(dir_.Sub("plain.log")).find("dropped: 14") != std::string::npos; }))
      << ReadFile(dir_.Sub("plain.log"));
  plaintext->Stop();

  Process off_loopback({HIVE_MAILLOG_FOLLOWER_BIN, "--log", maillog, "--policy", "192.0.2.1:7450"},
                       dir_.Sub("off.log"));
  ASSERT_TRUE(off_loopback.WaitExit(kWait));
  EXPECT_TRUE(WIFEXITED(off_loopback.ExitStatus()) && WEXITSTATUS(off_loopback.ExitStatus()) == 2);
  EXPECT_THAT(ReadFile(dir_.Sub("off.log")), HasSubstr("plaintext gRPC to 192.0.2.1:7450 refused"));
}

// The milter's side: its policy client (the same GrpcPolicyClient, made
// once) follows its renewed client certificate and CA when hive-policyd
// comes back with a certificate of the new CA.
TEST_F(SecurityTest, TheMiltersClientFollowsItsRenewedCertificateAndCa) {
  StartPolicyd();
  std::filesystem::create_directories(dir_.Sub("client"));
  auto install_client = [&](const std::string& ca, const Issued& who) {
    Install(who.key_file, "client/milter.key");
    Install(who.cert_file, "client/milter.crt");
    Install(ca, "client/ca.pem");
  };
  install_client(pki_.ca_file(), milter_);
  hive::config::v1::ClientTls tls;
  tls.set_ca_file(dir_.Sub("client/ca.pem"));
  tls.set_cert_file(dir_.Sub("client/milter.crt"));
  tls.set_key_file(dir_.Sub("client/milter.key"));
  absl::StatusOr<std::unique_ptr<hive::milter::GrpcPolicyClient>> client = hive::milter::GrpcPolicyClient::Create(
      "127.0.0.1:" + std::to_string(policy_port_), absl::Seconds(3), tls);
  ASSERT_TRUE(client.ok()) << client.status();
  hive::policy::v1::SenderRequest req;
  req.mutable_transaction()->set_id("tls-rotate");
  req.mutable_transaction()->mutable_sender()->set_address("alice@shop.example");
  ASSERT_TRUE((*client)->CheckSender(req).ok()) << Log();

  // hive-policyd restarts on the new CA's certificate, trusting only it.
  policyd_->Stop();
  const Issued server_b = pki_.Issue("localhost", {.server = true, .other_ca = true});
  Install(server_b.key_file, kLiveKey);
  Install(server_b.cert_file, kLiveCert);
  Install(pki_.other_ca_file(), kLiveCa);
  StartPolicyd();
  EXPECT_FALSE((*client)->CheckSender(req).ok());
  // The client's files are renewed: the same client connects again.
  install_client(pki_.other_ca_file(), pki_.Issue("milter.mta1", {.other_ca = true}));
  EXPECT_TRUE(Eventually([&] { return (*client)->CheckSender(req).ok(); })) << Log();
}

TEST_F(SecurityTest, TheAdminListenerCannotShareThePolicyListenersAddress) {
  const std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  for (const std::string& admin : {listen, "localhost:" + listen.substr(listen.find(':') + 1),
                                   "0.0.0.0:" + listen.substr(listen.find(':') + 1)}) {
    WriteFile(dir_.Sub("same.yaml"), "server:\n  listen: " + listen + "\n  admin: {listen: '" + admin + "'}\n" +
                                         kLimits);
    Process same({HIVE_POLICYD_BIN, "--config", dir_.Sub("same.yaml")}, dir_.Sub("same.log"));
    ASSERT_TRUE(same.WaitExit(kWait));
    EXPECT_EQ(WEXITSTATUS(same.ExitStatus()), 2) << admin;
    EXPECT_THAT(ReadFile(dir_.Sub("same.log")),
                HasSubstr("server.admin.listen (" + admin + ") and server.listen (" + listen +
                          ") are the same listener: the admin API needs its own"));
  }
  // The flags say which they are.
  Process flags({HIVE_POLICYD_BIN, "--config", dir_.Sub("same.yaml"), "--listen", listen, "--admin-listen", listen},
                dir_.Sub("flags.log"));
  ASSERT_TRUE(flags.WaitExit(kWait));
  EXPECT_EQ(WEXITSTATUS(flags.ExitStatus()), 2);
  EXPECT_THAT(ReadFile(dir_.Sub("flags.log")), HasSubstr("--admin-listen (" + listen + ") and --listen (" + listen +
                                                         ") are the same listener"));
}

}  // namespace
}  // namespace hive::testing
