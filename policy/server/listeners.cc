#include "server/listeners.h"

#include "absl/strings/str_cat.h"
#include "support/grpc_tls.h"

namespace hive::policy::server {

absl::StatusOr<Listeners> PrepareListeners(const ListenAddresses& overrides, const config::ServerSettings& server) {
  Listeners out;
  out.listen = overrides.listen.empty() ? server.listen : overrides.listen;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> policy =
      hive::tls::MakeServerCredentials(server.tls, out.listen, "server.tls", /*local_credentials=*/false);
  if (!policy.ok()) return absl::InvalidArgumentError(absl::StrCat("policy listener: ", policy.status().message()));
  out.policy_credentials = *policy;
  out.admin_listen = overrides.admin_listen.empty() ? server.admin.listen() : overrides.admin_listen;
  if (out.admin_listen.empty()) return out;
  if (hive::tls::SameListenAddress(out.admin_listen, out.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        overrides.admin_listen.empty() ? "server.admin.listen" : "--admin-listen", " (", out.admin_listen, ") and ",
        overrides.listen.empty() ? "server.listen" : "--listen", " (", out.listen,
        ") are the same listener: the admin API needs its own (another port or a unix socket)"));
  }
  // Local credentials on plaintext: gRPC checks the peer is local, and
  // AccessControl (an auth processor) then runs on every call either way.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> admin = hive::tls::MakeServerCredentials(
      server.admin.tls(), out.admin_listen, "server.admin.tls", /*local_credentials=*/true);
  if (!admin.ok()) return absl::InvalidArgumentError(absl::StrCat("admin listener: ", admin.status().message()));
  out.admin_credentials = *admin;
  absl::StatusOr<AccessSettings> access =
      AccessSettingsFrom(server.admin, /*plaintext=*/server.admin.tls().cert_file().empty());
  if (!access.ok()) return access.status();
  out.access = *std::move(access);
  return out;
}

absl::Status StartRefusal(const ListenAddresses& overrides, const config::ServerSettings& server) {
  const std::string listen = overrides.listen.empty() ? server.listen : overrides.listen;
  if (server.tls.cert_file().empty() && !hive::tls::IsLocalAddress(listen)) {
    return absl::InvalidArgumentError(absl::StrCat("server.listen: plaintext gRPC on ", listen,
                                                   " is refused (only loopback or unix: may be plaintext; set server.tls)"));
  }
  const std::string admin_listen = overrides.admin_listen.empty() ? server.admin.listen() : overrides.admin_listen;
  if (admin_listen.empty()) return absl::OkStatus();
  if (server.admin.tls().cert_file().empty() && !hive::tls::IsLocalAddress(admin_listen)) {
    return absl::InvalidArgumentError(absl::StrCat("server.admin.listen: plaintext gRPC on ", admin_listen,
                                                   " is refused (set server.admin.tls)"));
  }
  return AccessSettingsFrom(server.admin, server.admin.tls().cert_file().empty()).status();
}

std::string ShownAddress(const std::string& listen, int port) {
  if (listen.size() > 2 && listen.compare(listen.size() - 2, 2, ":0") == 0) {
    return absl::StrCat(listen.substr(0, listen.size() - 1), port);
  }
  return listen;
}

}  // namespace hive::policy::server
