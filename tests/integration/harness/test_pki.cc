#include "harness/test_pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace hive::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void Check(bool ok, const char* what) {
  if (ok) return;
  char buf[256] = "unknown error";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
  throw std::runtime_error(std::string("test PKI: ") + what + ": " + buf);
}

Key NewKey() {
  Key key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EC key");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key (self-
// signed when issuer is null; Sign() follows), valid [not_before, not_after] seconds from now.
Cert MakeCert(const std::string& cn, EVP_PKEY* key, X509* issuer, long not_before,
              long not_after, long serial) {
  Cert cert(X509_new());
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("hive tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  return cert;
}

void Sign(X509* cert, EVP_PKEY* key) { Check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign"); }

void WritePem(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, path.c_str());
  PEM_write_X509(f, cert);
  std::fclose(f);
}

void WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, path.c_str());
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  chmod(path.c_str(), 0600);
}

constexpr long kDay = 24 * 3600;

}  // namespace

struct TestPki::Authority {
  Key key;
  Cert cert;
  long next_serial = 2;
};

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  auto make = [&](const std::string& cn, const std::string& file) {
    auto a = std::make_unique<Authority>();
    a->key = NewKey();
    a->cert = MakeCert(cn, a->key.get(), nullptr, -kDay, 30 * kDay, 1);
    AddExtension(a->cert.get(), a->cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(a->cert.get(), a->cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(a->cert.get(), a->cert.get(), NID_subject_key_identifier, "hash");
    Sign(a->cert.get(), a->key.get());
    WritePem(file, a->cert.get());
    return a;
  };
  ca_file_ = dir_ + "/ca.crt";
  other_ca_file_ = dir_ + "/other-ca.crt";
  ca_ = make("hive test CA", ca_file_);
  other_ = make("another CA", other_ca_file_);
}

TestPki::~TestPki() = default;

Issued TestPki::Issue(const std::string& cn, const IssueOptions& options) {
  Authority& by = options.other_ca ? *other_ : *ca_;
  const std::string base = dir_ + "/" + cn + (options.server ? "-server" : "") + (options.expired ? "-expired" : "") +
                           (options.other_ca ? "-other" : "");
  Key key = NewKey();
  Cert cert = options.expired ? MakeCert(cn, key.get(), by.cert.get(), -2 * kDay, -kDay, by.next_serial++)
                              : MakeCert(cn, key.get(), by.cert.get(), -3600, 7 * kDay, by.next_serial++);
  AddExtension(cert.get(), by.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), by.cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  AddExtension(cert.get(), by.cert.get(), NID_ext_key_usage, options.server ? "serverAuth" : "clientAuth");
  AddExtension(cert.get(), by.cert.get(), NID_authority_key_identifier, "keyid:always");
  AddExtension(cert.get(), by.cert.get(), NID_subject_alt_name,
               options.server ? "DNS:localhost,IP:127.0.0.1" : ("DNS:" + cn).c_str());
  Sign(cert.get(), by.key.get());
  Issued out{base + ".crt", base + ".key"};
  WritePem(out.cert_file, cert.get());
  WriteKey(out.key_file, key.get());
  return out;
}

}  // namespace hive::testing
