#include "harness/postfix.h"

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include "harness/net.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

int RunPostfix(const std::string& etc, const std::string& verb, const std::string& log) {
  const std::string cmd = "/usr/sbin/postfix -c " + etc + " " + verb + " >>" + log + " 2>&1";
  return std::system(cmd.c_str());
}

// STARTTLS offered, not required; no client certificate asked.
std::string Tls(const MtaFeatures& features) {
  if (features.tls_cert.empty()) return "";
  return "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = " + features.tls_cert +
         "\nsmtpd_tls_key_file = " + features.tls_key + "\nsmtpd_tls_loglevel = 1\n";
}

// Cyrus SASL reads <sasl_dir>/smtpd.conf. Debian's Postfix looks in
// $config_directory/sasl whatever cyrus_sasl_config_path says (strace), so
// sasl_dir is <etc>/sasl and the parameter only documents it. smtpd runs as
// postfix: the sasldb must be readable by it.
std::string Sasl(const MtaFeatures& features, const std::string& sasl_dir) {
  if (features.sasl_db.empty()) return "";
  std::filesystem::create_directories(sasl_dir);
  WriteFile(sasl_dir + "/smtpd.conf", "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: " +
                                          features.sasl_db + "\nmech_list: PLAIN\n");
  const passwd* postfix_user = getpwnam("postfix");
  if (postfix_user == nullptr || chown(features.sasl_db.c_str(), postfix_user->pw_uid, postfix_user->pw_gid) != 0) {
    throw std::runtime_error("cannot give the sasldb to postfix: " + features.sasl_db);
  }
  return std::string("smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = cyrus\nsmtpd_sasl_path = smtpd\n") +
         "cyrus_sasl_config_path = " + sasl_dir + "\nsmtpd_sasl_local_domain = " + kMtaHostName + "\n";
}

std::string MasterCf(uint16_t port, bool ipv6, bool tls) {
  // Stock services with chroot (5th column) off: a test directory has none
  // of the files a chroot needs. postlog serves maillog_file; tlsmgr seeds
  // smtpd's TLS.
  return std::string(ipv6 ? "[::1]:" : "127.0.0.1:") + std::to_string(port) + " inet n - n - - smtpd\n" +
         (tls ? "tlsmgr    unix  - - n 1000? 1 tlsmgr\n" : "") + R"(pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
)";
}

}  // namespace

bool Mta::WaitForEmptyQueue(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (QueuedMessages() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

Postfix::Postfix(const std::string& dir, const PostfixOptions& options)
    : dir_(dir), port_(options.smtp_port != 0 ? options.smtp_port : FreePort()), ipv6_(options.features.ipv6) {
  const MtaFeatures& features = options.features;
  if (features.milter_failure == "shutdown") {
    throw std::runtime_error("milter_default_action = shutdown needs Postfix 3.11");
  }
  namespace fs = std::filesystem;
  for (const char* sub : {"etc", "queue", "data"}) fs::create_directories(dir_ + "/" + sub);
  const passwd* postfix_user = getpwnam("postfix");
  if (postfix_user == nullptr) throw std::runtime_error("no postfix user: is Postfix installed?");
  if (chown((dir_ + "/data").c_str(), postfix_user->pw_uid, postfix_user->pw_gid) != 0) {
    throw std::runtime_error("chown data dir");
  }
  WriteFile(dir_ + "/etc/main.cf", R"(compatibility_level = 3.6
queue_directory = )" + dir_ + R"(/queue
data_directory = )" + dir_ + R"(/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test.invalid
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1)" + std::string(ipv6_ ? ", [::1]\ninet_protocols = all" : "\ninet_protocols = ipv4") + R"(
mynetworks = 127.0.0.0/8)" + (ipv6_ ? " [::1]/128" : "") + R"(
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:)" + std::to_string(options.sink_port) + R"(
smtp_dns_support_level = disabled
maillog_file = )" + dir_ + R"(/maillog
maillog_file_prefixes = )" + dir_ + R"(
smtpd_milters = )" + options.milter + R"(
milter_protocol = 6
milter_default_action = )" + (features.milter_failure.empty() ? "accept" : features.milter_failure) + R"(
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
)" + Tls(features) + Sasl(features, dir_ + "/etc/sasl") + options.extra_main_cf);
  WriteFile(dir_ + "/etc/master.cf", MasterCf(port_, ipv6_, !features.tls_cert.empty()) + options.extra_master_cf);
  if (RunPostfix(dir_ + "/etc", "start", dir_ + "/postfix-start.log") != 0) {
    throw std::runtime_error("postfix start failed: " + ReadFile(dir_ + "/postfix-start.log"));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string pid = ReadFile(dir_ + "/queue/pid/master.pid");
    if (!pid.empty()) master_pid_ = std::stoi(pid);
    if (master_pid_ > 0 && WaitForListener(port_, std::chrono::milliseconds(100), ipv6_)) return;
  }
  throw std::runtime_error("postfix did not start listening: " + Log());
}

Postfix::~Postfix() {
  if (master_pid_ <= 0) return;
  RunPostfix(dir_ + "/etc", "stop", dir_ + "/postfix-start.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (kill(master_pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (kill(master_pid_, 0) == 0) RunPostfix(dir_ + "/etc", "abort", dir_ + "/postfix-start.log");
}

std::string Postfix::Log() const { return ReadFile(dir_ + "/maillog"); }

int Postfix::CountFiles(const std::string& queue) const {
  const std::filesystem::path root = dir_ + "/queue/" + queue;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return 0;
  int n = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) ++n;
  }
  return n;
}

int Postfix::QueuedMessages() const {
  int n = 0;
  for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) n += CountFiles(q);
  return n;
}

int Postfix::HeldMessages() const { return CountFiles("hold"); }

}  // namespace hive::testing
