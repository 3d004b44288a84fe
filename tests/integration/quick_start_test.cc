// The README's quick start as a newcomer runs it: hive-sandbox (what
// deploy/demo.sh starts) with the shipped deploy/config/policyd.yaml and
// milter.yaml, then the README's own swaks lines, read from README.md with
// only the port changed. The first is queued and delivered to the sink, the
// second refused with the 550 5.7.1 the README promises, and SIGTERM (Ctrl-C
// in the README) stops everything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdio.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "harness/net.h"
#include "harness/process.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kReadmePort[] = "127.0.0.1:2525";

// The swaks commands of README.md, continuation lines joined, comments cut.
std::vector<std::string> ReadmeSwaksLines() {
  std::istringstream readme(ReadFile(std::string(HIVE_SOURCE_DIR) + "/README.md"));
  std::vector<std::string> out;
  std::string line;
  bool continued = false;
  while (std::getline(readme, line)) {
    if (!continued && line.rfind(std::string("swaks --server ") + kReadmePort, 0) != 0) continue;
    if (const std::size_t hash = line.find(" #"); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    const bool continues = !line.empty() && line.back() == '\\';
    if (continues) line.pop_back();
    if (continued) {
      out.back() += " " + line.substr(line.find_first_not_of(' '));
    } else {
      out.push_back(line);
    }
    continued = continues;
  }
  return out;
}

std::string RunShell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  pclose(pipe);
  return output;
}

bool WaitForLog(const Process& process, const std::string& needle, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(process.log_path()).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(QuickStartTest, TheReadmesSwaksLinesGetWhatTheReadmeSaysAndCtrlCStopsEverything) {
  const std::vector<std::string> swaks = ReadmeSwaksLines();
  ASSERT_EQ(swaks.size(), 2u) << "README.md's quick start should show two swaks lines on " << kReadmePort;
  TempDir dir;
  const uint16_t smtp = FreePort();
  Process sandbox({HIVE_SANDBOX_BIN, "--policy-config", std::string(HIVE_SOURCE_DIR) + "/deploy/config/policyd.yaml",
                   "--milter-config", std::string(HIVE_SOURCE_DIR) + "/deploy/config/milter.yaml", "--smtp-port",
                   std::to_string(smtp), "--policy-port", std::to_string(FreePort()), "--milter-port",
                   std::to_string(FreePort()), "--sink-port", std::to_string(FreePort())},
                  dir.Sub("sandbox.log"));
  ASSERT_TRUE(WaitForLog(sandbox, "hive sandbox is running", std::chrono::seconds(90)))
      << ReadFile(sandbox.log_path());
  const std::string port = "127.0.0.1:" + std::to_string(smtp);

  const std::string receipt = RunShell(absl::StrReplaceAll(swaks[0], {{kReadmePort, port}}));
  EXPECT_THAT(receipt, HasSubstr("<-  250 2.0.0 Ok: queued as")) << swaks[0];
  EXPECT_TRUE(WaitForLog(sandbox, "[sink]    delivered: ", std::chrono::seconds(30))) << ReadFile(sandbox.log_path());

  const std::string spam = RunShell(absl::StrReplaceAll(swaks[1], {{kReadmePort, port}}));
  EXPECT_THAT(spam, HasSubstr("<** 550 5.7.1 Refused: message looks like spam")) << swaks[1];

  sandbox.Stop(std::chrono::seconds(30));
  EXPECT_EQ(sandbox.ExitStatus(), 0) << ReadFile(sandbox.log_path());
  EXPECT_THAT(ReadFile(sandbox.log_path()), HasSubstr("stopped."));
}

}  // namespace
}  // namespace hive::testing
