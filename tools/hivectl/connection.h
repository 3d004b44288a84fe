// How hivectl reaches hive-policyd's admin API: the address, TLS (CA,
// client certificate and key, name to verify) and a bearer token, each
// from a flag, else its environment variable, else the config file
// (--config, else $HIVECTL_CONFIG; schema hive.config.v1.HivectlConfig):
//   --server  $HIVECTL_SERVER       server             default 127.0.0.1:7454
//   --tls-ca    $HIVECTL_CA         tls.ca_file        TLS on when set
//   --tls-cert  $HIVECTL_CERT       tls.cert_file      client certificate
//   --tls-key   $HIVECTL_KEY        tls.key_file
//   --tls-server-name $HIVECTL_SERVER_NAME tls.server_name
//   --token-file $HIVECTL_TOKEN_FILE token_file        first line is the token
//             $HIVECTL_TOKEN        (the token itself; a flag would show in ps)
// Without --tls-ca the connection is plaintext, refused towards a non-local
// address (grpc_tls.h).
//
// Not thread-safe (one command per process).
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "cli.h"
#include "hive/config/v1/tls.pb.h"

namespace hive::ctl {

struct Connection {
  std::string server;
  hive::config::v1::ClientTls tls;
  std::string token;  // "" = none
};

// Errors name the flag, variable or file.
absl::StatusOr<Connection> ResolveConnection(const Args& args);
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Connection& connection);
void PrintConnectionUsage(std::ostream& out);

}  // namespace hive::ctl
