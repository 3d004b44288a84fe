// Keeps one hive-policyd running the policy its PolicyStorage holds (the
// Redis storage shared by every replica): a thread polls the storage's
// head every `interval` and, when it names a version this replica does not
// run, loads that version's text, compiles it exactly as a reload would and
// installs it. A version that cannot be loaded (does not compile, text
// missing, text not matching its version) is refused: the running snapshot
// stays, and the refusal is reported once per version (error log lines,
// on_load(false), state().error) until a newer version loads. An
// unreachable storage is reported the same way, once per outage, and never
// stops the replica deciding on what it runs.
//
// An empty storage (a new Redis, or one restarted without persistence) is
// seeded with the running policy's text (SeedText), so the first replica to
// start publishes its file and the others adopt it.
//
// Usage:
//   PolicyFollower f(storage, holder, clock, {.interval = 1s});
//   f.Start();   ... f.PollOnce() on SIGHUP ...   f.Stop() (or destroy)
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "admin/policy_storage.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"

namespace hive::policy::admin {

// What an empty storage is seeded with: the running text without its
// `server` section. Each replica takes its listeners, TLS and admin access
// from its own file, so a stored copy could only mislead (another host's
// addresses, token hashes revoked since). Its version is its own
// (config::ConfigVersion).
PolicyText SeedText(const std::string& running_text);

struct FollowerOptions {
  ratelimit::Nanos interval = std::chrono::seconds(1);
  // After every attempt to load a new version (metrics: reloads by result).
  std::function<void(bool ok)> on_load;
  // After every poll: whether this replica runs the stored head (metrics).
  std::function<void(bool in_step)> on_poll;
};

struct FollowerState {
  std::string storage;          // PolicyStorage::Describe()
  std::string store_version;    // the head last read ("" before the first read)
  std::string running_version;  // what this replica runs
  std::string error;            // "" or why the head is not what runs
  ratelimit::Nanos last_poll{0};  // wall clock of the last successful read
};

class PolicyFollower {
 public:
  // Everything must outlive the follower.
  PolicyFollower(PolicyStorage& storage, config::SnapshotHolder& holder, const ratelimit::Clock& clock,
                 FollowerOptions options);
  ~PolicyFollower();
  PolicyFollower(const PolicyFollower&) = delete;
  PolicyFollower& operator=(const PolicyFollower&) = delete;

  void Start();
  void Stop();
  // One poll now: OK when this replica runs the stored head afterwards.
  absl::Status PollOnce();
  FollowerState state() const;

 private:
  void Loop();
  absl::Status Poll();
  absl::Status Load(const std::string& version);
  void Report(absl::Status s);

  PolicyStorage& storage_;
  config::SnapshotHolder& holder_;
  const ratelimit::Clock& clock_;
  const FollowerOptions options_;

  std::mutex poll_mu_;  // one poll at a time (thread and SIGHUP)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  FollowerState state_;        // guarded by mu_
  std::string refused_;        // head version refused last; guarded by poll_mu_
  std::string refused_why_;    // and why; guarded by poll_mu_
  std::thread thread_;
};

}  // namespace hive::policy::admin
