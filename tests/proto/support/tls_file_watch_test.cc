// TlsFileWatch with files that are not certificates: a change is reported
// with CheckServerFiles' error, an unchanged file is not, CheckNow reports
// every listener. Real certificates rotated under a running hive-policyd:
// tests/integration/security_test.cc.
#include "support/tls_file_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace hive::tls {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class TlsFileWatchTest : public ::testing::Test {
 protected:
  TlsFileWatchTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tls-watch-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    Write("server.crt", "not a certificate\n");
    Write("server.key", "not a key\n");
    tls_.set_cert_file(dir_ / "server.crt");
    tls_.set_key_file(dir_ / "server.key");
  }
  ~TlsFileWatchTest() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    // A new file renamed into place, as an operator (or certbot) renews.
    const std::filesystem::path tmp = dir_ / (name + ".new");
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, dir_ / name);
  }
  TlsFileWatch::Report Recorder() {
    return [this](const std::string& field, const absl::Status& s) {
      std::lock_guard lock(mu_);
      reports_.emplace_back(field, s);
    };
  }
  std::size_t Reports() {
    std::lock_guard lock(mu_);
    return reports_.size();
  }
  // Bounded: the watch looks every 10 ms.
  bool WaitForReports(std::size_t n) {
    for (int i = 0; i < 500 && Reports() < n; ++i) std::this_thread::sleep_for(10ms);
    return Reports() >= n;
  }

  std::filesystem::path dir_;
  hive::config::v1::ServerTls tls_;
  std::mutex mu_;
  std::vector<std::pair<std::string, absl::Status>> reports_;
};

TEST_F(TlsFileWatchTest, AChangedFileIsCheckedAndItsErrorReported) {
  TlsFileWatch watch({{tls_, "server.tls"}}, 10ms, Recorder());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Reports(), 0u) << "the files at start are the baseline";
  Write("server.key", "a renewed key, still not PEM\n");
  ASSERT_TRUE(WaitForReports(1));
  std::lock_guard lock(mu_);
  EXPECT_EQ(reports_[0].first, "server.tls");
  EXPECT_FALSE(reports_[0].second.ok());
  EXPECT_THAT(std::string(reports_[0].second.message()), HasSubstr("server.tls.cert_file"));
}

TEST_F(TlsFileWatchTest, AChangeIsReportedOnceAndAMissingFileToo) {
  TlsFileWatch watch({{tls_, "server.tls"}}, 10ms, Recorder());
  Write("server.crt", "renewed\n");
  ASSERT_TRUE(WaitForReports(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Reports(), 1u);
  std::filesystem::remove(dir_ / "server.key");
  ASSERT_TRUE(WaitForReports(2));
  std::lock_guard lock(mu_);
  EXPECT_FALSE(reports_[1].second.ok());
}

TEST_F(TlsFileWatchTest, CheckNowReportsEveryListener) {
  hive::config::v1::ServerTls admin = tls_;
  TlsFileWatch watch({{tls_, "server.tls"}, {admin, "server.admin.tls"}}, 1h, Recorder());
  watch.CheckNow();
  std::lock_guard lock(mu_);
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[0].first, "server.tls");
  EXPECT_EQ(reports_[1].first, "server.admin.tls");
  EXPECT_THAT(std::string(reports_[1].second.message()), HasSubstr("server.admin.tls.cert_file"));
}

}  // namespace
}  // namespace hive::tls
