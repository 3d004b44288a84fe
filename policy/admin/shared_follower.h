// Keeps what a replica scores with in step with an object every replica
// shares through Redis: the classifier's model (shared_model.h), the
// known-bad fingerprints (shared_fingerprints.h).
//
// SharedFollower polls the object's version every `interval` and, when it
// changed, loads it and installs it in the running snapshot's copy, and in
// each new snapshot's (a reload builds them again from their files: Follow,
// a SnapshotHolder observer). An empty store is seeded from the running
// snapshot's copy when it holds anything, as the policy file seeds the
// policy. Failures are logged once per cause; the replica goes on with
// what it has.
//
// Usage (main.cc): SharedFollower f(object, holder, interval, "bayes");
//   holder.AddObserver(... f.Follow(s) ...); f.PollOnce(); f.Start();
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"

namespace hive::policy::admin {

class SharedObject {
 public:
  virtual ~SharedObject() = default;
  virtual std::string Describe() const = 0;
  // 0: nothing stored.
  virtual absl::StatusOr<std::uint64_t> Version() const = 0;
  // Whether `snapshot` has a copy to keep in step (its part is configured).
  virtual bool In(const config::PolicySnapshot& snapshot) const = 0;
  // Stores the snapshot's copy when nothing is stored and it holds
  // anything; true when it stored it.
  virtual absl::StatusOr<bool> SeedFrom(const config::PolicySnapshot& snapshot) const = 0;
  // The stored object, as what installs it into a snapshot's copy.
  struct Loaded {
    std::uint64_t version = 0;
    std::function<absl::Status(const config::PolicySnapshot&)> install;
  };
  virtual absl::StatusOr<Loaded> Load(const config::PolicySnapshot& snapshot) const = 0;
};

class SharedFollower {
 public:
  // `what` names it in the log ("bayes", "fingerprints").
  SharedFollower(const SharedObject& object, config::SnapshotHolder& holder, ratelimit::Nanos interval,
                 std::string what);
  ~SharedFollower();

  // Polls once now (start, SIGHUP); the thread polls every interval.
  absl::Status PollOnce();
  void Start();
  void Stop();
  // For a new snapshot: its copy gets the last loaded object.
  void Follow(const config::PolicySnapshot& snapshot);

  struct State {
    std::uint64_t version = 0;  // loaded last (0: none yet)
    std::string error;          // why the last poll failed, "" when it did not
  };
  State state() const;
  const SharedObject& object() const { return object_; }

 private:
  absl::Status Poll();
  void Report(const absl::Status& s);

  const SharedObject& object_;
  config::SnapshotHolder& holder_;
  const ratelimit::Nanos interval_;
  const std::string what_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  SharedObject::Loaded last_;  // installed last
  std::string error_;          // reported once
  std::thread thread_;
};

}  // namespace hive::policy::admin
