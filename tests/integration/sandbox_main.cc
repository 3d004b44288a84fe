// hive-sandbox: the demo. Starts hive-policyd, hive-milter, a throwaway
// Postfix and a sink on loopback (the test harness's HiveStack), prints how
// to send a message, follows the decisions, and stops everything on Ctrl-C.
//
//   hive-sandbox --policy-config deploy/config/policyd.yaml
//                --milter-config deploy/config/milter.yaml [--smtp-port 2525]
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "harness/hive_stack.h"
#include "harness/temp_dir.h"

namespace {

// Prints what was appended to a file since the last call.
class Follower {
 public:
  Follower(std::string path, std::string prefix) : path_(std::move(path)), prefix_(std::move(prefix)) {}
  void Poll() {
    std::ifstream in(path_);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a partial line: read it whole next time
      offset_ += line.size() + 1;
      std::cout << prefix_ << line << "\n";
    }
    std::cout.flush();
  }

 private:
  std::string path_;
  std::string prefix_;
  std::size_t offset_ = 0;
};

int Usage() {
  std::cerr << "usage: hive-sandbox --policy-config FILE --milter-config FILE [--smtp-port N]\n"
               "                    [--policy-port N] [--milter-port N] [--sink-port N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags{{"--smtp-port", "2525"},  {"--policy-port", "7450"},
                                           {"--milter-port", "7451"}, {"--sink-port", "2526"},
                                           {"--policy-config", ""},   {"--milter-config", ""}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!flags.contains(argv[i])) return Usage();
    flags[argv[i]] = argv[i + 1];
  }
  if (argc % 2 == 0 || flags["--policy-config"].empty() || flags["--milter-config"].empty()) return Usage();

  // Block the stop signals before any thread exists; wait for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  try {
    hive::testing::HiveStack stack(hive::testing::StackOptions{
        .policy_yaml = hive::testing::ReadFile(flags["--policy-config"]),
        .milter_yaml = hive::testing::ReadFile(flags["--milter-config"]),
        .smtp_port = static_cast<uint16_t>(std::stoi(flags["--smtp-port"])),
        .policy_port = static_cast<uint16_t>(std::stoi(flags["--policy-port"])),
        .milter_port = static_cast<uint16_t>(std::stoi(flags["--milter-port"])),
        .sink_port = static_cast<uint16_t>(std::stoi(flags["--sink-port"]))});
    const std::string dir = stack.dir().path();
    const int smtp = stack.smtp_port();
    std::cout << "\nhive sandbox is running (files in " << dir << ")\n"
              << "  Postfix   127.0.0.1:" << smtp << "  -> hive-milter 127.0.0.1:" << flags["--milter-port"]
              << " -> hive-policyd 127.0.0.1:" << stack.policy_port() << "\n"
              << "  delivered mail lands in " << dir << "/sink/ (smtp-sink on 127.0.0.1:"
              << stack.sink().port() << ")\n\n"
              << "Send a test message from another terminal:\n"
              << "  swaks --server 127.0.0.1:" << smtp
              << " --from receipts@shop.example --to bob@example.net --header 'Subject: receipt'\n"
              << "  swaks --server 127.0.0.1:" << smtp
              << " --from promo@spam.example --to bob@example.net --header 'Subject: FREE MONEY $$$' "
                 "--body 'cheap viagra'\n"
              << "Watch the decisions below (also in " << dir << "/policyd.log and milter.log).\n"
              << "Ctrl-C stops everything.\n\n";

    Follower policyd(dir + "/policyd.log", "[policyd] ");
    Follower milter(dir + "/milter.log", "[milter]  ");
    Follower postfix(dir + "/postfix/maillog", "[postfix] ");
    std::set<std::string> delivered;
    const timespec tick{0, 200'000'000};
    while (sigtimedwait(&stop, nullptr, &tick) < 0) {
      policyd.Poll();
      milter.Poll();
      postfix.Poll();
      for (const auto& entry : std::filesystem::directory_iterator(dir + "/sink")) {
        if (delivered.insert(entry.path().string()).second) {
          std::cout << "[sink]    delivered: " << entry.path().string() << "\n";
        }
      }
    }
    std::cout << "\nstopping...\n";
  } catch (const std::exception& e) {
    std::cerr << "hive-sandbox: " << e.what() << "\n";
    return 1;
  }
  std::cout << "stopped.\n";
  return 0;
}
