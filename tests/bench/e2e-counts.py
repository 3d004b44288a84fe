#!/usr/bin/env python3
"""System calls, context switches, CPU and policy-connection bytes per message
of the daemons in one hive-bench-e2e run (docs/benchmarks.md, round 5).

Usage (root, like the bench):
  tests/bench/e2e-counts.py BUILD/tests/bench/hive-bench-e2e --configs noop,hive,base \\
      --cells 5x1,5x5 --messages 1000 --unloaded 0 [--baseline-milter B --baseline-policyd B]
  E2E_PROCS=hive-milter,hive-policyd  which processes to count (default: the
      TCP no-op milter, this build's TCP hive-milter and hive-policyd, and the
      baseline's when given)
  E2E_RECORD=1  `perf record -g` them instead (files /tmp/e2e-rec-NAME.data)

`perf stat -p` is attached as soon as the daemons are up and still idle (before
Postfix starts: attaching under load fails when a thread exits meanwhile) and
stopped when the loaded runs end, so the counts include the warm-up (2
messages per session for each Postfix); they are divided by the messages the
process's configurations loaded. Bytes and segments come from `ss -ti` on
hive-policyd's TCP port (policyd side: sent = replies) at the start and end of
the loaded runs. Stops only the perf processes it started, by PID (SIGINT);
the bench stops its own children.
"""
import os
import re
import signal
import subprocess
import sys
import time

SYSCALLS = ["sendmsg", "recvmsg", "write", "writev", "read", "epoll_wait", "poll", "futex", "getpid",
            "setsockopt", "madvise", "clone3"]
EVENTS = ["context-switches", "raw_syscalls:sys_enter"] + ["syscalls:sys_enter_" + s for s in SYSCALLS]


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return out


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        for c in children_of(todo.pop()):
            found.append(c)
            todo.append(c)
    return found


def cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline").read().split("\0")
    except OSError:
        return []


# name -> (pid, policy port or None)
def daemons(bench):
    found = {}
    for pid in descendants(bench):
        argv = cmdline(pid)
        if not argv or argv[0] == "":
            continue
        exe, line = os.path.basename(argv[0]), " ".join(argv)
        if exe == "hive-milter" and "inet:" in line:
            base = any(a.endswith("/milter.yaml") for a in argv)
            target = argv[argv.index("--policy") + 1]
            port = None if target.startswith("unix:") else target.rsplit(":", 1)[1]
            found["base-milter" if base else "hive-milter"] = (pid, port)
        elif exe == "hive-policyd":
            found["base-policyd" if "base-policyd.yaml" in line else "hive-policyd"] = (pid, None)
        elif exe == "bench-noop-milter" and "inet:" in line:
            found["noop-milter"] = (pid, None)
    return found


def cpu_ms(pid):
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2:].split()
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    return int(fields[11]) * tick, int(fields[12]) * tick


def wire(port):
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return {k: sum(int(m) for m in re.findall(rf"\b{k}:(\d+)", out))
            for k in ("bytes_sent", "bytes_received", "segs_out", "segs_in")}


def main():
    args = sys.argv[1:]
    want = os.environ.get("E2E_PROCS")
    if want:
        want = want.split(",")
    else:
        want = ["noop-milter", "hive-milter", "hive-policyd"]
        if "--baseline-milter" in args:
            want += ["base-milter", "base-policyd"]
    record = bool(os.environ.get("E2E_RECORD"))
    bench = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    found = {}
    deadline = time.time() + 60
    while time.time() < deadline and not all(w in found for w in want):
        found = daemons(bench.pid)
        time.sleep(0.05)
    time.sleep(0.3)
    perf = {}
    for name in want:
        pid = found[name][0]
        out = f"/tmp/e2e-{'rec' if record else 'stat'}-{name}.{'data' if record else 'csv'}"
        cmd = (["perf", "record", "-g", "-F", "1999", "-o", out, "-p", str(pid)] if record else
               ["perf", "stat", "-x,", "-o", out, "-e", ",".join(EVENTS), "-p", str(pid)])
        perf[name] = (subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out)
    cpu0 = {n: cpu_ms(found[n][0]) for n in want}
    ports = {n.split("-")[0]: p for n, (_, p) in found.items() if n.endswith("milter") and p}
    wire0, wire1, cpu1, sent = {}, {}, {}, {}
    for line in bench.stderr:
        sys.stderr.write(line)
        if line.startswith("loaded runs"):
            wire0 = {t: wire(p) for t, p in ports.items()}
        m = re.match(r"\s+(\S+)\s+\d+ KB x\d+:.*\((\d+) sent", line)
        if m:
            sent[m.group(1)] = sent.get(m.group(1), 0) + int(m.group(2))
        if line.startswith("unloaded"):
            wire1 = {t: wire(p) for t, p in ports.items()}
            cpu1 = {n: cpu_ms(found[n][0]) for n in want}
            for p, _ in perf.values():
                p.send_signal(signal.SIGINT)
    bench.wait()
    for p, _ in perf.values():
        p.wait()
    if record:
        print("profiles: " + ", ".join(out for _, out in perf.values()))
        return bench.returncode
    print(f"messages loaded per configuration: {sent}\n")
    print("| process | user ms | sys ms | syscalls | context switches | " + " | ".join(SYSCALLS) + " |")
    print("|" + "---|" * (len(SYSCALLS) + 5))
    for name, (_, out) in perf.items():
        counts = {}
        for row in open(out):
            f = row.strip().split(",")
            if len(f) > 3 and f[0].replace(".", "").isdigit():
                counts[f[2].replace("syscalls:sys_enter_", "")] = float(f[0])
        n = sent.get(name.split("-")[0], 0) or 1
        user = (cpu1[name][0] - cpu0[name][0]) / n
        system = (cpu1[name][1] - cpu0[name][1]) / n
        print(f"| {name} | {user:.2f} | {system:.2f} | {counts.get('raw_syscalls:sys_enter', 0) / n:.1f} | "
              f"{counts.get('context-switches', 0) / n:.1f} | " +
              " | ".join(f"{counts.get(k, 0) / n:.1f}" for k in SYSCALLS) + " |")
    for t in wire1:
        n = sent.get(t, 0) or 1
        d = {k: (wire1[t][k] - wire0.get(t, {}).get(k, 0)) / n for k in wire1[t]}
        print(f"\n{t}: hive-policyd's TCP connections per message: " +
              ", ".join(f"{k} {v:.1f}" for k, v in d.items()))
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main())
