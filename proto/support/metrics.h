// A small Prometheus metrics registry both daemons share: counters, gauges
// and histograms, each a family with fixed label names, rendered in the
// Prometheus text exposition format (version 0.0.4) by Registry::Render.
//
// Usage: a daemon creates one Registry at start, adds its families (names
// follow Prometheus conventions: hive_<daemon>_<what>_<unit>[_total]) and
// keeps the returned references; hot paths call
//   family.WithLabels({"CheckMessage", "reject"}).Inc();
// Families and series are never removed, so references stay valid for the
// registry's lifetime.
//
// Cardinality: label values must come from a bounded set (configuration
// names, enums), never from mail (no sender, no recipient). As a last guard
// each family holds at most kMaxSeriesPerFamily series; further label sets
// are counted in one series whose every label is "_overflow".
//
// Thread-safety: everything is thread-safe. Values are atomics; a family's
// mutex guards only its series map (taken on WithLabels and Render).
// Not its job: serving HTTP (metrics_server.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hive::metrics {

inline constexpr std::size_t kMaxSeriesPerFamily = 500;

class Counter {
 public:
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with fixed upper bounds (seconds, bytes, ...).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size(): above the last).
  std::uint64_t BucketCount(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Bounds for request latencies in seconds: 100 us .. 10 s.
std::vector<double> LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// Series of one metric, by label values (in the order of label_names).
template <typename Metric>
class Family {
 public:
  using Maker = std::function<std::unique_ptr<Metric>()>;
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names, Maker make)
      : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The series for these label values (created at first use). A wrong
  // number of values, or a full family, gives the "_overflow" series.
  Metric& WithLabels(const std::vector<std::string>& values);

  // Drops every series. Invalidates references WithLabels returned: only
  // for families used through WithLabels each time (an info metric whose
  // one series changes, e.g. the config version).
  void RemoveAll() {
    std::lock_guard lock(mu_);
    series_.clear();
  }

  const std::string& name() const { return name_; }
  void Render(std::string& out) const;

 private:
  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  const Maker make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                std::vector<double> bounds);
  // A gauge without labels read at scrape time (e.g. sessions in flight).
  // `read` must be thread-safe and outlive the registry's last Render.
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> read);
  // Called at the start of every Render, before any family is read (e.g.
  // to set gauges from a store). `refresh` must be thread-safe and outlive
  // the registry's last Render.
  void AddRefresh(std::function<void()> refresh);

  // Every family, in the order added.
  std::string Render() const;

 private:
  struct Callback {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<Callback> callbacks_;
  std::vector<std::function<void()>> refreshes_;
  // Render order: (kind, index into the vector of that kind).
  std::vector<std::pair<int, std::size_t>> order_;
};

// Exposition-format helpers, public for tests.
std::string FormatValue(double v);
std::string EscapeLabelValue(const std::string& v);

}  // namespace hive::metrics
