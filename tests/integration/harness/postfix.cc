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

std::string MasterCf(uint16_t port) {
  // Stock services with chroot (5th column) off: a test directory has none
  // of the files a chroot needs. postlog serves maillog_file.
  return "127.0.0.1:" + std::to_string(port) + R"( inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
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
    : dir_(dir), port_(options.smtp_port != 0 ? options.smtp_port : FreePort()) {
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
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:)" + std::to_string(options.sink_port) + R"(
smtp_dns_support_level = disabled
maillog_file = )" + dir_ + R"(/maillog
maillog_file_prefixes = )" + dir_ + R"(
smtpd_milters = )" + options.milter + R"(
milter_protocol = 6
milter_default_action = )" + options.default_action + R"(
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
)" + options.extra_main_cf);
  WriteFile(dir_ + "/etc/master.cf", MasterCf(port_));
  if (RunPostfix(dir_ + "/etc", "start", dir_ + "/postfix-start.log") != 0) {
    throw std::runtime_error("postfix start failed: " + ReadFile(dir_ + "/postfix-start.log"));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string pid = ReadFile(dir_ + "/queue/pid/master.pid");
    if (!pid.empty()) master_pid_ = std::stoi(pid);
    if (master_pid_ > 0 && WaitForListener(port_, std::chrono::milliseconds(100))) return;
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
