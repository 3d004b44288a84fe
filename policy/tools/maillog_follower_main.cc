// hive-maillog-follower: follows Postfix's or Sendmail's log (maillog_file
// or a syslog file) and reports every delivery attempt of a hive pool
// member to hive-policyd (ReportDelivery), closing the warm-up feedback
// loop. Which lines count, and how the member is known: maillog_reader.h.
//
//   hive-maillog-follower --log /var/log/mail.log --policy 127.0.0.1:7450
//                         [--from-start] [--poll-ms 200] [--sendmail-tag hive]
//                         [--tls-ca FILE [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]]
//
// Towards a hive-policyd off this host the policy listener has TLS (often
// mutual: the milters' client certificates), so the follower speaks it too;
// plaintext is refused towards anything but loopback or a unix socket, as
// the milter's client does. Exit 2 on bad arguments or TLS files.
//
// Starts at the end of the file (--from-start: at its beginning); reopens
// it when it is rotated (a new inode) or truncated. A report that fails is
// logged and dropped: warm-up feedback is advisory, and replaying a backlog
// after an outage would step addresses back for old news.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "hive/policy/v1/policy.grpc.pb.h"
#include "support/grpc_tls.h"
#include "support/log.h"
#include "tools/maillog_reader.h"

namespace {

namespace v1 = hive::policy::v1;
volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

v1::DeliveryReport::Status StatusOf(const std::string& s) {
  if (s == "sent") return v1::DeliveryReport::STATUS_SENT;
  if (s == "deferred") return v1::DeliveryReport::STATUS_DEFERRED;
  return v1::DeliveryReport::STATUS_BOUNCED;
}

void Report(v1::PolicyService::Stub& stub, const hive::policy::tools::MaillogDelivery& d) {
  v1::DeliveryReport report;
  report.set_queue_id(d.queue_id);
  report.set_pool_member(d.member);
  report.set_recipient(d.recipient);
  report.set_status(StatusOf(d.status));
  report.set_dsn(d.dsn);
  report.set_reply(d.reply);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::DeliveryReportReply reply;
  const grpc::Status s = stub.ReportDelivery(&ctx, report, &reply);
  if (!s.ok()) {
    hive::log::Warning(absl::StrCat("report queue=", hive::log::Sanitize(d.queue_id, 32), " member=",
                                    hive::log::Sanitize(d.member, 64), " dropped: ", s.error_code(), " ",
                                    hive::log::Sanitize(s.error_message(), 200)));
    return;
  }
  hive::log::Info(absl::StrCat("reported queue=", hive::log::Sanitize(d.queue_id, 32), " member=",
                               hive::log::Sanitize(d.member, 64), " status=", d.status, " dsn=",
                               hive::log::Sanitize(d.dsn, 16), " stepped_back=", reply.stepped_back() ? "yes" : "no",
                               " warmup_day=", reply.warmup_day()));
}

int Usage() {
  std::cerr << "usage: hive-maillog-follower --log FILE --policy TARGET [--from-start] [--poll-ms N] "
               "[--sendmail-tag TAG] [--tls-ca FILE [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string log_path, target;
  bool from_start = false;
  int poll_ms = 200;
  hive::policy::tools::MaillogReader::Options reader_options;
  hive::config::v1::ClientTls tls;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--log" && i + 1 < argc) log_path = argv[++i];
    else if (a == "--policy" && i + 1 < argc) target = argv[++i];
    else if (a == "--from-start") from_start = true;
    else if (a == "--sendmail-tag" && i + 1 < argc) reader_options.sendmail_tag = argv[++i];
    else if (a == "--poll-ms" && i + 1 < argc) poll_ms = std::max(10, std::atoi(argv[++i]));
    else if (a == "--tls-ca" && i + 1 < argc) tls.set_ca_file(argv[++i]);
    else if (a == "--tls-cert" && i + 1 < argc) tls.set_cert_file(argv[++i]);
    else if (a == "--tls-key" && i + 1 < argc) tls.set_key_file(argv[++i]);
    else if (a == "--tls-server-name" && i + 1 < argc) tls.set_server_name(argv[++i]);
    else return Usage();
  }
  if (log_path.empty() || target.empty() || reader_options.sendmail_tag.empty()) return Usage();
  hive::policy::tools::MaillogReader reader(reader_options);
  hive::log::Init({.ident = "hive-maillog-follower", .to_syslog = true, .to_stderr = !hive::log::StderrIsJournal()});
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  grpc::ChannelArguments channel_args;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      hive::tls::MakeChannelCredentials(tls, target, "tls", channel_args);
  if (!credentials.ok()) {
    hive::log::Error(absl::StrCat("hive-maillog-follower: ", credentials.status().message()));
    return 2;
  }
  auto stub = v1::PolicyService::NewStub(grpc::CreateCustomChannel(target, *credentials, channel_args));

  hive::log::Info(absl::StrCat("hive-maillog-follower: following ", log_path, ", reporting to ", target));

  std::ifstream in;
  ino_t inode = 0;
  std::streamoff offset = 0;
  std::string partial;
  bool first_open = true;
  std::string problem;  // what was last said about the file ("" = reading it)
  // Said once per change: a wrong --log path or a missing group (adm)
  // otherwise left the follower waiting without a word.
  const auto say = [&](const std::string& now) {
    if (now == problem) return;
    problem = now;
    if (!now.empty()) hive::log::Warning(absl::StrCat(log_path, ": ", now));
  };
  while (!g_stop) {
    struct stat st {};
    const bool exists = ::stat(log_path.c_str(), &st) == 0;
    if (!exists) say(absl::StrCat(std::strerror(errno), "; waiting for it (is --log the MTA's log file?)"));
    // (Re)open on a new file (rotation) or when it shrank (truncation).
    if (exists && (!in.is_open() || st.st_ino != inode || st.st_size < offset)) {
      in.close();
      in.clear();
      errno = 0;
      in.open(log_path);
      if (!in.is_open()) {
        say(absl::StrCat("cannot open: ", std::strerror(errno != 0 ? errno : EACCES),
                         "; trying again (the packaged unit reads it as group adm)"));
        std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
        continue;
      }
      if (!problem.empty()) hive::log::Info(absl::StrCat(log_path, ": reading it"));
      say("");
      inode = st.st_ino;
      offset = 0;
      partial.clear();
      if (first_open && !from_start) {
        in.seekg(0, std::ios::end);
        offset = in.tellg();
      }
      first_open = false;
    }
    if (in.is_open()) {
      in.clear();
      in.seekg(offset);
      std::string chunk;
      char buf[8192];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) chunk.append(buf, static_cast<std::size_t>(in.gcount()));
      offset += static_cast<std::streamoff>(chunk.size());
      partial += chunk;
      std::size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        for (const auto& d : reader.Feed(std::string_view(partial).substr(0, nl))) Report(*stub, d);
        partial.erase(0, nl + 1);
      }
      if (partial.size() > 64 * 1024) partial.clear();  // a line that never ends is not an MTA's
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return 0;
}
