// Latency samples and their percentiles, and the machine load next to a run.
// Not thread-safe: one Samples per thread, merged at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace hive::bench {

class Samples {
 public:
  void Add(double v) { v_.push_back(v); }
  void Merge(const Samples& o) { v_.insert(v_.end(), o.v_.begin(), o.v_.end()); }
  void Add(const std::vector<double>& v) { v_.insert(v_.end(), v.begin(), v.end()); }
  std::size_t size() const { return v_.size(); }
  const std::vector<double>& values() const { return v_; }
  // Nearest-rank percentile, q in [0,1]; 0 when empty.
  double Percentile(double q) {
    if (v_.empty()) return 0;
    std::sort(v_.begin(), v_.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v_.size())));
    return v_[std::min(v_.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
  double Mean() const {
    double s = 0;
    for (double x : v_) s += x;
    return v_.empty() ? 0 : s / static_cast<double>(v_.size());
  }

 private:
  std::vector<double> v_;
};

// "1.83 1.37 0.80" from /proc/loadavg.
inline std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace hive::bench
