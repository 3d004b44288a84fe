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
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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
#include "config/snapshot.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "ratelimit/limiter.h"
#include "ratelimit/memory_store.h"
#include "ratelimit/outage_store.h"
#include "ratelimit/redis_store.h"
#include "server/access_control.h"
#include "server/access_follower.h"
#include "server/admin_service.h"
#include "server/decision_bus.h"
#include "server/grpc_server.h"
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

std::string ShownAddress(const std::string& listen, int port) {
  // "127.0.0.1:0" -> the port the kernel picked.
  if (listen.size() > 2 && listen.compare(listen.size() - 2, 2, ":0") == 0) {
    return absl::StrCat(listen.substr(0, listen.size() - 1), port);
  }
  return listen;
}


// The listeners' settings as start uses them: credentials (a plaintext
// listener off loopback refused, TLS files read and matched), the admin
// listener apart from the policy one, its access settings. No socket is
// opened, so --check makes these checks too: a file it passes does not stop
// the daemon at start.
struct Listeners {
  std::string listen;
  std::shared_ptr<grpc::ServerCredentials> policy_credentials;
  std::string admin_listen;  // "": no admin API
  std::shared_ptr<grpc::ServerCredentials> admin_credentials;
  std::optional<hive::policy::server::AccessSettings> access;
};

absl::StatusOr<Listeners> PrepareListeners(const Flags& flags, const hive::policy::config::PolicySnapshot& snapshot) {
  Listeners out;
  const hive::policy::config::ServerSettings& server = snapshot.server;
  out.listen = flags.listen.empty() ? server.listen : flags.listen;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> policy =
      hive::tls::MakeServerCredentials(server.tls, out.listen, "server.tls", /*local_credentials=*/false);
  if (!policy.ok()) return absl::InvalidArgumentError(absl::StrCat("policy listener: ", policy.status().message()));
  out.policy_credentials = *policy;
  out.admin_listen = flags.admin_listen.empty() ? server.admin.listen() : flags.admin_listen;
  if (out.admin_listen.empty()) return out;
  if (hive::tls::SameListenAddress(out.admin_listen, out.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flags.admin_listen.empty() ? "server.admin.listen" : "--admin-listen", " (", out.admin_listen, ") and ",
        flags.listen.empty() ? "server.listen" : "--listen", " (", out.listen,
        ") are the same listener: the admin API needs its own (another port or a unix socket)"));
  }
  // Local credentials on plaintext: gRPC checks the peer is local, and
  // AccessControl (an auth processor) then runs on every call either way.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> admin =
      hive::tls::MakeServerCredentials(server.admin.tls(), out.admin_listen, "server.admin.tls", /*local_credentials=*/true);
  if (!admin.ok()) return absl::InvalidArgumentError(absl::StrCat("admin listener: ", admin.status().message()));
  out.admin_credentials = *admin;
  absl::StatusOr<hive::policy::server::AccessSettings> access =
      hive::policy::server::AccessSettingsFrom(server.admin, /*plaintext=*/server.admin.tls().cert_file().empty());
  if (!access.ok()) return access.status();
  out.access = *std::move(access);
  return out;
}

// The admin API in file mode writes the config file's directory (an apply
// is a temporary file and a rename) and its history directory; start fails
// when it cannot (a read-only /etc under the unit's ProtectSystem=strict).
// --check says so first: the unit's ExecStartPre then fails with the reason.
absl::Status CheckAdminWritable(const Flags& flags) {
  const auto writable = [](const std::filesystem::path& wanted) -> absl::Status {
    std::error_code ec;
    std::filesystem::path at = wanted;  // the nearest existing ancestor
    while (!at.empty() && at != at.root_path() && !std::filesystem::exists(at, ec)) at = at.parent_path();
    if (at.empty()) at = ".";
    if (!std::filesystem::is_directory(at, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(wanted.string(), ": ", at.string(), " is not a directory"));
    }
    if (access(at.c_str(), W_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(wanted.string(), ": ", at.string(), ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  std::filesystem::path config_dir = std::filesystem::path(flags.config).parent_path();
  if (config_dir.empty()) config_dir = ".";
  for (const std::filesystem::path& dir :
       {config_dir, std::filesystem::path(flags.admin_history.empty() ? flags.config + ".history" : flags.admin_history)}) {
    if (absl::Status s = writable(dir); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "admin API: cannot write ", s.message(),
          " (an apply writes the config's directory and the history; docs/operations.md \"Enabling the admin API\")"));
    }
  }
  return absl::OkStatus();
}

// What a restart would refuse in a policy the admin API is about to write
// into the config file: the checks PrepareListeners makes that need no file
// (the TLS files are read at start).
absl::Status StartRefusal(const Flags& flags, const hive::policy::config::PolicySnapshot& snapshot) {
  const hive::policy::config::ServerSettings& server = snapshot.server;
  const std::string listen = flags.listen.empty() ? server.listen : flags.listen;
  if (server.tls.cert_file().empty() && !hive::tls::IsLocalAddress(listen)) {
    return absl::InvalidArgumentError(absl::StrCat("server.listen: plaintext gRPC on ", listen,
                                                   " is refused (only loopback or unix: may be plaintext; set server.tls)"));
  }
  const std::string admin_listen = flags.admin_listen.empty() ? server.admin.listen() : flags.admin_listen;
  if (admin_listen.empty()) return absl::OkStatus();
  if (server.admin.tls().cert_file().empty() && !hive::tls::IsLocalAddress(admin_listen)) {
    return absl::InvalidArgumentError(absl::StrCat("server.admin.listen: plaintext gRPC on ", admin_listen,
                                                   " is refused (set server.admin.tls)"));
  }
  return hive::policy::server::AccessSettingsFrom(server.admin, server.admin.tls().cert_file().empty()).status();
}

}  // namespace

int main(int argc, char** argv) {
  hive::support::PrepareProcess();
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    Usage(std::cerr);
    return kExitConfig;
  }

  absl::StatusOr<hive::policy::config::SnapshotPtr> snapshot = hive::policy::config::LoadSnapshot(flags.config);
  if (flags.check) {
    if (!snapshot.ok()) {
      std::cerr << snapshot.status().message() << "\n";
      return kExitConfig;
    }
    hive::log::Init({.ident = "hive-policyd", .to_syslog = false, .to_stderr = true});
    absl::StatusOr<Listeners> listeners = PrepareListeners(flags, **snapshot);
    if (!listeners.ok()) {
      std::cerr << flags.config << ": " << listeners.status().message() << "\n";
      return kExitConfig;
    }
    const hive::policy::config::LimitStoreSettings& store = (*snapshot)->limit_store;
    if (!listeners->admin_listen.empty() && !(store.redis && store.policy_in_redis)) {
      if (absl::Status s = CheckAdminWritable(flags); !s.ok()) {
        std::cerr << flags.config << ": " << s.message() << "\n";
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

  const std::string listen = flags.listen.empty() ? (*snapshot)->server.listen : flags.listen;
  hive::metrics::Registry registry;
  hive::policy::server::PolicyMetrics metrics(registry);
  metrics.SetConfigVersion((*snapshot)->version);
  hive::policy::ratelimit::SteadyClock clock;
  // The counter store is chosen once at start (a reload cannot move
  // counters between stores).
  namespace rl = hive::policy::ratelimit;
  const hive::policy::config::LimitStoreSettings& st = (*snapshot)->limit_store;
  rl::MemoryStore memory(clock, {.max_buckets = st.max_buckets});
  std::unique_ptr<rl::RedisStore> redis;
  std::unique_ptr<rl::MemoryStore> fallback;
  std::unique_ptr<rl::OutageStore> outage;
  rl::Store* store = &memory;
  if (st.redis) {
    rl::RedisStoreOptions ro{.pool_size = st.redis_pool_size, .timeout = st.redis_timeout,
                             .key_prefix = st.redis_key_prefix};
    if (absl::Status s = rl::ParseRedisAddress(st.redis_address, ro); !s.ok()) {
      std::cerr << "hive-policyd: ratelimit.store.redis.address: " << s.message() << "\n";
      return kExitConfig;
    }
    redis = std::make_unique<rl::RedisStore>(ro);
    if (st.redis_outage_local) fallback = std::make_unique<rl::MemoryStore>(clock);
    outage = std::make_unique<rl::OutageStore>(
        *redis, fallback.get(), clock,
        rl::OutageOptions{.mode = st.redis_outage_local ? rl::OutageMode::kLocal : rl::OutageMode::kTempfail,
                          .share = st.redis_fallback_share,
                          .retry_interval = st.redis_retry_interval});
    store = outage.get();
    hive::log::Info(absl::StrCat("rate-limit store: redis ", st.redis_address, ", on outage ",
                                 st.redis_outage_local ? "local fallback" : "tempfail"));
  }
  hive::policy::server::MeteredStore metered(*store, registry);
  rl::Limiter limiter(metered, clock);
  hive::policy::config::SnapshotHolder holder(flags.config, *snapshot);
  // SIGHUP reloads and admin API applies alike.
  holder.AddObserver([&metrics](const hive::policy::config::PolicySnapshot& s) { metrics.SetConfigVersion(s.version); });
  const hive::policy::config::SnapshotHolder::StartCheck start_check =
      [&flags](const hive::policy::config::PolicySnapshot& s) { return StartRefusal(flags, s); };
  holder.SetStartCheck(start_check);
  // Decisions for the admin API's live stream (nothing is built while no
  // stream is open).
  hive::policy::server::DecisionBus decisions;
  hive::policy::server::PolicyServiceImpl service(holder, limiter, &metrics, &decisions);
  // Warm-up gauges, read from the store at scrape time (not metered: scrapes
  // are not mail traffic).
  hive::policy::server::WarmupMetrics warmup_metrics(registry, holder, *store, clock);
  service.SetWarmupMetrics(&warmup_metrics);
  // Where the policy lives: in Redis beside the counters (every replica
  // follows it), or in the config file.
  namespace adm = hive::policy::admin;
  std::unique_ptr<hive::policy::redis::RedisClient> policy_client;
  std::unique_ptr<adm::PolicyStorage> policy_storage;
  std::unique_ptr<adm::PolicyFollower> follower;
  if (st.redis && st.policy_in_redis) {
    hive::policy::redis::RedisClientOptions co{.pool_size = 2, .timeout = std::max<rl::Nanos>(st.redis_timeout,
                                                                                               std::chrono::seconds(1))};
    (void)hive::policy::redis::ParseHostPort(st.redis_address, co.host, co.port);  // checked above
    policy_client = std::make_unique<hive::policy::redis::RedisClient>(co);
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
  absl::StatusOr<Listeners> listeners = PrepareListeners(flags, **snapshot);
  if (!listeners.ok()) {
    hive::log::Error(absl::StrCat("hive-policyd: ", listeners.status().message()));
    return kExitConfig;
  }
  const hive::policy::config::ServerSettings& server_settings = (*snapshot)->server;
  const std::string& admin_listen = listeners->admin_listen;
  std::unique_ptr<hive::policy::server::AdminServiceImpl> admin_service;
  std::unique_ptr<hive::policy::server::AccessControl> access;
  std::unique_ptr<hive::policy::server::AccessFollower> access_follower;
  std::shared_ptr<grpc::ServerCredentials> admin_credentials = listeners->admin_credentials;
  if (!admin_listen.empty()) {
    hive::policy::server::AccessSettings& settings = *listeners->access;
    const bool admin_plaintext = settings.plaintext;
    hive::policy::server::WarnOfLocalRole(settings);
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
    // admins out. (With the policy in Redis each replica's listeners come
    // from its own file: no such check.)
    if (!follower) {
      repository->SetWriteCheck([&start_check, &holder](const hive::policy::config::PolicySnapshot& s) {
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
    }
    // Every refused call: the audit history (who, what, when) and the log
    // (syslog, facility mail).
    hive::policy::admin::PolicyRepository* audit = repository.get();
    access = std::make_unique<hive::policy::server::AccessControl>(
        std::move(settings), [audit](const std::string& who, const std::string& method, const std::string& why) {
          hive::log::Warning(absl::StrCat("admin: refused actor=\"", hive::log::Sanitize(who, 96), "\" method=",
                                          method, " reason=\"", hive::log::Sanitize(why, 200), "\""));
          (void)audit->Audit(who, "refused", absl::StrCat("method=", method, " reason=", why));
        });
    admin_credentials->SetAuthMetadataProcessor(
        std::shared_ptr<hive::policy::server::AccessControl>(access.get(), [](auto*) {}));
    hive::policy::server::InstallAccessControl(access.get());
    // A reload that changes the tokens, principals or local role puts them
    // in force from the next call. With the policy in the file, every
    // install (SIGHUP, apply) carries them; with the policy in Redis they
    // come from this replica's file, which SIGHUP re-reads (below).
    access_follower = std::make_unique<hive::policy::server::AccessFollower>(*access, *repository, admin_plaintext,
                                                                             server_settings.admin);
    if (!follower) {
      holder.SetAccessFollowsReloads(true);
      holder.AddObserver([&access_of = *access_follower](const hive::policy::config::PolicySnapshot& s) {
        access_of.Follow(s.server.admin);
      });
    }
    admin_service = std::make_unique<hive::policy::server::AdminServiceImpl>(
        holder, *repository, limiter,
        hive::policy::server::AdminContext{
            .store = &metered,
            .clock = &clock,
            .store_name = st.redis ? absl::StrCat("redis ", st.redis_address) : std::string("memory"),
            .started_wall = clock.Wall(),
            .decisions = &decisions,
            .follower = follower.get()});
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

  absl::StatusOr<std::unique_ptr<hive::policy::server::GrpcServer>> server = hive::policy::server::GrpcServer::Start(
      {listen, static_cast<int>((*snapshot)->server.max_request_bytes), listeners->policy_credentials}, service);
  if (!server.ok()) {
    hive::log::Error(absl::StrCat("hive-policyd: ", server.status().message()));
    return kExitRuntime;
  }

  std::unique_ptr<hive::policy::server::GrpcServer> admin_server;
  if (admin_service) {
    absl::StatusOr<std::unique_ptr<hive::policy::server::GrpcServer>> started =
        hive::policy::server::GrpcServer::Start({admin_listen, 16 << 20, admin_credentials}, *admin_service);
    if (!started.ok()) {
      hive::log::Error(absl::StrCat("hive-policyd: admin: ", started.status().message()));
      return kExitRuntime;
    }
    admin_server = *std::move(started);
    hive::log::Info(absl::StrCat("admin API on ", ShownAddress(admin_listen, admin_server->port()),
                                 server_settings.admin.tls().cert_file().empty() ? " (plaintext)" : " (TLS)"));
  }

  const std::string ready = absl::StrCat("hive-policyd listening on ", ShownAddress(listen, (*server)->port()),
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
