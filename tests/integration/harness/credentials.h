// Throwaway credentials for MTA feature tests, made in a test's directory:
// a self-signed TLS certificate (openssl) and a Cyrus sasldb2 with one user
// (saslpasswd2 from the sasl2-bin .deb that prepare-sendmail.sh unpacks:
// installing sasl2-bin would upgrade the libsasl2 Postfix links against).
//
// Usage:
//   Certificate cert = MakeSelfSignedCertificate(dir.Sub("tls"));
//   std::string db = MakeSaslDb(dir.Sub("sasldb2"), "user", "secret");
// Both throw std::runtime_error with the tool's output on failure.
// Thread-safe (each call runs its own child process).
#pragma once

#include <string>

namespace hive::testing {

struct Certificate {
  std::string cert;  // PEM
  std::string key;   // PEM, mode 0600 (Sendmail refuses a readable key)
};

// In `dir` (created); subject CN = kMtaHostName; valid for one day.
Certificate MakeSelfSignedCertificate(const std::string& dir);

// A sasldb2 at `path` with `user` in realm kMtaHostName; returns `path`.
std::string MakeSaslDb(const std::string& path, const std::string& user, const std::string& password);

}  // namespace hive::testing
