// A private directory for one test, removed with everything in it when the
// object dies (kept when HIVE_KEEP_TEST_DIRS=1, for post-mortems).
// Mode 0755 so that unprivileged daemons (postfix, nobody) can enter it.
// Not thread-safe; one per test.
#pragma once

#include <string>

namespace hive::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/relative
  std::string Sub(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// Writes `contents` to `path` (replacing it); aborts the test binary on error.
void WriteFile(const std::string& path, const std::string& contents);
// The whole file, or "" when it does not exist.
std::string ReadFile(const std::string& path);

}  // namespace hive::testing
