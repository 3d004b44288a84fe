#include "support/listen_address.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace hive::support {
namespace {

// Debian's absl::string_view is not std::string_view: std::string throughout.
absl::Status Invalid(const std::string& address, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("'", address, "': ", problem));
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Empty when `port` is a port number 0..65535, else what is wrong.
std::string PortProblem(const std::string& port) {
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return absl::StrCat("'", port, "' is not a port number (0-65535)");
  }
  if (std::stoi(port) > 65535) return absl::StrCat("port ", port, " is above 65535");
  return "";
}

}  // namespace

absl::Status CheckHostPort(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return Invalid(address, "expected HOST:PORT or [IPv6]:PORT");
  if (std::string problem = PortProblem(address.substr(colon + 1)); !problem.empty()) {
    return Invalid(address, problem);
  }
  return absl::OkStatus();
}

absl::Status CheckGrpcAddress(const std::string& address) {
  for (const std::string prefix : {"unix:", "unix-abstract:"}) {
    if (StartsWith(address, prefix)) {
      return address.size() > prefix.size() ? absl::OkStatus() : Invalid(address, "no path");
    }
  }
  return CheckHostPort(address);
}

absl::Status CheckTargetPort(const std::string& target) {
  const std::size_t colon = target.rfind(':');
  if (colon == std::string::npos) return absl::OkStatus();
  const std::string port = target.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return absl::OkStatus();
  if (std::string problem = PortProblem(port); !problem.empty()) return Invalid(target, problem);
  return absl::OkStatus();
}

absl::Status CheckMilterSocket(const std::string& spec) {
  const absl::Status expected = Invalid(spec, "expected inet:PORT@HOST, inet6:PORT@HOST or unix:PATH");
  for (const std::string prefix : {"unix:", "local:"}) {
    if (StartsWith(spec, prefix)) return spec.size() > prefix.size() ? absl::OkStatus() : expected;
  }
  for (const std::string prefix : {"inet:", "inet6:"}) {
    if (!StartsWith(spec, prefix)) continue;
    const std::string rest = spec.substr(prefix.size());
    const std::size_t at = rest.find('@');
    // libmilter: no "@HOST" means every address (INADDR_ANY); a port that
    // starts with a letter is a service name (getservbyname).
    const std::string port = rest.substr(0, at);
    const bool service_name = !port.empty() && std::isalpha(static_cast<unsigned char>(port.front())) != 0;
    if (std::string problem = PortProblem(port); !problem.empty() && !service_name) return Invalid(spec, problem);
    if (at != std::string::npos && at + 1 == rest.size()) return expected;
    return absl::OkStatus();
  }
  return expected;
}

}  // namespace hive::support
