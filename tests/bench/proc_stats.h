// /proc readers for the benchmarks: CPU time (utime+stime, and reaped
// children's cutime+cstime) and peak RSS (VmHWM) of one process, and the
// CPU of a Postfix master's children grouped by program name, so a run can
// charge CPU per message to smtpd, cleanup, the milter and the policy daemon.
// Linux only. Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace hive::bench {

struct CpuTimes {
  double self_ms = 0;      // utime + stime
  double children_ms = 0;  // cutime + cstime (children already reaped)
};

// Zero times when the process is gone.
CpuTimes ReadCpu(pid_t pid);
// VmHWM in KiB, 0 when unknown.
long PeakRssKib(pid_t pid);
// VmRSS in KiB, 0 when unknown.
long RssKib(pid_t pid);
// Open file descriptors (entries of /proc/<pid>/fd), -1 when unknown.
long OpenFds(pid_t pid);

// CPU ms by program name ("smtpd", "cleanup", ...) of the master and its
// live children; the master itself is "master" and children it has reaped
// are "exited". Deltas of two snapshots are CPU spent in between.
std::map<std::string, double> PostfixCpuByProgram(pid_t master);

}  // namespace hive::bench
