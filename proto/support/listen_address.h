// Syntax checks of the socket addresses an operator writes in a config file
// or on a command line, made when the file is loaded (so `--check` and a
// reload see them), before anything listens or connects.
//
// gRPC and libmilter read a port above 65535 modulo 65536 (":99999" bound
// port 34463 and was logged as listening on 99999): a port must be a whole
// number 0..65535 here.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace hive::support {

// "HOST:PORT" or "[V6]:PORT" with a port 0..65535 (0: any free port). The
// status message says what is wrong, without the field name.
absl::Status CheckHostPort(const std::string& address);

// A gRPC address: "unix:PATH", "unix-abstract:NAME", or CheckHostPort's.
absl::Status CheckGrpcAddress(const std::string& address);

// A gRPC client target (a list entry of the milter's policy_target,
// "dns:///name:7450", "unix:PATH"): only a numeric port after the last ':'
// is checked.
absl::Status CheckTargetPort(const std::string& target);

// A libmilter socket: "inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH" or
// "local:PATH"; PORT 0..65535 or a service name.
absl::Status CheckMilterSocket(const std::string& spec);

}  // namespace hive::support
