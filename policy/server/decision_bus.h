// Live decisions for the admin API's TailDecisions stream: PolicyService
// publishes each decision it answers, every subscriber (one per open
// stream) gets the ones its filter selects through its own bounded queue.
//
// The decision path never waits on a subscriber: Publish() takes one short
// lock, and a subscriber whose queue is full (a slow dashboard) loses the
// decision; the next one it receives says how many it lost
// (Decision.dropped_before). With no subscriber, HasSubscribers() is one
// relaxed atomic load, so callers skip building the event at all.
//
// Usage: auto sub = bus.Subscribe(filter, 256); while (auto d =
// sub->Next(timeout)) ...; the subscription leaves the bus when destroyed.
// Close() (shutdown) wakes every subscriber; Next() then returns nullopt.
//
// Thread-safety: thread-safe; a Subscription is used by one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hive/admin/v1/admin.pb.h"

namespace hive::policy::server {

// Empty fields select everything. sender: the address (case-insensitive),
// or "@domain" for every sender of that domain; action: "continue",
// "tempfail", "reject", "discard", "quarantine" or "error"; pool: exact.
struct DecisionFilter {
  std::string sender;
  std::string action;
  std::string pool;

  bool Matches(const hive::admin::v1::Decision& decision) const;
};

class DecisionBus {
 private:
  struct Queue;

 public:
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // The next selected decision, waiting at most `timeout`; nullopt on
    // timeout or once the bus is closed.
    std::optional<hive::admin::v1::Decision> Next(std::chrono::milliseconds timeout);
    bool closed() const;

   private:
    friend class DecisionBus;
    Subscription(DecisionBus& bus, std::shared_ptr<Queue> queue) : bus_(bus), queue_(std::move(queue)) {}
    DecisionBus& bus_;
    std::shared_ptr<Queue> queue_;
  };

  static constexpr std::size_t kMaxCapacity = 10'000;

  // `capacity` is clamped to [1, kMaxCapacity].
  std::unique_ptr<Subscription> Subscribe(DecisionFilter filter, std::size_t capacity);
  bool HasSubscribers() const { return subscribers_.load(std::memory_order_relaxed) > 0; }
  void Publish(const hive::admin::v1::Decision& decision);
  void Close();

 private:
  struct Queue {
    DecisionFilter filter;
    std::size_t capacity = 0;
    std::mutex mu;
    std::condition_variable ready;
    std::deque<hive::admin::v1::Decision> items;
    std::uint64_t dropped = 0;  // since the last decision handed out
    bool closed = false;
  };
  void Leave(const Queue* queue);

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Queue>> queues_;
  bool closed_ = false;
  std::atomic<int> subscribers_{0};
};

}  // namespace hive::policy::server
