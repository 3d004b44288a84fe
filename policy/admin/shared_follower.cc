#include "admin/shared_follower.h"

#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::admin {

SharedFollower::SharedFollower(const SharedObject& object, config::SnapshotHolder& holder, ratelimit::Nanos interval,
                               std::string what)
    : object_(object), holder_(holder), interval_(interval), what_(std::move(what)) {}

SharedFollower::~SharedFollower() { Stop(); }

absl::Status SharedFollower::Poll() {
  const config::SnapshotPtr snapshot = holder_.Get();
  if (!object_.In(*snapshot)) return absl::OkStatus();
  absl::StatusOr<std::uint64_t> version = object_.Version();
  if (!version.ok()) return version.status();
  if (*version == 0) {
    absl::StatusOr<bool> seeded = object_.SeedFrom(*snapshot);
    if (!seeded.ok()) return seeded.status();
    if (!*seeded) return absl::OkStatus();  // nothing stored, nothing to store
    hive::log::Info(absl::StrCat(what_, ": seeded ", object_.Describe(), " from this replica's file"));
  } else {
    std::lock_guard lock(mu_);
    if (*version == last_.version) return absl::OkStatus();
  }
  absl::StatusOr<SharedObject::Loaded> loaded = object_.Load(*snapshot);
  if (!loaded.ok()) return loaded.status();
  if (absl::Status s = loaded->install(*snapshot); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    last_ = *std::move(loaded);
  }
  // A snapshot installed during the load took the object before this one
  // (Follow); later ones take this one.
  if (const config::SnapshotPtr current = holder_.Get(); current != snapshot) Follow(*current);
  return absl::OkStatus();
}

absl::Status SharedFollower::PollOnce() {
  absl::Status s = Poll();
  Report(s);
  return s;
}

void SharedFollower::Report(const absl::Status& s) {
  std::string error = s.ok() ? "" : std::string(s.message());
  std::lock_guard lock(mu_);
  if (error == error_) return;
  if (error.empty()) {
    hive::log::Info(absl::StrCat(what_, ": ", object_.Describe(), " in use again, version ", last_.version));
  } else {
    hive::log::Error(absl::StrCat(what_, ": ", object_.Describe(), ": ", error,
                                  " (scoring goes on with what this replica has)"));
  }
  error_ = std::move(error);
}

void SharedFollower::Follow(const config::PolicySnapshot& snapshot) {
  SharedObject::Loaded last;
  {
    std::lock_guard lock(mu_);
    last = last_;
  }
  if (!last.install || !object_.In(snapshot)) return;
  if (absl::Status s = last.install(snapshot); !s.ok()) Report(s);
}

SharedFollower::State SharedFollower::state() const {
  std::lock_guard lock(mu_);
  return {last_.version, error_};
}

void SharedFollower::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      (void)PollOnce();
      lock.lock();
    }
  });
}

void SharedFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace hive::policy::admin
