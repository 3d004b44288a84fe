#include "smtp_load.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bench_policy.h"
#include "harness/smtp_client.h"
#include "stats.h"

namespace hive::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// One transaction; true on 250 after the final dot.
bool SendOne(const LoadSpec& spec, std::size_t n, const std::vector<std::string>& bodies, double* latency_ms) {
  const std::string sender = BenchSender(n);
  const auto start = Clock::now();
  hive::testing::SmtpClient client(std::chrono::seconds(30));
  if (client.Connect(spec.port).code != 220) return false;
  if (!client.Command("EHLO bench.client.test").positive()) return false;
  if (!client.Command("MAIL FROM:<" + sender + ">").positive()) return false;
  for (std::size_t r = 0; r < spec.recipients; ++r) {
    if (!client.Command("RCPT TO:<" + BenchRecipient(n * spec.recipients + r) + ">").positive()) return false;
  }
  const bool ok = client.Data(bodies[n % bodies.size()]).code == 250;
  *latency_ms = MsSince(start);
  client.Command("QUIT");
  return ok;
}

}  // namespace

LoadResult RunSmtpLoad(const LoadSpec& spec) {
  // A few message variants (senders differ), built before the clock starts.
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < 8; ++i) {
    bodies.push_back(BenchMessage(BenchSender(i), BenchRecipient(i), spec.message_bytes));
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> sent{0}, failed{0};
  std::vector<Samples> samples(spec.sessions);
  const auto start = Clock::now();
  const auto deadline = start + spec.max_time;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < spec.sessions; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        const std::size_t i = next.fetch_add(1);
        if (i >= spec.messages || Clock::now() >= deadline) return;
        double latency = 0;
        if (SendOne(spec, spec.first_index + i, bodies, &latency)) {
          sent.fetch_add(1);
          samples[t].Add(latency);
        } else {
          failed.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  LoadResult r;
  r.seconds = MsSince(start) / 1000.0;
  r.sent = sent.load();
  r.failed = failed.load();
  Samples all;
  for (const auto& s : samples) all.Merge(s);
  r.latencies_ms = all.values();
  r.p50_ms = all.Percentile(0.50);
  r.p99_ms = all.Percentile(0.99);
  r.mean_ms = all.Mean();
  return r;
}

}  // namespace hive::bench
