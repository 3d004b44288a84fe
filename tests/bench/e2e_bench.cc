// hive-bench-e2e: the end-to-end benchmark of issue 9, in ONE run so that
// ratios are taken under the same machine load. It starts a sink
// (smtp-sink), hive-policyd with the realistic policy, two hive-milters and
// two no-op milters (TCP and UNIX socket each), and one private Postfix per
// configuration:
//   none        no milter                       (a)
//   noop        bench-noop-milter over TCP      (b, the reference)
//   hive        hive-milter + hive-policyd, TCP (c)
//   noop-unix / hive-unix   the same over a UNIX socket
// For each message size x recipient count it loads every configuration in
// turn (interleaved, so drift in machine load hits all alike) and reports
// messages/s, client latency p50/p99, CPU ms per message of each process
// (/proc utime+stime deltas, the queue drained before the second reading),
// peak RSS, and ratios to (b). Then the unloaded transaction latency (one
// message at a time, connect to the 250 after the final dot), interleaved
// in rounds.
//
// Usage: hive-bench-e2e [--quick] [--messages N] [--sessions N] [--unloaded N]
//          [--unix-loaded] [--out FILE] [--milter-wrapper CMD] [--policyd-wrapper CMD]
//          [--baseline-milter BIN --baseline-policyd BIN] [--configs a,b,..] [--no-limits]
//          [--hive-milter-yaml TEXT] [--hive-policy-yaml TEXT] [--cells 5x1,50x5,..] [--policy-unix]
//   --quick          CI smoke: few messages, two cells; checks it runs.
//   --baseline-*     a second hive (e.g. built from the commit before a
//                    change) as configurations base / base-unix, loaded in
//                    the same run so that before and after share the load.
//   --no-limits      the realistic policy without its throttle rules (what
//                    a policy that needs no MAIL / RCPT call costs).
//   --hive-policy-yaml TEXT  appended to this build's policy (e.g.
//                    "ratelimit: {decide_at: end_of_message}"); the
//                    baseline's policyd keeps the realistic one.
//   --hive-milter-yaml TEXT  appended to this build's milter config (e.g.
//                    "sender_limits_at_first_rcpt: true"); the baseline's
//                    milters keep the default one.
//   --policy-unix    this build's hive-policyd listens on a UNIX socket
//                    (its milters connect there); the baseline's stays on
//                    loopback TCP.
//   --cells          the loaded cells as KBxRECIPIENTS (default
//                    5x1,5x5,50x1,50x5; with --quick 5x1,50x5).
//   --configs        the loaded configurations, in this order (default:
//                    none,noop,hive[,base] and the -unix ones with
//                    --unix-loaded).
//   --*-wrapper CMD  runs the daemon under CMD (space-separated), e.g.
//                    "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"
// Needs root (Postfix). Loopback only. Every child is stopped by its PID.
// Exit: 0 when every configuration delivered messages, 1 otherwise.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_policy.h"
#include "harness/net.h"
#include "harness/postfix.h"
#include "harness/process.h"
#include "harness/temp_dir.h"
#include "proc_stats.h"
#include "smtp_load.h"
#include "stats.h"

namespace {

using hive::bench::LoadResult;
using hive::bench::LoadSpec;
using hive::testing::Process;
using hive::testing::ReadFile;
using hive::testing::TempDir;
using hive::testing::WriteFile;

struct Options {
  bool quick = false;
  std::size_t messages = 1000;
  std::size_t sessions = 20;
  std::size_t unloaded = 200;
  bool unix_loaded = false;
  std::string out;
  std::string milter_wrapper;
  std::string policyd_wrapper;
  std::string baseline_milter;
  std::string baseline_policyd;
  std::vector<std::string> configs;
  bool limits = true;
  std::string hive_milter_yaml;
  std::string hive_policy_yaml;
  bool policy_unix = false;
  std::chrono::seconds phase_limit{90};
};

struct Cell {
  std::size_t bytes;
  std::size_t recipients;
};

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "a,b,c" as {a, b, c}.
std::vector<std::string> SplitCommas(std::string list) {
  std::replace(list.begin(), list.end(), ',', ' ');
  return Split(list);
}

std::vector<std::string> Wrapped(const std::string& wrapper, std::vector<std::string> argv) {
  std::vector<std::string> out = Split(wrapper);
  if (!out.empty() && out[0].find('/') == std::string::npos) out[0] = "/usr/bin/" + out[0];
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// Waits for a UNIX socket to appear, then opens it to Postfix's unprivileged
// smtpd and cleanup (the daemons run as root with umask 022).
void WaitForSocket(const std::string& path, Process& p) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline || !p.Running()) {
      throw std::runtime_error("no socket " + path + ": " + ReadFile(p.log_path()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  chmod(path.c_str(), 0666);
}

void WaitForPort(uint16_t port, Process& p) {
  if (!hive::testing::WaitForListener(port, std::chrono::seconds(60))) {
    throw std::runtime_error("no listener on " + std::to_string(port) + ": " + ReadFile(p.log_path()));
  }
}

// One Postfix configuration under test and the daemons whose CPU it charges.
struct Config {
  std::string name;
  std::string milter;  // Postfix syntax, "" for none
  std::vector<Process*> daemons;
  std::vector<std::string> daemon_names;
  std::unique_ptr<hive::testing::Postfix> postfix;
  std::string dir;
  pid_t master = 0;
};

struct Row {
  Cell cell;
  std::string config;
  std::string load;
  LoadResult result;
  std::map<std::string, double> cpu_ms_per_msg;  // program -> ms/msg
};

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::map<std::string, double> Snapshot(const Config& c) {
  std::map<std::string, double> cpu = hive::bench::PostfixCpuByProgram(c.master);
  for (std::size_t i = 0; i < c.daemons.size(); ++i) {
    const hive::bench::CpuTimes t = hive::bench::ReadCpu(c.daemons[i]->pid());
    cpu[c.daemon_names[i]] = t.self_ms + t.children_ms;
  }
  return cpu;
}

Row RunPhase(Config& c, const Options& o, const Cell& cell, std::size_t first_index) {
  Row row{cell, c.name, hive::bench::LoadAverage(), {}, {}};
  const auto before = Snapshot(c);
  LoadSpec spec;
  spec.port = c.postfix->smtp_port();
  spec.sessions = o.sessions;
  spec.messages = o.messages;
  spec.message_bytes = cell.bytes;
  spec.recipients = cell.recipients;
  spec.max_time = o.phase_limit;
  spec.first_index = first_index;
  row.result = hive::bench::RunSmtpLoad(spec);
  // Delivery to the sink is part of the cost of a message: wait for it.
  c.postfix->WaitForEmptyQueue(std::chrono::seconds(120));
  const auto after = Snapshot(c);
  const double n = static_cast<double>(std::max<std::size_t>(row.result.sent, 1));
  for (const auto& [prog, ms] : after) {
    const auto b = before.find(prog);
    const double delta = ms - (b == before.end() ? 0 : b->second);
    if (delta != 0) row.cpu_ms_per_msg[prog] = delta / n;
  }
  std::fprintf(stderr, "  %-10s %3zu KB x%zu: %6.1f msg/s p50 %.1f ms p99 %.1f ms (%zu sent, %zu failed, load %s)\n",
               c.name.c_str(), cell.bytes / 1024, cell.recipients, row.result.per_second(), row.result.p50_ms,
               row.result.p99_ms, row.result.sent, row.result.failed, row.load.c_str());
  return row;
}

// A configuration with hive-milter + hive-policyd (this build or the baseline).
bool IsHive(const std::string& config) { return config.rfind("hive", 0) == 0 || config.rfind("base", 0) == 0; }

double Get(const std::map<std::string, double>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

std::string MachineLine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string model;
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return std::to_string(std::thread::hardware_concurrency()) + " CPUs (" + model + ")";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<Cell> cells = {{5 * 1024, 1}, {5 * 1024, 5}, {50 * 1024, 1}, {50 * 1024, 5}};
  // --quick sets small defaults; flags given with it still win.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {
      o.quick = true;
      o.messages = 16;
      o.sessions = 4;
      o.unloaded = 4;
      o.phase_limit = std::chrono::seconds(15);
      cells = {{5 * 1024, 1}, {50 * 1024, 5}};
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      continue;
    } else if (a == "--messages") {
      o.messages = std::stoul(value());
    } else if (a == "--sessions") {
      o.sessions = std::stoul(value());
    } else if (a == "--unloaded") {
      o.unloaded = std::stoul(value());
    } else if (a == "--unix-loaded") {
      o.unix_loaded = true;
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--milter-wrapper") {
      o.milter_wrapper = value();
    } else if (a == "--policyd-wrapper") {
      o.policyd_wrapper = value();
    } else if (a == "--baseline-milter") {
      o.baseline_milter = value();
    } else if (a == "--baseline-policyd") {
      o.baseline_policyd = value();
    } else if (a == "--no-limits") {
      o.limits = false;
    } else if (a == "--hive-milter-yaml") {
      o.hive_milter_yaml = value();
    } else if (a == "--hive-policy-yaml") {
      o.hive_policy_yaml = value();
    } else if (a == "--policy-unix") {
      o.policy_unix = true;
    } else if (a == "--cells") {
      cells.clear();
      for (const std::string& c : SplitCommas(value())) {
        const std::size_t x = c.find('x');
        if (x == std::string::npos) throw std::runtime_error("--cells: " + c + " is not KBxRECIPIENTS");
        cells.push_back({std::stoul(c.substr(0, x)) * 1024, std::stoul(c.substr(x + 1))});
      }
    } else if (a == "--configs") {
      o.configs = SplitCommas(value());
    } else {
      std::fprintf(stderr, "unknown argument %s (see the header of tests/bench/e2e_bench.cc)\n", a.c_str());
      return 2;
    }
  }

  TempDir dir;
  const std::string load_at_start = hive::bench::LoadAverage();
  // The next hop: smtp-sink, discarding (no per-message files to write).
  const uint16_t sink_port = hive::testing::FreePort();
  Process sink({"/usr/sbin/smtp-sink", "-u", "nobody", "127.0.0.1:" + std::to_string(sink_port), "256"},
               dir.Sub("sink.log"));
  WaitForPort(sink_port, sink);

  const uint16_t policy_port = hive::testing::FreePort();
  const std::string policy_sock = dir.Sub("policyd.sock");
  const std::string policy_target =
      o.policy_unix ? "unix:" + policy_sock : "127.0.0.1:" + std::to_string(policy_port);
  WriteFile(dir.Sub("policyd.yaml"),
            hive::bench::RealisticPolicyYaml(policy_target, o.limits) + o.hive_policy_yaml + "\n");
  WriteFile(dir.Sub("milter.yaml"), "failure_mode: tempfail\n");
  WriteFile(dir.Sub("hive-milter.yaml"), "failure_mode: tempfail\n" + o.hive_milter_yaml + "\n");
  Process policyd(Wrapped(o.policyd_wrapper, {HIVE_POLICYD_BIN, "--config", dir.Sub("policyd.yaml")}),
                  dir.Sub("policyd.log"));
  if (o.policy_unix) {
    WaitForSocket(policy_sock, policyd);
  } else {
    WaitForPort(policy_port, policyd);
  }

  const uint16_t hive_port = hive::testing::FreePort();
  const uint16_t noop_port = hive::testing::FreePort();
  const std::string hive_sock = dir.Sub("hive.sock");
  const std::string noop_sock = dir.Sub("noop.sock");
  auto hive_milter = [&](const std::string& listen, const std::string& log) {
    return std::make_unique<Process>(Wrapped(o.milter_wrapper, {HIVE_MILTER_BIN, "--config", dir.Sub("hive-milter.yaml"),
                                                                "--listen", listen, "--policy", policy_target}),
                                     dir.Sub(log));
  };
  auto hive_tcp = hive_milter("inet:" + std::to_string(hive_port) + "@127.0.0.1", "hive-tcp.log");
  auto hive_unix = hive_milter("unix:" + hive_sock, "hive-unix.log");
  Process noop_tcp({BENCH_NOOP_BIN, "--listen", "inet:" + std::to_string(noop_port) + "@127.0.0.1"},
                   dir.Sub("noop-tcp.log"));
  Process noop_unix({BENCH_NOOP_BIN, "--listen", "unix:" + noop_sock}, dir.Sub("noop-unix.log"));
  WaitForPort(hive_port, *hive_tcp);
  WaitForSocket(hive_sock, *hive_unix);
  WaitForPort(noop_port, noop_tcp);
  WaitForSocket(noop_sock, noop_unix);
  // The baseline hive: its own policyd (same policy), milters on both sockets.
  const bool baseline = !o.baseline_milter.empty();
  if (baseline != !o.baseline_policyd.empty()) {
    std::fprintf(stderr, "--baseline-milter and --baseline-policyd go together\n");
    return 2;
  }
  const uint16_t base_policy_port = hive::testing::FreePort();
  const uint16_t base_port = hive::testing::FreePort();
  const std::string base_sock = dir.Sub("base.sock");
  std::unique_ptr<Process> base_policyd, base_tcp, base_unix;
  if (baseline) {
    const std::string target = "127.0.0.1:" + std::to_string(base_policy_port);
    WriteFile(dir.Sub("base-policyd.yaml"), hive::bench::RealisticPolicyYaml(target, o.limits));
    base_policyd = std::make_unique<Process>(
        Wrapped(o.policyd_wrapper, {o.baseline_policyd, "--config", dir.Sub("base-policyd.yaml")}),
        dir.Sub("base-policyd.log"));
    WaitForPort(base_policy_port, *base_policyd);
    auto milter = [&](const std::string& listen, const std::string& log) {
      return std::make_unique<Process>(Wrapped(o.milter_wrapper, {o.baseline_milter, "--config", dir.Sub("milter.yaml"),
                                                                  "--listen", listen, "--policy", target}),
                                       dir.Sub(log));
    };
    base_tcp = milter("inet:" + std::to_string(base_port) + "@127.0.0.1", "base-tcp.log");
    base_unix = milter("unix:" + base_sock, "base-unix.log");
    WaitForPort(base_port, *base_tcp);
    WaitForSocket(base_sock, *base_unix);
  }
  // Idle footprint, before any session.
  std::map<std::string, long> idle_rss = {{"hive-milter", hive::bench::RssKib(hive_tcp->pid())},
                                          {"hive-policyd", hive::bench::RssKib(policyd.pid())},
                                          {"noop-milter", hive::bench::RssKib(noop_tcp.pid())}};

  std::vector<std::unique_ptr<Config>> configs;
  auto add = [&](std::string name, std::string milter, std::vector<Process*> daemons, std::vector<std::string> names) {
    auto c = std::make_unique<Config>();
    c->name = std::move(name);
    c->milter = std::move(milter);
    c->daemons = std::move(daemons);
    c->daemon_names = std::move(names);
    c->dir = dir.Sub("postfix-" + c->name);
    configs.push_back(std::move(c));
  };
  add("none", "", {}, {});
  add("noop", "inet:127.0.0.1:" + std::to_string(noop_port), {&noop_tcp}, {"milter"});
  add("hive", "inet:127.0.0.1:" + std::to_string(hive_port), {hive_tcp.get(), &policyd}, {"milter", "policyd"});
  add("noop-unix", "unix:" + noop_sock, {&noop_unix}, {"milter"});
  add("hive-unix", "unix:" + hive_sock, {hive_unix.get(), &policyd}, {"milter", "policyd"});
  if (baseline) {
    add("base", "inet:127.0.0.1:" + std::to_string(base_port), {base_tcp.get(), base_policyd.get()},
        {"milter", "policyd"});
    add("base-unix", "unix:" + base_sock, {base_unix.get(), base_policyd.get()}, {"milter", "policyd"});
  }
  // Start the Postfix instances side by side: each spends ~2 s in postfix check.
  {
    std::vector<std::future<void>> starting;
    for (auto& c : configs) {
      starting.push_back(std::async(std::launch::async, [&c, sink_port] {
        hive::testing::PostfixOptions po;
        po.milter = c->milter;
        po.sink_port = sink_port;
        // Long-lived smtpd/cleanup processes, so their CPU stays attributable
        // (an exited child's CPU only shows in master's cutime). No flow
        // control: when the queue manager falls behind, smtpd pauses up to
        // in_flow_delay (1 s) before each message, whichever milter runs,
        // and those pauses swung the throughput ratios from 0.5 to 1.7.
        po.extra_main_cf = "max_use = 1000000\nmax_idle = 3600\nin_flow_delay = 0\n";
        c->postfix = std::make_unique<hive::testing::Postfix>(c->dir, po);
        c->master = std::atoi(ReadFile(c->dir + "/queue/pid/master.pid").c_str());
      }));
    }
    for (auto& f : starting) f.get();
  }
  std::vector<std::string> loaded = {"none", "noop", "hive"};
  if (baseline) loaded.push_back("base");
  if (o.unix_loaded) {
    for (const char* n : {"noop-unix", "hive-unix"}) loaded.push_back(n);
    if (baseline) loaded.push_back("base-unix");
  }
  if (!o.configs.empty()) loaded = o.configs;
  auto config = [&](const std::string& name) -> Config& {
    for (auto& c : configs) {
      if (c->name == name) return *c;
    }
    throw std::runtime_error("no config " + name);
  };

  // Warm-up: every smtpd/cleanup process spawned, channels connected.
  std::fprintf(stderr, "warm-up\n");
  for (auto& c : configs) {
    LoadSpec w;
    w.port = c->postfix->smtp_port();
    w.sessions = o.sessions;
    w.messages = o.sessions * 2;
    w.max_time = std::chrono::seconds(30);
    hive::bench::RunSmtpLoad(w);
    c->postfix->WaitForEmptyQueue(std::chrono::seconds(60));
  }

  std::fprintf(stderr, "loaded runs: %zu messages over %zu sessions per cell and configuration\n", o.messages,
               o.sessions);
  std::vector<Row> rows;
  std::size_t index = 1000;
  for (const Cell& cell : cells) {
    for (const std::string& name : loaded) {
      rows.push_back(RunPhase(config(name), o, cell, index));
      index += o.messages;
    }
  }
  std::map<std::string, long> peak_rss = {{"hive-milter", hive::bench::PeakRssKib(hive_tcp->pid())},
                                          {"hive-policyd", hive::bench::PeakRssKib(policyd.pid())},
                                          {"noop-milter", hive::bench::PeakRssKib(noop_tcp.pid())}};

  // Unloaded latency, in rounds over the configurations.
  std::fprintf(stderr, "unloaded latency: %zu messages each, one at a time\n", o.unloaded);
  std::vector<std::string> unloaded = {"none", "noop", "hive", "noop-unix", "hive-unix"};
  if (baseline) {
    unloaded.insert(unloaded.begin() + 3, "base");
    unloaded.push_back("base-unix");
  }
  std::map<std::string, hive::bench::Samples> latency;
  const std::size_t round = std::min<std::size_t>(o.unloaded, 20);
  const std::string unloaded_load = hive::bench::LoadAverage();
  for (std::size_t done = 0; done < o.unloaded; done += round) {
    for (const std::string& name : unloaded) {
      LoadSpec spec;
      spec.port = config(name).postfix->smtp_port();
      spec.sessions = 1;
      spec.messages = std::min(round, o.unloaded - done);
      spec.first_index = index;
      index += spec.messages;
      latency[name].Add(hive::bench::RunSmtpLoad(spec).latencies_ms);
    }
  }

  // The report (Markdown).
  std::ostringstream md;
  md << "Machine: " << MachineLine() << "; load average at start " << load_at_start << ", at the end "
     << hive::bench::LoadAverage() << ".\n\n";
  md << "Policy: " << (o.limits ? "realistic (10 throttle rules, 300 content rules, 4 pools)" :
                                  "realistic without its throttle rules (300 content rules, 4 pools)")
     << (baseline ? "; base = the baseline binaries" : "")
     << (o.hive_milter_yaml.empty() ? "" : "; hive's milter config adds `" + o.hive_milter_yaml + "`")
     << (o.hive_policy_yaml.empty() ? "" : "; hive's policy adds `" + o.hive_policy_yaml + "`") << ".\n\n";
  md << "Loaded: " << o.messages << " messages per cell over " << o.sessions
     << " concurrent sessions, one message per connection; CPU in ms per message (utime+stime deltas, queue "
        "drained); `pf other` = Postfix master, qmgr, smtp, trivial-rewrite and exited children.\n\n";
  md << "| size | rcpts | config | load | msg/s | vs (b) | p50 ms | p99 ms | failed | smtpd | cleanup | pf other | "
        "milter | policyd | milter+policyd | vs (b) |\n";
  md << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  bool ok = true;
  for (const Row& r : rows) {
    const Row* ref = nullptr;
    const std::string ref_name = r.config.find("unix") != std::string::npos ? "noop-unix" : "noop";
    for (const Row& x : rows) {
      if (x.cell.bytes == r.cell.bytes && x.cell.recipients == r.cell.recipients && x.config == ref_name) ref = &x;
    }
    if (r.result.sent == 0) ok = false;
    const auto& c = r.cpu_ms_per_msg;
    double other = 0;
    for (const auto& [prog, ms] : c) {
      if (prog != "smtpd" && prog != "cleanup" && prog != "milter" && prog != "policyd") other += ms;
    }
    const double ours = Get(c, "milter") + Get(c, "policyd");
    const double ref_ours = ref ? Get(ref->cpu_ms_per_msg, "milter") : 0;
    md << "| " << r.cell.bytes / 1024 << " KB | " << r.cell.recipients << " | " << r.config << " | " << r.load
       << " | " << Fmt("%.1f", r.result.per_second()) << " | "
       << (ref && ref->result.per_second() > 0 ? Fmt("%.2f", r.result.per_second() / ref->result.per_second()) : "-")
       << " | " << Fmt("%.1f", r.result.p50_ms) << " | " << Fmt("%.1f", r.result.p99_ms) << " | " << r.result.failed
       << " | " << Fmt("%.2f", Get(c, "smtpd")) << " | " << Fmt("%.2f", Get(c, "cleanup")) << " | "
       << Fmt("%.2f", other) << " | " << (r.config == "none" ? "-" : Fmt("%.2f", Get(c, "milter"))) << " | "
       << (IsHive(r.config) ? Fmt("%.2f", Get(c, "policyd")) : "-") << " | "
       << (r.config == "none" ? "-" : Fmt("%.2f", ours)) << " | "
       << (ref_ours > 0 && r.config != "none" ? Fmt("%.2f", ours / ref_ours) : "-") << " |\n";
  }
  md << "\nMemory (KiB): RSS when idle, peak RSS (VmHWM) after the loaded runs with " << o.sessions
     << " concurrent sessions, and (peak - idle) / sessions.\n\n";
  md << "| process | idle RSS | VmHWM | per session |\n|---|---|---|---|\n";
  for (const char* p : {"noop-milter", "hive-milter", "hive-policyd"}) {
    md << "| " << p << " | " << idle_rss[p] << " | " << peak_rss[p] << " | "
       << Fmt("%.0f", static_cast<double>(peak_rss[p] - idle_rss[p]) / static_cast<double>(o.sessions)) << " |\n";
  }
  md << "\nUnloaded transaction latency (5 KB, 1 recipient, one message at a time, connect to the 250 after the "
        "final dot), "
     << o.unloaded << " messages per configuration in rounds of " << round << "; load at start " << unloaded_load
     << ".\n\n";
  md << "| config | p50 ms | p99 ms | mean ms | p50 added over no-op |\n|---|---|---|---|---|\n";
  for (const std::string& name : unloaded) {
    auto& s = latency[name];
    if (o.unloaded > 0 && s.size() == 0) ok = false;  // --unloaded 0: loaded runs only
    std::string added = "-";
    if (IsHive(name)) {
      auto& ref = latency[name.find("unix") == std::string::npos ? "noop" : "noop-unix"];
      added = Fmt("%+.2f ms", s.Percentile(0.5) - ref.Percentile(0.5));
    }
    md << "| " << name << " | " << Fmt("%.2f", s.Percentile(0.5)) << " | " << Fmt("%.2f", s.Percentile(0.99))
       << " | " << Fmt("%.2f", s.Mean()) << " | " << added << " |\n";
  }
  std::fputs(md.str().c_str(), stdout);
  if (!o.out.empty()) WriteFile(o.out, md.str());

  // Stop in order: MTAs first (they hold milter connections), then daemons.
  for (auto& c : configs) c->postfix.reset();
  hive_tcp.reset();
  hive_unix.reset();
  base_tcp.reset();
  base_unix.reset();
  if (!ok) {
    std::fprintf(stderr, "hive-bench-e2e: a configuration delivered nothing; logs:\n%s\n%s\n",
                 ReadFile(dir.Sub("policyd.log")).c_str(), ReadFile(dir.Sub("hive-tcp.log")).c_str());
    return 1;
  }
  return 0;
}
