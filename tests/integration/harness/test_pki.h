// A throwaway PKI for the TLS tests, made at test time with the OpenSSL API
// in a test's directory: a CA, a second unrelated CA ("another CA"), and
// leaf certificates issued by either: servers for localhost / 127.0.0.1,
// clients with a chosen CN, optionally already expired. P-256 keys, so a
// whole PKI takes milliseconds.
//
//   TestPki pki(dir.Sub("pki"));
//   Issued server = pki.Issue("localhost", {.server = true});
//   Issued viewer = pki.Issue("viewer.ops");              // client, CN viewer.ops
//   Issued old = pki.Issue("localhost", {.server = true, .expired = true});
//   Issued alien = pki.Issue("admin.ops", {.other_ca = true});
//
// Files are PEM, keys mode 0600. Throws std::runtime_error when OpenSSL
// fails. Not thread-safe.
#pragma once

#include <memory>
#include <string>

namespace hive::testing {

struct Issued {
  std::string cert_file;
  std::string key_file;
};

struct IssueOptions {
  bool server = false;    // serverAuth, SAN DNS:localhost + IP:127.0.0.1; else clientAuth
  bool expired = false;   // valid from two days ago until yesterday
  bool other_ca = false;  // signed by the other CA
};

class TestPki {
 public:
  explicit TestPki(std::string dir);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_file() const { return ca_file_; }
  const std::string& other_ca_file() const { return other_ca_file_; }
  // Subject CN = `cn`; files <dir>/<cn>[-expired][-other].{crt,key}.
  Issued Issue(const std::string& cn, const IssueOptions& options = {});

 private:
  struct Authority;
  std::string dir_;
  std::string ca_file_;
  std::string other_ca_file_;
  std::unique_ptr<Authority> ca_;
  std::unique_ptr<Authority> other_;
};

}  // namespace hive::testing
