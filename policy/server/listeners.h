// hive-policyd's two gRPC listeners as start builds them, without opening a
// socket: the policy listener's credentials (plaintext off loopback refused,
// TLS files read and matched), the admin listener apart from the policy one
// and its access settings. --check runs the same, so a file it passes does
// not stop the daemon at start; StartRefusal is the part that needs no file,
// for what a reload or an admin-API write is about to put in force.
//
// Usage (main.cc): ListenAddresses overrides{flags.listen, flags.admin_listen};
//   absl::StatusOr<Listeners> l = PrepareListeners(overrides, snapshot.server);
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/snapshot.h"
#include "server/access_control.h"

namespace hive::policy::server {

// Addresses from the command line; "" keeps the config's.
struct ListenAddresses {
  std::string listen;
  std::string admin_listen;
};

struct Listeners {
  std::string listen;
  std::shared_ptr<grpc::ServerCredentials> policy_credentials;
  std::string admin_listen;  // "": no admin API
  std::shared_ptr<grpc::ServerCredentials> admin_credentials;
  std::optional<AccessSettings> access;  // set with admin_listen
};

absl::StatusOr<Listeners> PrepareListeners(const ListenAddresses& overrides, const config::ServerSettings& server);

// What a restart would refuse in `server`: the checks of PrepareListeners
// that read no file (the TLS files are read at start).
absl::Status StartRefusal(const ListenAddresses& overrides, const config::ServerSettings& server);

// "127.0.0.1:0" -> with the port the kernel picked; any other address as is.
std::string ShownAddress(const std::string& listen, int port);

}  // namespace hive::policy::server
