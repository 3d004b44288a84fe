// TLS for hive's gRPC endpoints, from the config messages of tls.proto:
// OpenSSL-backed gRPC credentials (grpc::SslServerCredentials /
// grpc::SslCredentials) built from PEM files read here, once, when the
// daemon starts; and the rule that plaintext is allowed only on a loopback
// address or a unix socket (refused elsewhere, a warning line when used).
//
// The certificate files are checked before gRPC sees them (readable, PEM,
// key matching the certificate): an error names the config field and the
// file. A certificate that is expired or not yet valid is served anyway
// (it may be renewed on disk meanwhile) but said loudly in the log.
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

// "unix:/path", "unix-abstract:..", 127.0.0.0/8, [::1], localhost, each
// with a port; a comma-separated list or "ipv4:" list when every entry is.
bool IsLocalAddress(const std::string& address);

// A listener's credentials: TLS when tls.cert_file is set, else plaintext,
// refused on a non-local `listen`. `field` names the config section in
// errors and log lines ("server.tls"). `local_credentials`: plaintext as
// gRPC's local credentials (loopback / unix socket checked by gRPC, and an
// AuthMetadataProcessor may be attached) instead of insecure ones.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const hive::config::v1::ServerTls& tls, const std::string& listen, const std::string& field,
    bool local_credentials);

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
