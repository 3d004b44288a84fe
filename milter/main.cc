// hive-milter: composition root. Flags and config, logging, the policy
// client, then libmilter. Runs in the foreground (systemd-friendly); SIGTERM
// and SIGHUP stop it (libmilter's signal thread; StopWaker makes that
// immediate), after which sessions still in flight get a bounded time to
// finish. SIGUSR1 re-reads the config file:
// new connections get the new settings, a bad file keeps the running ones.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <libmilter/mfapi.h>

#include "absl/strings/str_cat.h"
#include "milter/callbacks.h"
#include "milter/config.h"
#include "milter/end_transaction_retry.h"
#include "milter/lease_table.h"
#include "milter/listen_socket.h"
#include "milter/milter_metrics.h"
#include "milter/policy_client.h"
#include "milter/stop_waker.h"
#include "support/log.h"
#include "support/sd_notify.h"
#include "support/metrics.h"
#include "support/metrics_server.h"
#include "support/process_setup.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitRuntime = 1;
// Postfix sends a header of up to header_size_limit (100 KB) in one packet;
// libmilter's default read limit is 64 KB.
constexpr std::size_t kMaxDataSize = 256 * 1024 - 1;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

std::atomic<bool> g_stopping{false};

// Waits for SIGUSR1 (blocked in every thread) and reloads.
void ReloadLoop(const hive::milter::CommandLine& cl, std::shared_ptr<const hive::milter::Settings> running,
                hive::milter::GrpcPolicyClient* client, hive::milter::PolicyClient* policy,
                hive::milter::LeaseTable* leases, hive::milter::StagePlan* stages) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  for (;;) {
    int sig = 0;
    if (sigwait(&usr1, &sig) != 0) continue;
    if (g_stopping.load()) return;
    std::string note;
    absl::StatusOr<hive::milter::Settings> loaded =
        hive::milter::ReloadSettings(cl, *running, &note, [](const hive::milter::Settings& s) {
          return hive::milter::GrpcPolicyClient::Check(s.policy_target, s.rpc_timeout, s.policy_tls);
        });
    hive::milter::MilterMetrics* metrics = hive::milter::CurrentMilterMetrics();
    if (metrics != nullptr) metrics->RecordReload(loaded.ok());
    if (!loaded.ok()) {
      hive::log::Error(absl::StrCat("reload: configuration error, keeping the running configuration: ",
                                    loaded.status().message()));
      continue;
    }
    if (!note.empty()) hive::log::Warning(absl::StrCat("reload: ", note));
    running = std::make_shared<const hive::milter::Settings>(*std::move(loaded));
    client->SetRpcTimeout(running->rpc_timeout);
    hive::milter::InstallRuntime(running, policy, leases, stages);
    hive::log::Info(absl::StrCat("reloaded: rpc_timeout ", absl::FormatDuration(running->rpc_timeout),
                                 ", failure_mode ", std::string(hive::milter::FailureModeName(running->failure_mode))));
  }
}

// The policy client (target and TLS files checked; nothing connects yet),
// or the configuration error, logged.
absl::StatusOr<std::unique_ptr<hive::milter::GrpcPolicyClient>> MakePolicyClient(
    const hive::milter::Settings& settings) {
  absl::StatusOr<std::unique_ptr<hive::milter::GrpcPolicyClient>> client =
      hive::milter::GrpcPolicyClient::Create(settings.policy_target, settings.rpc_timeout, settings.policy_tls);
  if (!client.ok()) {
    hive::log::Error(absl::StrCat("configuration error: policy client: ", client.status().message()));
  }
  return client;
}

int Run(int argc, char** argv) {
  using hive::milter::Settings;
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<hive::milter::CommandLine> cl = hive::milter::ParseCommandLine(args);
  if (!cl.ok()) {
    std::fprintf(stderr, "hive-milter: %s\n%s", std::string(cl.status().message()).c_str(),
                 hive::milter::Usage().c_str());
    return kExitConfig;
  }
  if (cl->help) {
    std::fputs(hive::milter::Usage().c_str(), stdout);
    return 0;
  }
  hive::log::Options log_options;
  log_options.ident = "hive-milter";
  log_options.to_syslog = !cl->check;  // a check answers its caller only
  log_options.to_stderr = !hive::log::StderrIsJournal();
  log_options.debug = cl->debug;
  hive::log::Init(log_options);

  absl::StatusOr<Settings> loaded = hive::milter::LoadSettings(*cl);
  if (!loaded.ok()) {
    hive::log::Error(absl::StrCat("configuration error: ", loaded.status().message()));
    return kExitConfig;
  }
  auto settings = std::make_shared<const Settings>(*std::move(loaded));
  if (settings->log_json) {
    log_options.json = true;
    hive::log::Init(log_options);  // errors before this point were plain text
  }
  if (cl->check) {
    // What start refuses before it listens: the settings (read above) and
    // the policy client (target, TLS files). It connects to nothing.
    if (!MakePolicyClient(*settings).ok()) return kExitConfig;
    std::printf("%s: OK (listen %s, policy %s)\n", cl->config_path.empty() ? "command line" : cl->config_path.c_str(),
                settings->listen.c_str(), settings->policy_target.c_str());
    return 0;
  }

  // Block the stop signals before any other thread exists (gRPC's included),
  // so that only libmilter's signal thread (sigwait) receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGHUP);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);  // ReloadLoop's
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Metrics before any session can exist; the endpoint's thread inherits
  // the blocked signals.
  hive::metrics::Registry registry;
  hive::milter::MilterMetrics metrics(registry);
  registry.AddCallbackGauge("hive_milter_sessions_in_flight", "MTA connections open to the milter.",
                            [] { return static_cast<double>(hive::milter::ActiveSessions()); });
  hive::milter::SetMilterMetrics(&metrics);
  std::unique_ptr<hive::metrics::MetricsServer> metrics_server;
  if (!settings->metrics_listen.empty()) {
    auto started = hive::metrics::MetricsServer::Start(settings->metrics_listen, registry);
    if (!started.ok()) {
      hive::log::Error(std::string(started.status().message()));
      return kExitRuntime;
    }
    metrics_server = *std::move(started);
    hive::log::Info(absl::StrCat("metrics on http://", settings->metrics_listen, "/metrics"));
  }

  std::string listen = settings->listen;
  if (smfi_setconn(listen.data()) == MI_FAILURE) {
    hive::log::Error(absl::StrCat("configuration error: bad listen socket '", listen, "'"));
    return kExitConfig;
  }
  if (smfi_register(hive::milter::FilterDescription()) == MI_FAILURE) {
    hive::log::Error("smfi_register failed");
    return kExitRuntime;
  }
  smfi_setmaxdatasize(kMaxDataSize);
  // true: remove a stale unix socket left by a previous run.
  const std::vector<int> listening_before = hive::milter::ListeningSockets();
  errno = 0;
  if (smfi_opensocket(true) == MI_FAILURE) {
    // libmilter says why only to syslog; its errno is the bind's or listen's.
    const int why = errno;
    hive::log::Error(absl::StrCat("cannot listen on ", listen, why != 0 ? absl::StrCat(": ", std::strerror(why)) : "",
                                  why == EADDRINUSE ? " (another process listens there: a hive-milter already running?)"
                                                    : ""));
    return kExitRuntime;
  }
  // Before the gRPC channel exists: the only listener is libmilter's.
  hive::milter::SetNoDelayOnListeningSockets();

  // We never fork, but keep the rule: the channel comes after any daemonising.
  absl::StatusOr<std::unique_ptr<hive::milter::GrpcPolicyClient>> client = MakePolicyClient(*settings);
  if (!client.ok()) return kExitConfig;
  // Degraded-mode leases live as long as the process (a reload keeps them;
  // max_leases is read at start).
  hive::milter::LeaseTable leases(settings->max_leases);
  // The stages the policy decides at, learnt from its verdicts.
  hive::milter::StagePlan stages;
  // What sessions ask through: the channel, with failed releases retried.
  hive::milter::EndTransactionRetry policy(**client, hive::milter::kMaxPendingReleases);
  hive::milter::InstallRuntime(settings, &policy, &leases, &stages);
  std::thread reloader(ReloadLoop, *cl, settings, client->get(), &policy, &leases, &stages);

  const std::string ready =
      absl::StrCat("hive-milter listening on ", listen, ", policy ", settings->policy_target, " (rpc_timeout ",
                   absl::FormatDuration(settings->rpc_timeout), ", failure_mode ",
                   std::string(hive::milter::FailureModeName(settings->failure_mode)), ")");
  hive::log::Info(ready);
  // smfi_opensocket has bound and listened: the MTA's connections queue in
  // the backlog until smfi_main accepts them, so this is ready.
  if (absl::Status n = hive::notify::NotifyReady(ready); !n.ok()) hive::log::Warning(absl::StrCat("sd_notify: ", n.message()));
  // Wakes libmilter's listener when a stop is asked (else up to 5 s).
  hive::milter::StopWaker waker(listening_before);
  const int rc = smfi_main();
  waker.Done();
  (void)hive::notify::NotifyStopping();  // best effort while the sessions drain
  g_stopping.store(true);
  pthread_kill(reloader.native_handle(), SIGUSR1);
  reloader.join();

  // smfi_main returns on SIGTERM/SIGHUP without waiting for connections.
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (hive::milter::ActiveSessions() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int left = hive::milter::ActiveSessions();
  hive::log::Info(absl::StrCat("hive-milter stopped", left > 0 ? absl::StrCat(", ", left, " sessions cut") : ""));
  if (left > 0) {
    // Sessions still use the policy client: do not destroy it under them.
    std::fflush(nullptr);
    std::_Exit(kExitRuntime);
  }
  return rc == MI_SUCCESS ? 0 : kExitRuntime;
}

}  // namespace

int main(int argc, char** argv) {
  hive::support::PrepareProcess();
  return Run(argc, argv);
}
