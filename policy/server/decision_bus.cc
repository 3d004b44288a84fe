#include "server/decision_bus.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace hive::policy::server {

bool DecisionFilter::Matches(const hive::admin::v1::Decision& d) const {
  if (!sender.empty()) {
    const bool domain_only = sender.front() == '@';
    if (domain_only ? !absl::EndsWithIgnoreCase(d.sender(), sender) : !absl::EqualsIgnoreCase(d.sender(), sender)) {
      return false;
    }
  }
  if (!action.empty() && !absl::EqualsIgnoreCase(d.action(), action)) return false;
  if (!pool.empty() && d.pool() != pool) return false;
  return true;
}

std::unique_ptr<DecisionBus::Subscription> DecisionBus::Subscribe(DecisionFilter filter, std::size_t capacity) {
  auto queue = std::make_shared<Queue>();
  queue->filter = std::move(filter);
  queue->capacity = std::clamp<std::size_t>(capacity, 1, kMaxCapacity);
  std::lock_guard lock(mu_);
  if (closed_) {
    queue->closed = true;
  } else {
    queues_.push_back(queue);
    subscribers_.fetch_add(1, std::memory_order_relaxed);
  }
  return std::unique_ptr<Subscription>(new Subscription(*this, std::move(queue)));
}

void DecisionBus::Publish(const hive::admin::v1::Decision& decision) {
  std::lock_guard lock(mu_);
  for (const std::shared_ptr<Queue>& q : queues_) {
    if (!q->filter.Matches(decision)) continue;
    {
      std::lock_guard qlock(q->mu);
      if (q->items.size() >= q->capacity) {
        ++q->dropped;  // a slow subscriber loses decisions, the MTA never waits
        continue;
      }
      q->items.push_back(decision);
      // The count travels with the first decision after the gap.
      q->items.back().set_dropped_before(q->dropped);
      q->dropped = 0;
    }
    q->ready.notify_one();
  }
}

void DecisionBus::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (const std::shared_ptr<Queue>& q : queues_) {
    {
      std::lock_guard qlock(q->mu);
      q->closed = true;
    }
    q->ready.notify_all();
  }
}

void DecisionBus::Leave(const Queue* queue) {
  std::lock_guard lock(mu_);
  const auto it = std::find_if(queues_.begin(), queues_.end(), [&](const auto& q) { return q.get() == queue; });
  if (it == queues_.end()) return;
  queues_.erase(it);
  subscribers_.fetch_sub(1, std::memory_order_relaxed);
}

DecisionBus::Subscription::~Subscription() { bus_.Leave(queue_.get()); }

bool DecisionBus::Subscription::closed() const {
  std::lock_guard lock(queue_->mu);
  return queue_->closed;
}

std::optional<hive::admin::v1::Decision> DecisionBus::Subscription::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(queue_->mu);
  queue_->ready.wait_for(lock, timeout, [&] { return queue_->closed || !queue_->items.empty(); });
  if (queue_->closed || queue_->items.empty()) return std::nullopt;
  hive::admin::v1::Decision d = std::move(queue_->items.front());
  queue_->items.pop_front();
  return d;
}

}  // namespace hive::policy::server
