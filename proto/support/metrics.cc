#include "support/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hive::metrics {
namespace {

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (exposition format).
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const std::string& name, const std::string& help, Type type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out += "# TYPE " + name + " " + TypeName(type) + "\n";
}

// {a="x",b="y"} plus an optional extra pair (le for histogram buckets).
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += extra_name + "=\"" + extra_value + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

void Sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
  out += name + labels + " " + value + "\n";
}

void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Counter& c) {
  Sample(out, name, Labels(names, values), std::to_string(c.Value()));
}

void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Gauge& g) {
  Sample(out, name, Labels(names, values), FormatValue(g.Value()));
}

void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Histogram& h) {
  // _count is taken from the buckets, not from Count(): with Observe running
  // concurrently the two may differ for a moment, and +Inf must equal _count.
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.BucketCount(i);
    Sample(out, name + "_bucket", Labels(names, values, "le", FormatValue(h.bounds()[i])),
           std::to_string(cumulative));
  }
  cumulative += h.BucketCount(h.bounds().size());
  Sample(out, name + "_bucket", Labels(names, values, "le", "+Inf"), std::to_string(cumulative));
  Sample(out, name + "_sum", Labels(names, values), FormatValue(h.Sum()));
  Sample(out, name + "_count", Labels(names, values), std::to_string(cumulative));
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_([&] {
        std::sort(bounds.begin(), bounds.end());
        return bounds;
      }()),
      counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  const std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename Metric>
Metric& Family<Metric>::WithLabels(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  const bool fits = values.size() == label_names_.size() && series_.size() < kMaxSeriesPerFamily;
  const std::vector<std::string> key = fits ? values : std::vector<std::string>(label_names_.size(), "_overflow");
  auto& slot = series_[key];
  if (!slot) slot = make_();
  return *slot;
}

template <typename Metric>
void Family<Metric>::Render(std::string& out) const {
  Header(out, name_, help_, type_);
  std::lock_guard lock(mu_);
  for (const auto& [values, metric] : series_) RenderSeries(out, name_, label_names_, values, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(std::make_unique<CounterFamily>(std::move(name), std::move(help), Type::kCounter,
                                                      std::move(labels), [] { return std::make_unique<Counter>(); }));
  order_.emplace_back(0, counters_.size() - 1);
  return *counters_.back();
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(std::make_unique<GaugeFamily>(std::move(name), std::move(help), Type::kGauge, std::move(labels),
                                                  [] { return std::make_unique<Gauge>(); }));
  order_.emplace_back(1, gauges_.size() - 1);
  return *gauges_.back();
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                        std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), Type::kHistogram, std::move(labels),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); }));
  order_.emplace_back(2, histograms_.size() - 1);
  return *histograms_.back();
}

void Registry::AddCallbackGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  callbacks_.push_back({std::move(name), std::move(help), std::move(read)});
  order_.emplace_back(3, callbacks_.size() - 1);
}

void Registry::AddRefresh(std::function<void()> refresh) {
  std::lock_guard lock(mu_);
  refreshes_.push_back(std::move(refresh));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> refreshes;
  {
    std::lock_guard lock(mu_);
    refreshes = refreshes_;
  }
  for (const auto& refresh : refreshes) refresh();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [kind, i] : order_) {
    switch (kind) {
      case 0: counters_[i]->Render(out); break;
      case 1: gauges_[i]->Render(out); break;
      case 2: histograms_[i]->Render(out); break;
      default:
        Header(out, callbacks_[i].name, callbacks_[i].help, Type::kGauge);
        Sample(out, callbacks_[i].name, "", FormatValue(callbacks_[i].read()));
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Integers exactly; otherwise the shortest form that reads back the same.
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    for (int precision = 1; precision < 17; ++precision) {
      char shorter[64];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, v);
      if (std::strtod(shorter, nullptr) == v) return shorter;
    }
  }
  return buf;
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace hive::metrics
