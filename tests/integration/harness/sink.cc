#include "harness/sink.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "harness/net.h"
#include "harness/temp_dir.h"

namespace hive::testing {

Sink::Sink(const std::string& dir, const std::string& log_path, uint16_t port,
           const std::vector<std::string>& extra_args, const std::string& host)
    : dir_(dir), port_(port != 0 ? port : FreePort()) {
  std::filesystem::create_directories(dir_);
  if (const passwd* nobody = getpwnam("nobody")) {
    if (chown(dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) throw std::runtime_error("chown " + dir_);
  }
  // One file per message, named by time and a random suffix (smtp-sink -d).
  std::vector<std::string> argv{"/usr/sbin/smtp-sink", "-u", "nobody", "-d", dir_ + "/%H%M%S."};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const bool ipv6 = host.find(':') != std::string::npos;
  argv.push_back((ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port_));
  argv.push_back("64");
  process_ = std::make_unique<Process>(std::move(argv), log_path);
  if (!WaitForListener(host, port_, std::chrono::seconds(10))) throw std::runtime_error("smtp-sink did not start");
}

std::vector<std::string> Sink::Messages() const {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(ReadFile(f.string()));
  return out;
}

std::string Sink::WaitForMessageContaining(const std::string& needle, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto& m : Messages()) {
      if (m.find(needle) != std::string::npos) return m;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return "";
}

}  // namespace hive::testing
