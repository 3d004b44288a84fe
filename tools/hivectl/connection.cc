#include "connection.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "hive/config/v1/hivectl_config.pb.h"
#include "support/grpc_tls.h"
#include "support/listen_address.h"
#include "support/yaml_to_proto.h"

namespace hive::ctl {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The flag, else the variable, else the file's value.
std::string Pick(const Args& args, const std::string& flag, const char* env, const std::string& from_file) {
  if (std::string v = args.Get(flag); !v.empty()) return v;
  if (std::string v = Env(env); !v.empty()) return v;
  return from_file;
}

}  // namespace

absl::StatusOr<Connection> ResolveConnection(const Args& args) {
  hive::config::v1::HivectlConfig file;
  const std::string path = Pick(args, "config", "HIVECTL_CONFIG", "");
  if (!path.empty()) {
    if (absl::Status s = hive::config::YamlFileToProto(path, file); !s.ok()) return s;
  }
  Connection c;
  c.server = Pick(args, "server", "HIVECTL_SERVER", file.server());
  if (c.server.empty()) c.server = "127.0.0.1:7454";
  // gRPC would connect to a port above 65535 modulo 65536.
  if (absl::Status s = hive::support::CheckTargetPort(c.server); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("server: ", s.message()));
  }
  c.tls.set_ca_file(Pick(args, "tls-ca", "HIVECTL_CA", file.tls().ca_file()));
  c.tls.set_cert_file(Pick(args, "tls-cert", "HIVECTL_CERT", file.tls().cert_file()));
  c.tls.set_key_file(Pick(args, "tls-key", "HIVECTL_KEY", file.tls().key_file()));
  c.tls.set_server_name(Pick(args, "tls-server-name", "HIVECTL_SERVER_NAME", file.tls().server_name()));
  const std::string token_file = Pick(args, "token-file", "HIVECTL_TOKEN_FILE", file.token_file());
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in || !std::getline(in, c.token)) {
      return absl::InvalidArgumentError(absl::StrCat("token file '", token_file, "': cannot read it"));
    }
  } else {
    c.token = Env("HIVECTL_TOKEN");
  }
  c.token = std::string(absl::StripAsciiWhitespace(c.token));
  return c;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const Connection& connection) {
  grpc::ChannelArguments args;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      hive::tls::MakeChannelCredentials(connection.tls, connection.server, "tls", args);
  if (!credentials.ok()) return credentials.status();
  return grpc::CreateCustomChannel(connection.server, *credentials, args);
}

void PrintConnectionUsage(std::ostream& out) {
  out << "connection (flag, else environment, else --config FILE / $HIVECTL_CONFIG):\n"
         "  --server ADDR       $HIVECTL_SERVER       admin API (default 127.0.0.1:7454)\n"
         "  --tls-ca FILE       $HIVECTL_CA           CA of the server certificate: TLS on\n"
         "  --tls-cert FILE     $HIVECTL_CERT         client certificate (mutual TLS)\n"
         "  --tls-key FILE      $HIVECTL_KEY          its private key\n"
         "  --tls-server-name NAME $HIVECTL_SERVER_NAME  name to verify in the server certificate\n"
         "  --token-file FILE   $HIVECTL_TOKEN_FILE   bearer token (first line); or $HIVECTL_TOKEN\n"
         "  without --tls-ca the connection is plaintext: loopback or unix: only\n"
         "exit code 5: the admin API refused the caller (no valid credentials, or too small a role)\n";
}

}  // namespace hive::ctl
