// hive-policyd: the composition root. Reads the config, builds the stores
// and engines, serves gRPC, and handles signals on a dedicated thread with
// sigwait (so no work happens in an async signal handler):
//   SIGHUP          reload the config (a bad file keeps the running one);
//                   with the policy in Redis, poll Redis now instead; and
//                   check the listeners' TLS files (gRPC itself re-reads
//                   them every few seconds: grpc_tls.h), logging each
//                   certificate's validity or what is wrong; a change to
//                   them is checked as it lands too (tls_file_watch.h)
//   SIGTERM/SIGINT  graceful shutdown, exit 0
//
// Usage: hive-policyd --config PATH [--listen ADDR] [--admin-listen ADDR]
//                     [--admin-history DIR] [--check] [--debug]
// Exit codes: 0 ok, 1 runtime failure (cannot listen), 2 bad config or usage.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "admin/file_policy_storage.h"
#include "admin/policy_follower.h"
#include "admin/policy_repository.h"
#include "admin/redis_policy_storage.h"
#include "admin/shared_fingerprints.h"
#include "admin/shared_model.h"
#include "config/snapshot.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "ratelimit/limiter.h"
#include "redis/redis_client.h"
#include "server/access_control.h"
#include "server/access_follower.h"
#include "server/admin_service.h"
#include "server/counter_store.h"
#include "server/decision_bus.h"
#include "server/grpc_server.h"
#include "server/listeners.h"
#include "server/metered_store.h"
#include "server/policy_metrics.h"
#include "server/warmup_metrics.h"
#include "server/policy_service.h"
#include "support/grpc_tls.h"
#include "support/tls_file_watch.h"
#include "support/listen_address.h"
#include "support/log.h"
#include "support/sd_notify.h"
#include "support/metrics.h"
#include "support/metrics_server.h"
#include "support/process_setup.h"

namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;
constexpr auto kShutdownGrace = std::chrono::seconds(5);

struct Flags {
  std::string config;
  std::string listen;
  std::string admin_listen;   // "" = server.admin.listen ("" there too: no admin API)
  std::string admin_history;  // "" = <config>.history
  bool check = false;
  bool debug = false;
};

void Usage(std::ostream& out) {
  out << "usage: hive-policyd --config PATH [--listen ADDR] [--admin-listen ADDR] [--admin-history DIR]\n"
         "                    [--check] [--debug]\n"
         "  --config PATH   policy configuration (YAML)\n"
         "  --listen ADDR   gRPC address, overrides server.listen (default 127.0.0.1:7450)\n"
         "  --admin-listen ADDR  serve hive.admin.v1.AdminService there, overrides server.admin.listen\n"
         "                  (plaintext: loopback or unix: only; see server.admin.tls)\n"
         "  --admin-history DIR  policy history of the admin API (default <config>.history)\n"
         "  --check         validate the configuration as a start would, and exit (0 valid, 2 invalid)\n"
         "  --debug         log debug lines\n";
}

// Returns false (after printing why) on a usage error.
bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const bool takes_value = arg == "--config" || arg == "--listen" || arg.rfind("--config=", 0) == 0 ||
                             arg.rfind("--listen=", 0) == 0 || arg == "--admin-listen" ||
                             arg.rfind("--admin-listen=", 0) == 0 || arg == "--admin-history" ||
                             arg.rfind("--admin-history=", 0) == 0;
    if (takes_value) {
      if (const std::size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        std::cerr << "hive-policyd: " << arg << " needs a value\n";
        return false;
      }
      (arg == "--config"         ? flags.config
       : arg == "--listen"       ? flags.listen
       : arg == "--admin-listen" ? flags.admin_listen
                                 : flags.admin_history) = value;
    } else if (arg == "--check") {
      flags.check = true;
    } else if (arg == "--debug") {
      flags.debug = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage(std::cout);
      std::exit(0);
    } else {
      std::cerr << "hive-policyd: unknown argument '" << arg << "'\n";
      return false;
    }
  }
  if (flags.config.empty()) {
    std::cerr << "hive-policyd: --config is required\n";
    return false;
  }
  for (const auto& [flag, address] : {std::pair{"--listen", &flags.listen}, {"--admin-listen", &flags.admin_listen}}) {
    if (address->empty()) continue;
    if (absl::Status s = hive::support::CheckGrpcAddress(*address); !s.ok()) {
      std::cerr << "hive-policyd: " << flag << ": " << s.message() << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  hive::support::PrepareProcess();
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    Usage(std::cerr);
    return kExitConfig;
  }

  namespace ps = hive::policy::server;
  const ps::ListenAddresses overrides{flags.listen, flags.admin_listen};
  absl::StatusOr<hive::policy::config::SnapshotPtr> snapshot = hive::policy::config::LoadSnapshot(flags.config);
  if (flags.check) {
    if (!snapshot.ok()) {
      std::cerr << snapshot.status().message() << "\n";
      return kExitConfig;
    }
    hive::log::Init({.ident = "hive-policyd", .to_syslog = false, .to_stderr = true});
    absl::StatusOr<ps::Listeners> listeners = ps::PrepareListeners(overrides, (*snapshot)->server);
    if (!listeners.ok()) {
      std::cerr << flags.config << ": " << listeners.status().message() << "\n";
      return kExitConfig;
    }
    const hive::policy::config::LimitStoreSettings& store = (*snapshot)->limit_store;
    if (!listeners->admin_listen.empty() && !(store.redis && store.policy_in_redis)) {
      if (absl::Status s = hive::policy::admin::FilePolicyStorage::CheckWritable(flags.config, flags.admin_history);
          !s.ok()) {
        std::cerr << flags.config << ": admin API: cannot write " << s.message()
                  << " (an apply writes the config's directory and the history; docs/operations.md \"Enabling the "
                     "admin API\")\n";
        return kExitConfig;
      }
    }
    std::cout << flags.config << ": OK (config version " << (*snapshot)->version << ", "
              << (*snapshot)->limits.rules.size() << " limits, " << (*snapshot)->routing.pools().size()
              << " pools)\n";
    return 0;
  }
  if (!snapshot.ok()) {
    std::cerr << "hive-policyd: bad configuration:\n" << snapshot.status().message() << "\n";
    return kExitConfig;
  }

  // Block the signals before any thread exists, so every gRPC thread
  // inherits the mask and only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  hive::log::Init({.ident = "hive-policyd",
                   .to_syslog = true,
                   .to_stderr = !hive::log::StderrIsJournal(),
                   .debug = flags.debug,
                   .json = (*snapshot)->observability.log_json});

  hive::metrics::Registry registry;
  ps::PolicyMetrics metrics(registry);
  metrics.SetConfigVersion((*snapshot)->version);
  hive::policy::ratelimit::SteadyClock clock;
  namespace rl = hive::policy::ratelimit;
  const hive::policy::config::LimitStoreSettings& st = (*snapshot)->limit_store;
  absl::StatusOr<std::unique_ptr<ps::CounterStore>> counters = ps::CounterStore::Open(st, clock);
  if (!counters.ok()) {
    std::cerr << "hive-policyd: " << counters.status().message() << "\n";
    return kExitConfig;
  }
  rl::Store* store = &(*counters)->store();
  if (st.redis) {
    hive::log::Info(absl::StrCat("rate-limit store: ", (*counters)->name(), ", on outage ",
                                 st.redis_outage_local ? "local fallback" : "tempfail"));
  }
  ps::MeteredStore metered(*store, registry);
  rl::Limiter limiter(metered, clock);
  hive::policy::config::SnapshotHolder holder(flags.config, *snapshot);
  // SIGHUP reloads and admin API applies alike.
  holder.AddObserver([&metrics](const hive::policy::config::PolicySnapshot& s) { metrics.SetConfigVersion(s.version); });
  const hive::policy::config::SnapshotHolder::StartCheck start_check =
      [&overrides](const hive::policy::config::PolicySnapshot& s) { return ps::StartRefusal(overrides, s.server); };
  holder.SetStartCheck(start_check);
  // Decisions for the admin API's live stream (nothing is built while no
  // stream is open).
  ps::DecisionBus decisions;
  ps::PolicyServiceImpl service(holder, limiter, &metrics, &decisions);
  // Warm-up gauges, read from the store at scrape time (not metered: scrapes
  // are not mail traffic).
  ps::WarmupMetrics warmup_metrics(registry, holder, *store, clock);
  service.SetWarmupMetrics(&warmup_metrics);
  // Where the policy lives: in Redis beside the counters (every replica
  // follows it), or in the config file.
  namespace adm = hive::policy::admin;
  // Clients of their own for the policy and the Bayes model in Redis (two
  // connections: polls and admin writes, never decisions), with a deadline
  // that fits a whole model's seed.
  const auto admin_redis_client = [&st](rl::Nanos min_timeout) {
    hive::policy::redis::RedisClientOptions co{.pool_size = 2, .timeout = std::max(st.redis_timeout, min_timeout)};
    (void)hive::policy::redis::ParseHostPort(st.redis_address, co.host, co.port);  // checked above
    return std::make_unique<hive::policy::redis::RedisClient>(co);
  };
  // The learned signals in Redis beside the counters (the Bayes model, the
  // known-bad fingerprints), every replica following them. Their observers
  // are added before the policy follower's thread starts installing; a
  // reload builds the snapshot's copies from their files again, and they
  // take the shared ones instead.
  std::unique_ptr<hive::policy::redis::RedisClient> shared_client;
  std::unique_ptr<adm::SharedModel> shared_model;
  std::unique_ptr<adm::SharedFingerprints> shared_fingerprints;
  std::vector<std::unique_ptr<adm::SharedFollower>> shared_followers;
  adm::SharedFollower* model_follower = nullptr;
  if (st.redis && (st.bayes_in_redis || st.fingerprints_in_redis)) {
    shared_client = admin_redis_client(std::chrono::seconds(2));
    const auto follow = [&](const adm::SharedObject& object, const char* what) {
      shared_followers.push_back(
          std::make_unique<adm::SharedFollower>(object, holder, st.policy_poll_interval, what));
      adm::SharedFollower& f = *shared_followers.back();
      holder.AddObserver([&f](const hive::policy::config::PolicySnapshot& s) { f.Follow(s); });
      (void)f.PollOnce();
      f.Start();
      hive::log::Info(absl::StrCat(what, " in ", object.Describe(), ", polled every ",
                                   absl::FormatDuration(absl::FromChrono(st.policy_poll_interval))));
      return &f;
    };
    if (st.bayes_in_redis) {
      shared_model = std::make_unique<adm::SharedModel>(*shared_client, st.redis_key_prefix);
      model_follower = follow(*shared_model, "bayes model");
    }
    if (st.fingerprints_in_redis) {
      shared_fingerprints = std::make_unique<adm::SharedFingerprints>(*shared_client, st.redis_key_prefix);
      follow(*shared_fingerprints, "known-bad fingerprints");
    }
  }
  std::unique_ptr<hive::policy::redis::RedisClient> policy_client;
  std::unique_ptr<adm::PolicyStorage> policy_storage;
  std::unique_ptr<adm::PolicyFollower> follower;
  if (st.redis && st.policy_in_redis) {
    policy_client = admin_redis_client(std::chrono::seconds(1));
    policy_storage = std::make_unique<adm::RedisPolicyStorage>(*policy_client, st.redis_key_prefix);
    holder.SetStartSettingsFromFile(true);
    follower = std::make_unique<adm::PolicyFollower>(
        *policy_storage, holder, clock,
        adm::FollowerOptions{.interval = st.policy_poll_interval,
                             .on_load = [&metrics](bool ok) { metrics.RecordReload(ok); },
                             .on_poll = [&metrics](bool in_step) { metrics.SetPolicyInStep(in_step); }});
    // Start on the stored policy when Redis answers; else on the file's,
    // until it does.
    (void)follower->PollOnce();
    follower->Start();
    hive::log::Info(absl::StrCat("policy in ", policy_storage->Describe(), ", polled every ",
                                 absl::FormatDuration(absl::FromChrono(st.policy_poll_interval)), "; ", flags.config,
                                 " only seeds an empty store"));
  }
  std::unique_ptr<adm::PolicyRepository> repository;
  // Both listeners' credentials now: a refused plaintext address or a bad
  // certificate is a configuration error, before anything listens.
  absl::StatusOr<ps::Listeners> listeners = ps::PrepareListeners(overrides, (*snapshot)->server);
  if (!listeners.ok()) {
    hive::log::Error(absl::StrCat("hive-policyd: ", listeners.status().message()));
    return kExitConfig;
  }
  const hive::policy::config::ServerSettings& server_settings = (*snapshot)->server;
  const std::string& admin_listen = listeners->admin_listen;
  std::unique_ptr<ps::AdminServiceImpl> admin_service;
  std::unique_ptr<ps::AccessControl> access;
  std::unique_ptr<ps::AccessFollower> access_follower;
  std::shared_ptr<grpc::ServerCredentials> admin_credentials = listeners->admin_credentials;
  if (!admin_listen.empty()) {
    ps::AccessSettings& settings = *listeners->access;
    const bool admin_plaintext = settings.plaintext;
    ps::WarnOfLocalRole(settings);
    if (!policy_storage) {
      absl::StatusOr<std::unique_ptr<adm::FilePolicyStorage>> opened = adm::FilePolicyStorage::Open(
          flags.config, flags.admin_history,
          std::chrono::duration_cast<std::chrono::milliseconds>(clock.Wall()).count());
      if (!opened.ok()) {
        hive::log::Error(absl::StrCat("hive-policyd: admin history: ", opened.status().message(),
                                      " (the admin API writes the config file's directory and the history: the "
                                      "daemon's user needs write access there; under the packaged unit see "
                                      "docs/operations.md \"Enabling the admin API\")"));
        return kExitRuntime;
      }
      policy_storage = *std::move(opened);
    }
    repository = std::make_unique<adm::PolicyRepository>(
        *policy_storage, holder, clock, follower ? policy_storage->Describe() : flags.config);
    // An admin-API write replaces the whole file, which is what a restart
    // reads: refused when the daemon would not start with it. Its server
    // section (listeners, TLS, who may call the admin API) is the host's:
    // changed in the file on the host and reloaded, never through the API,
    // so an apply of a policy without it cannot drop the TLS or lock the
    // admins out. With the policy in Redis each replica's server section
    // comes from its own file and the stored policy has none (SeedText): one
    // in an apply would be stored and shown, but in force nowhere.
    repository->SetWriteCheck([&start_check, &holder, in_redis = follower != nullptr](
                                  const hive::policy::config::PolicySnapshot& s) {
      if (in_redis) {
        if (hive::policy::config::SameServerSettings(s.server, {})) return absl::OkStatus();
        return absl::InvalidArgumentError(
            "server: with the policy in Redis each replica takes its server section (listeners, TLS, admin "
            "access) from its own file, never from the stored policy: leave it out of what you apply, and "
            "change it in the replica's file and reload it (systemctl reload hive-policyd)");
      }
      if (absl::Status refused = start_check(s); !refused.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("hive-policyd would not start with it: ", refused.message()));
      }
      if (!hive::policy::config::SameServerSettings(s.server, holder.Get()->server)) {
        return absl::InvalidArgumentError(
            "server: differs from the running one (listeners, TLS, admin access); these are the host's "
            "settings: change them in the file on the host and reload it (systemctl reload hive-policyd), "
            "not through the admin API; keep the running server section in what you apply (hivectl policy "
            "get shows it)");
      }
      return absl::OkStatus();
    });
    // Every refused call: the audit history (who, what, when) and the log
    // (syslog, facility mail).
    hive::policy::admin::PolicyRepository* audit = repository.get();
    access = std::make_unique<ps::AccessControl>(
        std::move(settings), [audit](const std::string& who, const std::string& method, const std::string& why) {
          hive::log::Warning(absl::StrCat("admin: refused actor=\"", hive::log::Sanitize(who, 96), "\" method=",
                                          method, " reason=\"", hive::log::Sanitize(why, 200), "\""));
          (void)audit->Audit(who, "refused", absl::StrCat("method=", method, " reason=", why));
        });
    admin_credentials->SetAuthMetadataProcessor(
        std::shared_ptr<ps::AccessControl>(access.get(), [](auto*) {}));
    ps::InstallAccessControl(access.get());
    // A reload that changes the tokens, principals or local role puts them
    // in force from the next call. With the policy in the file, every
    // install (SIGHUP, apply) carries them; with the policy in Redis they
    // come from this replica's file, which SIGHUP re-reads (below).
    access_follower = std::make_unique<ps::AccessFollower>(*access, *repository, admin_plaintext,
                                                                             server_settings.admin);
    if (!follower) {
      holder.SetAccessFollowsReloads(true);
      holder.AddObserver([&access_of = *access_follower](const hive::policy::config::PolicySnapshot& s) {
        access_of.Follow(s.server.admin);
      });
    }
    admin_service = std::make_unique<ps::AdminServiceImpl>(
        holder, *repository, limiter,
        ps::AdminContext{
            .store = &metered,
            .clock = &clock,
            .store_name = (*counters)->name(),
            .started_wall = clock.Wall(),
            .decisions = &decisions,
            .follower = follower.get(),
            .shared_model = shared_model.get(),
            .model_follower = model_follower,
            .shared_fingerprints = shared_fingerprints.get()});
  }
  std::unique_ptr<hive::metrics::MetricsServer> metrics_server;
  if (const std::string& at = (*snapshot)->observability.metrics_listen; !at.empty()) {
    absl::StatusOr<std::unique_ptr<hive::metrics::MetricsServer>> started =
        hive::metrics::MetricsServer::Start(at, registry);
    if (!started.ok()) {
      hive::log::Error(absl::StrCat("hive-policyd: ", started.status().message()));
      return kExitRuntime;
    }
    metrics_server = *std::move(started);
    hive::log::Info(absl::StrCat("metrics on http://", at, "/metrics"));
  }

  absl::StatusOr<std::unique_ptr<ps::GrpcServer>> server = ps::GrpcServer::Start(
      {listeners->listen, static_cast<int>((*snapshot)->server.max_request_bytes), listeners->policy_credentials}, service);
  if (!server.ok()) {
    hive::log::Error(absl::StrCat("hive-policyd: ", server.status().message()));
    return kExitRuntime;
  }

  std::unique_ptr<ps::GrpcServer> admin_server;
  if (admin_service) {
    absl::StatusOr<std::unique_ptr<ps::GrpcServer>> started =
        ps::GrpcServer::Start({admin_listen, 16 << 20, admin_credentials}, *admin_service);
    if (!started.ok()) {
      hive::log::Error(absl::StrCat("hive-policyd: admin: ", started.status().message()));
      return kExitRuntime;
    }
    admin_server = *std::move(started);
    hive::log::Info(absl::StrCat("admin API on ", ps::ShownAddress(admin_listen, admin_server->port()),
                                 server_settings.admin.tls().cert_file().empty() ? " (plaintext)" : " (TLS)"));
  }

  const std::string ready = absl::StrCat("hive-policyd listening on ", ps::ShownAddress(listeners->listen, (*server)->port()),
                                         " (config ", flags.config, " version ", (*snapshot)->version, ")");
  // The same line on stdout for scripts, except in JSON mode: there every
  // line the daemon writes must be one JSON object (journald takes both).
  if (!(*snapshot)->observability.log_json) std::cout << ready << std::endl;
  hive::log::Info(ready);
  // Only now: the gRPC port accepts connections (Type=notify units).
  if (absl::Status n = hive::notify::NotifyReady(ready); !n.ok()) hive::log::Warning(absl::StrCat("sd_notify: ", n.message()));

  // A renewed certificate is served without a restart; this says, as each
  // renewal lands (and on SIGHUP), whether it is sound.
  std::vector<hive::tls::TlsFileWatch::Listener> tls_listeners;
  if (!server_settings.tls.cert_file().empty()) tls_listeners.push_back({server_settings.tls, "server.tls"});
  if (admin_server && !server_settings.admin.tls().cert_file().empty()) {
    tls_listeners.push_back({server_settings.admin.tls(), "server.admin.tls"});
  }
  for (const auto& l : tls_listeners) metrics.SetTlsFilesOk(l.field, true);  // checked at start
  hive::tls::TlsFileWatch tls_watch(
      std::move(tls_listeners), std::chrono::seconds(hive::tls::kCertificateReloadSeconds),
      [&metrics](const std::string& field, const absl::Status& files) {
        metrics.SetTlsFilesOk(field, files.ok());
        if (files.ok()) {
          hive::log::Info(absl::StrCat("TLS: ", field, ": certificate, key and CA files are sound"));
        } else {
          hive::log::Error(absl::StrCat("TLS: ", files.message(), " (gRPC re-reads the files every ",
                                        hive::tls::kCertificateReloadSeconds,
                                        "s: new connections fail until they are fixed)"));
        }
      });

  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) tls_watch.CheckNow();
      if (sig == SIGHUP) {
        for (const auto& f : shared_followers) (void)f->PollOnce();
      }
      if (sig == SIGHUP && follower) {
        hive::log::Info(absl::StrCat("SIGHUP: polling the policy in ", policy_storage->Describe()));
        (void)follower->PollOnce();  // logs and counts what it did
        if (access_follower) {
          // The admin access comes from this replica's file, not the store.
          absl::StatusOr<hive::policy::config::SnapshotPtr> file = hive::policy::config::LoadSnapshot(flags.config);
          const absl::Status usable = file.ok() ? start_check(**file) : file.status();
          if (usable.ok()) {
            access_follower->Follow((*file)->server.admin);
          } else {
            hive::log::Error(absl::StrCat("SIGHUP: admin access unchanged: ", usable.message()));
          }
        }
        continue;
      }
      if (sig == SIGHUP) {
        hive::log::Info("SIGHUP: reloading configuration");
        // Reload logs success or why the old config stays.
        const bool ok = holder.Reload().ok();
        metrics.RecordReload(ok);
        continue;
      }
      hive::log::Info(absl::StrCat("signal ", strsignal(sig), ": shutting down"));
      (void)hive::notify::NotifyStopping();  // best effort: systemd stops us either way
      // Open decision streams end now rather than at the grace deadline.
      decisions.Close();
      if (follower) follower->Stop();
      for (const auto& f : shared_followers) f->Stop();
      if (admin_server) admin_server->Shutdown(kShutdownGrace);
      (*server)->Shutdown(kShutdownGrace);
      return;
    }
  });

  (*server)->Wait();
  signal_thread.join();
  hive::log::Info("hive-policyd stopped");
  return 0;
}
