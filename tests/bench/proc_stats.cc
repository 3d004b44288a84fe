#include "proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <fstream>
#include <sstream>
#include <vector>

namespace hive::bench {
namespace {

struct Stat {
  std::string comm;
  pid_t ppid = 0;
  CpuTimes cpu;
};

bool ReadStat(pid_t pid, Stat* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  // comm is in parentheses and may contain spaces: split after the last ')'.
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  out->comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string w; rest >> w;) f.push_back(w);
  if (f.size() < 15) return false;
  static const double kMsPerTick = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  out->ppid = std::atoi(f[1].c_str());
  out->cpu.self_ms = (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) * kMsPerTick;
  out->cpu.children_ms = (std::atof(f[13].c_str()) + std::atof(f[14].c_str())) * kMsPerTick;
  return true;
}

long StatusField(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + ":", 0) == 0) return std::atol(line.c_str() + name.size() + 1);
  }
  return 0;
}

}  // namespace

CpuTimes ReadCpu(pid_t pid) {
  Stat s;
  return ReadStat(pid, &s) ? s.cpu : CpuTimes{};
}

long PeakRssKib(pid_t pid) { return StatusField(pid, "VmHWM"); }
long RssKib(pid_t pid) { return StatusField(pid, "VmRSS"); }

long OpenFds(pid_t pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  long n = 0;
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.' ? 1 : 0;
  closedir(dir);
  return n;
}

std::map<std::string, double> PostfixCpuByProgram(pid_t master) {
  std::map<std::string, double> out;
  Stat m;
  if (!ReadStat(master, &m)) return out;
  out["master"] = m.cpu.self_ms;
  out["exited"] = m.cpu.children_ms;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    Stat s;
    if (ReadStat(pid, &s) && s.ppid == master) out[s.comm] += s.cpu.self_ms + s.cpu.children_ms;
  }
  closedir(dir);
  return out;
}

}  // namespace hive::bench
