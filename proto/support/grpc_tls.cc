#include "support/grpc_tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "support/log.h"

namespace hive::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "not PEM";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Bio MemoryBio(const std::string& pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

absl::StatusOr<std::string> ReadPem(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is not a PEM file"));
  }
  return s.str();
}

std::string TimeText(const ASN1_TIME* t) {
  Bio out(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(out.get(), t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// The certificate chain and its key: PEM, and the key belongs to the leaf.
// Logs a warning when the leaf is outside its validity.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem, const std::string& field,
                       const std::string& cert_path) {
  Bio cb = MemoryBio(cert_pem);
  Cert leaf(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!leaf) return absl::InvalidArgumentError(absl::StrCat(field, ".cert_file: '", cert_path, "': ", OpenSslError()));
  Bio kb = MemoryBio(key_pem);
  Key key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError(absl::StrCat(field, ".key_file: not a private key: ", OpenSslError()));
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".key_file: the key does not belong to the certificate '", cert_path, "'"));
  }
  absl::StatusOr<std::string> validity = CertificateValidity(cert_pem);
  if (!validity.ok()) {
    hive::log::Warning(absl::StrCat("TLS: ", field, ".cert_file '", cert_path, "': ", validity.status().message(),
                                    " (peers will refuse the handshake)"));
  } else {
    hive::log::Info(absl::StrCat("TLS: ", field, ".cert_file '", cert_path, "' ", *validity));
  }
  return absl::OkStatus();
}

absl::Status CheckCa(const std::string& pem, const std::string& field, const std::string& path) {
  Bio b = MemoryBio(pem);
  Cert ca(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!ca) return absl::InvalidArgumentError(absl::StrCat(field, ".ca_file: '", path, "': ", OpenSslError()));
  return absl::OkStatus();
}

std::string HostOf(std::string address) {
  if (absl::StartsWith(address, "dns:///")) address.erase(0, 7);
  if (absl::StartsWith(address, "[")) {
    const std::size_t end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  const std::size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool IsLocalEntry(absl::string_view entry) {
  const std::string address(absl::StripAsciiWhitespace(entry));
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) return true;
  const std::string host = HostOf(address);
  return absl::StartsWith(host, "127.") || host == "::1" || host == "localhost";
}

void WarnPlaintext(const std::string& what, const std::string& address, const std::string& field) {
  hive::log::Warning(absl::StrCat("PLAINTEXT: ", what, " ", address,
                                  " is not encrypted and not authenticated by TLS (allowed on loopback / unix "
                                  "sockets only; set ",
                                  field, " for TLS)"));
}

std::string PortOf(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  const std::size_t bracket = address.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return "";
  return address.substr(colon + 1);
}

}  // namespace

bool SameListenAddress(const std::string& a, const std::string& b) {
  const bool unix_a = absl::StartsWith(a, "unix");
  if (unix_a || absl::StartsWith(b, "unix")) {
    auto path = [](std::string s) {
      for (const char* prefix : {"unix://", "unix:"}) {
        if (absl::StartsWith(s, prefix)) return s.substr(std::string_view(prefix).size());
      }
      return s;
    };
    return unix_a == absl::StartsWith(b, "unix") && path(a) == path(b);
  }
  const std::string port = PortOf(a);
  if (port.empty() || port == "0" || port != PortOf(b)) return false;
  const std::string host_a = HostOf(a), host_b = HostOf(b);
  auto wildcard = [](const std::string& h) { return h.empty() || h == "0.0.0.0" || h == "::" || h == "*"; };
  return host_a == host_b || wildcard(host_a) || wildcard(host_b) || (IsLocalEntry(a) && IsLocalEntry(b));
}

bool IsLocalAddress(const std::string& target) {
  absl::string_view address(target);
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) return true;
  if (absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) address.remove_prefix(5);
  if (address.empty()) return false;
  for (absl::string_view part : absl::StrSplit(address, ',')) {
    if (!IsLocalEntry(part)) return false;
  }
  return true;
}

absl::StatusOr<std::string> CertificateValidity(const std::string& pem) {
  Bio b = MemoryBio(pem);
  Cert cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError(OpenSslError());
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    return absl::FailedPreconditionError(absl::StrCat("EXPIRED on ", TimeText(X509_get0_notAfter(cert.get()))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) >= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("NOT YET VALID until ", TimeText(X509_get0_notBefore(cert.get()))));
  }
  return absl::StrCat("valid until ", TimeText(X509_get0_notAfter(cert.get())));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const hive::config::v1::ServerTls& tls, const std::string& listen, const std::string& field,
    bool local_credentials) {
  if (tls.cert_file().empty()) {
    if (!tls.key_file().empty() || !tls.ca_file().empty() || tls.require_client_cert()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".cert_file: required with key_file, ca_file or "
                                                            "require_client_cert"));
    }
    if (!IsLocalAddress(listen)) {
      return absl::InvalidArgumentError(absl::StrCat("plaintext gRPC on ", listen, " refused: only loopback "
                                                     "addresses and unix sockets may be plaintext (set ",
                                                     field, ")"));
    }
    WarnPlaintext("listener", listen, field);
    if (!local_credentials) return grpc::InsecureServerCredentials();
    return grpc::experimental::LocalServerCredentials(absl::StartsWith(listen, "unix") ? UDS : LOCAL_TCP);
  }
  if (tls.key_file().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".key_file: required with cert_file"));
  if (tls.require_client_cert() && tls.ca_file().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".ca_file: required with require_client_cert"));
  }
  if (absl::Status s = CheckServerFiles(tls, field); !s.ok()) return s;
  // The files, not their bytes: gRPC re-reads them (FileWatcher) so that a
  // renewed certificate, key or CA is served without a restart.
  grpc::experimental::TlsServerCredentialsOptions options(
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          tls.key_file(), tls.cert_file(), tls.ca_file(), static_cast<unsigned>(kCertificateReloadSeconds)));
  options.watch_identity_key_cert_pairs();
  if (!tls.ca_file().empty()) options.watch_root_certs();
  options.set_cert_request_type(tls.ca_file().empty()        ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                : tls.require_client_cert() ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  hive::log::Info(absl::StrCat("TLS on ", listen, ": client certificates ",
                               tls.ca_file().empty()        ? "not asked for"
                               : tls.require_client_cert() ? "required"
                                                           : "verified when given",
                               "; certificate, key and CA files re-read every ", kCertificateReloadSeconds, "s"));
  return grpc::experimental::TlsServerCredentials(options);
}

absl::Status CheckServerFiles(const hive::config::v1::ServerTls& tls, const std::string& field) {
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_file(), absl::StrCat(field, ".cert_file"));
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key_file(), absl::StrCat(field, ".key_file"));
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckPair(*cert, *key, field, tls.cert_file()); !s.ok()) return s;
  if (tls.ca_file().empty()) return absl::OkStatus();
  absl::StatusOr<std::string> ca = ReadPem(tls.ca_file(), absl::StrCat(field, ".ca_file"));
  if (!ca.ok()) return ca.status();
  return CheckCa(*ca, field, tls.ca_file());
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const hive::config::v1::ClientTls& tls, const std::string& target, const std::string& field,
    grpc::ChannelArguments& args) {
  if (tls.ca_file().empty()) {
    if (!tls.cert_file().empty() || !tls.key_file().empty() || !tls.server_name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".ca_file: required with cert_file, key_file or "
                                                            "server_name"));
    }
    if (!IsLocalAddress(target)) {
      return absl::InvalidArgumentError(absl::StrCat("plaintext gRPC to ", target, " refused: only loopback "
                                                     "addresses and unix sockets may be plaintext (set ",
                                                     field, ".ca_file)"));
    }
    WarnPlaintext("connection to", target, absl::StrCat(field, ".ca_file"));
    return grpc::InsecureChannelCredentials();
  }
  if (tls.cert_file().empty() != tls.key_file().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": cert_file and key_file go together"));
  }
  absl::StatusOr<std::string> ca = ReadPem(tls.ca_file(), absl::StrCat(field, ".ca_file"));
  if (!ca.ok()) return ca.status();
  if (absl::Status s = CheckCa(*ca, field, tls.ca_file()); !s.ok()) return s;
  if (!tls.cert_file().empty()) {
    absl::StatusOr<std::string> cert = ReadPem(tls.cert_file(), absl::StrCat(field, ".cert_file"));
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(tls.key_file(), absl::StrCat(field, ".key_file"));
    if (!key.ok()) return key.status();
    if (absl::Status s = CheckPair(*cert, *key, field, tls.cert_file()); !s.ok()) return s;
  }
  // As on the server: the files are re-read, a long-lived client (the
  // milter) follows a renewed certificate or CA on its next connection.
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file(), tls.cert_file(), tls.ca_file(), static_cast<unsigned>(kCertificateReloadSeconds)));
  options.watch_root_certs();
  if (!tls.cert_file().empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);  // chain to ca_file, and the name (default hostname verifier)
  if (!tls.server_name().empty()) args.SetSslTargetNameOverride(tls.server_name());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace hive::tls
