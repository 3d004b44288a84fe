// TLS for hive's gRPC endpoints, from the config messages of tls.proto:
// OpenSSL-backed gRPC credentials (grpc::experimental::TlsServerCredentials
// / TlsCredentials) whose certificate, key and CA files gRPC re-reads every
// kCertificateReloadSeconds (FileWatcherCertificateProvider): a renewed
// certificate or a new CA is used for new connections without a restart;
// and the rule that plaintext is allowed only on a loopback address or a
// unix socket (refused elsewhere, a warning line when used).
//
// The certificate files are checked at start before gRPC sees them
// (readable, PEM, key matching the certificate): an error names the config
// field and the file. A certificate that is expired or not yet valid is
// served anyway (it may be renewed on disk meanwhile) but said loudly in
// the log. Replacing files: write each whole and rename it into place (key
// and certificate together, e.g. by swapping a directory symlink); gRPC
// reads key and certificate as a pair, and an unreadable set keeps the
// last one it read. CheckServerFiles re-checks the files on demand
// (hive-policyd on SIGHUP).
//
//   auto creds = MakeServerCredentials(tls, "127.0.0.1:7450", "server.tls", false);
//   auto channel = MakeChannel(tls, target, "policy_tls", args);
//
// Thread-safe: pure functions (they log through hive::log).
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "hive/config/v1/tls.pb.h"

namespace hive::tls {

inline constexpr int kCertificateReloadSeconds = 5;

// "unix:/path", "unix-abstract:..", 127.0.0.0/8, [::1], localhost, each
// with a port; a comma-separated list or "ipv4:" list when every entry is.
bool IsLocalAddress(const std::string& address);

// Whether two listen addresses would be the same listener: the same unix
// socket path, or the same TCP port (not 0) with hosts that overlap (equal,
// either a wildcard 0.0.0.0 / [::] / empty host, or both loopback names).
// gRPC binds with SO_REUSEPORT, so two servers on one port would share it.
bool SameListenAddress(const std::string& a, const std::string& b);

// A listener's credentials: TLS when tls.cert_file is set, else plaintext,
// refused on a non-local `listen`. `field` names the config section in
// errors and log lines ("server.tls"). `local_credentials`: plaintext as
// gRPC's local credentials (loopback / unix socket checked by gRPC, and an
// AuthMetadataProcessor may be attached) instead of insecure ones.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const hive::config::v1::ServerTls& tls, const std::string& listen, const std::string& field,
    bool local_credentials);

// The listener's certificate, key and CA files as MakeServerCredentials
// checks them (logging the certificate's validity); errors name the field.
absl::Status CheckServerFiles(const hive::config::v1::ServerTls& tls, const std::string& field);

// A client's credentials towards `target`: TLS when tls.ca_file is set
// (tls.server_name, if any, goes into `args` as the name to verify), else
// plaintext, refused towards a non-local target.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const hive::config::v1::ClientTls& tls, const std::string& target, const std::string& field,
    grpc::ChannelArguments& args);

// One certificate file's validity, "valid until 2027-01-01 00:00:00 UTC"
// or an error naming what is wrong with it (expired, not yet valid).
absl::StatusOr<std::string> CertificateValidity(const std::string& pem);

}  // namespace hive::tls
