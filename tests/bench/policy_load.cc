// hive-bench-policy: load generator for the policy decision alone (issue 9).
// Starts hive-policyd with the realistic policy (memory store) on loopback,
// or uses --target, and drives it with the async gRPC API: one thread issues
// calls on an open-loop schedule (call i is due at t0 + i/rate), one thread
// drains the completion queue. Latency is measured from the call's due time,
// so a client or server that falls behind shows as latency rather than as a
// lower offered rate (no coordinated omission). Then saturation: a closed
// loop keeping --window calls in flight.
//
// Two decisions are measured: CheckRecipient (match + 10 rate-limit rules,
// two-phase reservation: a fresh transaction per call) and CheckMessage (a
// 5 KB message: 300 content rules, routing, commit).
//
// Requests say omit_limits, as hive-milter's do (no limit statuses in the
// reply).
//
// Usage: hive-bench-policy [--quick] [--seconds N] [--rates 1000,5000,10000]
//          [--window N] [--target HOST:PORT] [--out FILE] [--policyd-wrapper CMD]
//          [--redis] [--rpcs recipient,message] [--policyd BIN]
//   --redis   the rate limits in a private redis-server (started on a free
//             loopback port, stopped by PID) instead of the memory store;
//             Redis calls get 1 s (at the default 250 ms a store driven to
//             saturation on 2 cores can be marked down, and every call then
//             fails) and a pool of 16 connections.
//   --rpcs    which decisions to measure (default both).
//   --policyd another hive-policyd binary (e.g. built from main) to start.
// Exit: 0 when every point completed calls without errors, 1 otherwise.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_policy.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/redis_server.h"
#include "harness/temp_dir.h"
#include "hive/policy/v1/policy.grpc.pb.h"
#include "proc_stats.h"
#include "stats.h"

namespace {

namespace pb = hive::policy::v1;
using Clock = std::chrono::steady_clock;

enum class Kind { kRecipient, kMessage };

struct Options {
  bool quick = false;
  double seconds = 5;
  std::vector<double> rates = {1000, 5000, 10000};
  std::size_t window = 64;
  std::string target;
  std::string out;
  std::string policyd_wrapper;
  bool redis = false;
  std::string policyd = HIVE_POLICYD_BIN;
  std::vector<Kind> kinds = {Kind::kRecipient, Kind::kMessage};
};

// One call in flight; owned by the completion loop once started.
struct Call {
  grpc::ClientContext context;
  pb::Verdict verdict;
  grpc::Status status;
  Clock::time_point due;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::Verdict>> reader;
};

struct Point {
  std::string rpc;
  std::string offered;  // "1000/s" or "saturation (64 in flight)"
  std::string load;
  double achieved = 0;
  std::size_t errors = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  double cpu_ms_per_call = 0;
};

class Driver {
 public:
  Driver(std::shared_ptr<grpc::Channel> channel, Kind kind, pid_t server)
      : stub_(pb::PolicyService::NewStub(channel)), kind_(kind), server_(server) {
    body_ = hive::bench::BenchBody(5 * 1024);
  }

  // rate > 0: open loop at `rate`/s; rate == 0: closed loop with `window`.
  Point Run(double rate, std::size_t window, double seconds) {
    Point p;
    p.rpc = kind_ == Kind::kRecipient ? "CheckRecipient" : "CheckMessage";
    p.offered = rate > 0 ? std::to_string(static_cast<long>(rate)) + "/s"
                         : "saturation (" + std::to_string(window) + " in flight)";
    p.load = hive::bench::LoadAverage();
    samples_ = hive::bench::Samples();
    errors_ = 0;
    completed_ = 0;
    in_flight_ = 0;
    grpc::CompletionQueue cq;
    const hive::bench::CpuTimes cpu0 = hive::bench::ReadCpu(server_);
    std::thread drain([&] { Drain(cq, rate == 0); });
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    if (rate > 0) {
      const auto period = std::chrono::duration<double>(1.0 / rate);
      for (std::size_t i = 0;; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
        if (due >= end) break;
        std::this_thread::sleep_until(due);
        Start(cq, due);
      }
    } else {
      std::unique_lock lock(mu_);
      while (Clock::now() < end) {
        while (in_flight_ < window) {
          ++in_flight_;
          lock.unlock();
          Start(cq, Clock::now());
          lock.lock();
        }
        cv_.wait_for(lock, std::chrono::milliseconds(5));
      }
    }
    issued_done_ = Clock::now();
    // Let the calls in flight finish (bounded by their deadline), then stop.
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(5), [&] { return completed_ == started_; });
    }
    cq.Shutdown();
    drain.join();
    const hive::bench::CpuTimes cpu1 = hive::bench::ReadCpu(server_);
    const double elapsed = std::chrono::duration<double>(issued_done_ - start).count();
    p.achieved = static_cast<double>(samples_.size()) / elapsed;
    p.errors = errors_;
    p.p50 = samples_.Percentile(0.50);
    p.p99 = samples_.Percentile(0.99);
    p.p999 = samples_.Percentile(0.999);
    p.cpu_ms_per_call = (cpu1.self_ms - cpu0.self_ms) / static_cast<double>(std::max<std::size_t>(completed_, 1));
    started_ = 0;
    WaitForIdleServer();
    return p;
  }

 private:
  // gRPC's sync server still works through calls whose client gave up:
  // after an overloaded point, wait (bounded) until hive-policyd is idle,
  // so the next point does not inherit its backlog.
  void WaitForIdleServer() {
    if (server_ <= 0) return;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    double last = hive::bench::ReadCpu(server_).self_ms;
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const double now = hive::bench::ReadCpu(server_).self_ms;
      if (now - last < 15) return;  // under 5% of a core
      last = now;
    }
  }

  void Start(grpc::CompletionQueue& cq, Clock::time_point due) {
    auto* call = new Call;
    call->due = due;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    const std::size_t n = next_id_++;
    pb::Transaction txn;
    txn.set_id("bench-" + std::to_string(n));
    txn.set_queue_id("Q" + std::to_string(n));
    txn.mutable_connection()->set_client_address("192.0.2." + std::to_string(n % 250 + 1));
    txn.mutable_connection()->set_client_name("client.example");
    txn.mutable_connection()->set_helo("client.example");
    txn.mutable_sender()->set_address(hive::bench::BenchSender(n));
    if (kind_ == Kind::kRecipient) {
      pb::RecipientRequest req;
      req.set_omit_limits(true);
      *req.mutable_transaction() = std::move(txn);
      req.mutable_recipient()->set_address(hive::bench::BenchRecipient(n));
      call->reader = stub_->PrepareAsyncCheckRecipient(&call->context, req, &cq);
    } else {
      pb::MessageRequest req;
      req.set_omit_limits(true);
      *req.mutable_transaction() = std::move(txn);
      req.add_recipients()->set_address(hive::bench::BenchRecipient(n));
      for (const char* h : {"From", "To", "Subject", "Date", "Message-ID", "X-Mailer"}) {
        pb::Header* header = req.add_headers();
        header->set_name(h);
        header->set_value(std::string(h) == "Subject" ? "Your weekly account summary" : "value");
      }
      req.set_body(body_);
      req.set_body_size(body_.size());
      call->reader = stub_->PrepareAsyncCheckMessage(&call->context, req, &cq);
    }
    {
      std::lock_guard lock(mu_);
      ++started_;
    }
    call->reader->StartCall();
    call->reader->Finish(&call->verdict, &call->status, call);
  }

  void Drain(grpc::CompletionQueue& cq, bool closed_loop) {
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - call->due).count();
      std::lock_guard lock(mu_);
      if (ok && call->status.ok()) {
        samples_.Add(ms);
      } else {
        ++errors_;
        if (errors_ == 1) std::fprintf(stderr, "first error: %s\n", call->status.error_message().c_str());
      }
      ++completed_;
      if (closed_loop && in_flight_ > 0) --in_flight_;
      cv_.notify_all();
    }
  }

  std::unique_ptr<pb::PolicyService::Stub> stub_;
  Kind kind_;
  pid_t server_;
  std::string body_;
  std::atomic<std::size_t> next_id_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  hive::bench::Samples samples_;
  std::size_t errors_ = 0, completed_ = 0, started_ = 0, in_flight_ = 0;
  Clock::time_point issued_done_;
};

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<double> ParseRates(const std::string& s) {
  std::vector<double> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stod(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--seconds") {
      o.seconds = std::stod(value());
    } else if (a == "--rates") {
      o.rates = ParseRates(value());
    } else if (a == "--window") {
      o.window = std::stoul(value());
    } else if (a == "--target") {
      o.target = value();
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--policyd-wrapper") {
      o.policyd_wrapper = value();
    } else if (a == "--policyd") {
      o.policyd = value();
    } else if (a == "--redis") {
      o.redis = true;
    } else if (a == "--rpcs") {
      o.kinds.clear();
      std::stringstream in(value());
      for (std::string item; std::getline(in, item, ',');) {
        if (item == "recipient") {
          o.kinds.push_back(Kind::kRecipient);
        } else if (item == "message") {
          o.kinds.push_back(Kind::kMessage);
        } else {
          std::fprintf(stderr, "--rpcs: recipient and/or message, not %s\n", item.c_str());
          return 2;
        }
      }
    } else {
      std::fprintf(stderr, "unknown argument %s (see the header of tests/bench/policy_load.cc)\n", a.c_str());
      return 2;
    }
  }
  if (o.quick) {
    o.seconds = 1;
    o.rates = {200};
    o.window = 8;
  }

  hive::testing::TempDir dir;
  std::unique_ptr<hive::testing::RedisServer> redis;
  if (o.redis) redis = std::make_unique<hive::testing::RedisServer>();
  std::unique_ptr<hive::testing::Process> policyd;
  pid_t server_pid = 0;
  if (o.target.empty()) {
    const uint16_t port = hive::testing::FreePort();
    o.target = "127.0.0.1:" + std::to_string(port);
    std::string yaml = hive::bench::RealisticPolicyYaml(o.target);
    if (redis) {
      yaml += "\nratelimit:\n  store:\n    kind: redis\n    redis: {address: \"" + redis->address() +
              "\", policy_in_file: true, timeout: 1s, pool_size: 16}\n";
    }
    hive::testing::WriteFile(dir.Sub("policyd.yaml"), yaml);
    std::vector<std::string> argv_policyd;
    std::istringstream wrapper(o.policyd_wrapper);
    for (std::string w; wrapper >> w;) argv_policyd.push_back(argv_policyd.empty() && w[0] != '/' ? "/usr/bin/" + w : w);
    for (const std::string& a : {o.policyd, std::string("--config"), dir.Sub("policyd.yaml")}) {
      argv_policyd.push_back(a);
    }
    policyd = std::make_unique<hive::testing::Process>(argv_policyd, dir.Sub("policyd.log"));
    if (!hive::testing::WaitForListener(port, std::chrono::seconds(60))) {
      std::fprintf(stderr, "hive-policyd did not start: %s\n", hive::testing::ReadFile(dir.Sub("policyd.log")).c_str());
      return 1;
    }
    server_pid = policyd->pid();
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "cannot connect to %s\n", o.target.c_str());
    return 1;
  }

  std::vector<Point> points;
  for (Kind kind : o.kinds) {
    Driver driver(channel, kind, server_pid);
    driver.Run(0, o.window, o.quick ? 0.2 : 1.0);  // warm-up
    for (double rate : o.rates) points.push_back(driver.Run(rate, o.window, o.seconds));
    points.push_back(driver.Run(0, o.window, o.seconds));
    for (std::size_t i = points.size() - o.rates.size() - 1; i < points.size(); ++i) {
      const Point& p = points[i];
      std::fprintf(stderr, "  %-14s %-26s %8.0f/s p50 %.3f p99 %.3f p999 %.3f ms errors %zu (load %s)\n",
                   p.rpc.c_str(), p.offered.c_str(), p.achieved, p.p50, p.p99, p.p999, p.errors, p.load.c_str());
    }
  }

  std::ostringstream md;
  md << "hive-policyd (" << (o.redis ? "Redis" : "memory") << " store, realistic policy) over loopback gRPC; "
     << o.seconds
     << " s per point; latency from each call's scheduled time; policyd CPU from /proc.\n\n";
  md << "| rpc | offered | load | achieved/s | p50 ms | p99 ms | p999 ms | errors | policyd CPU ms/call |\n";
  md << "|---|---|---|---|---|---|---|---|---|\n";
  bool ok = true;
  for (const Point& p : points) {
    if (p.achieved <= 0 || p.errors > 0) ok = false;
    md << "| " << p.rpc << " | " << p.offered << " | " << p.load << " | " << Fmt("%.0f", p.achieved) << " | "
       << Fmt("%.3f", p.p50) << " | " << Fmt("%.3f", p.p99) << " | " << Fmt("%.3f", p.p999) << " | " << p.errors
       << " | " << (server_pid > 0 ? Fmt("%.3f", p.cpu_ms_per_call) : "-") << " |\n";
  }
  std::fputs(md.str().c_str(), stdout);
  if (!o.out.empty()) hive::testing::WriteFile(o.out, md.str());
  return ok ? 0 : 1;
}
