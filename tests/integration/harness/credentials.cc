#include "harness/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "harness/mta.h"
#include "harness/sendmail.h"
#include "harness/temp_dir.h"

namespace hive::testing {
namespace {

void Run(const std::string& command, const std::string& log) {
  if (std::system((command + " >" + log + " 2>&1").c_str()) != 0) {
    throw std::runtime_error("failed: " + command + ": " + ReadFile(log));
  }
}

}  // namespace

Certificate MakeSelfSignedCertificate(const std::string& dir) {
  std::filesystem::create_directories(dir);
  Certificate c{dir + "/cert.pem", dir + "/key.pem"};
  // P-256 rather than RSA: key generation takes milliseconds, not seconds.
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" +
          std::string(kMtaHostName) + " -keyout " + c.key + " -out " + c.cert,
      dir + "/openssl.log");
  chmod(c.key.c_str(), 0600);
  return c;
}

std::string MakeSaslDb(const std::string& path, const std::string& user, const std::string& password) {
  const std::string tool = SendmailPrefix() + "/root/usr/sbin/saslpasswd2";
  if (!std::filesystem::exists(tool)) {
    throw std::runtime_error(tool + " is missing: run tests/integration/sendmail/prepare-sendmail.sh");
  }
  WriteFile(path + ".password", password);
  // -p: the password from stdin, without a prompt; -c: create the user.
  Run(tool + " -p -c -f " + path + " -u " + kMtaHostName + " " + user + " <" + path + ".password",
      path + ".log");
  std::filesystem::remove(path + ".password");
  return path;
}

}  // namespace hive::testing
