// IPv4/IPv6 addresses and CIDR blocks for client_ip matching.
//
// IpAddress::Parse("192.0.2.1"), Cidr::Parse("2001:db8::/32"); then
// cidr.Contains(ip). An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is
// treated as the IPv4 address, so one rule covers both spellings.
// Value types; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace hive::policy::match {

class IpAddress {
 public:
  static absl::StatusOr<IpAddress> Parse(std::string_view text);

  bool is_v6() const { return v6_; }
  // Network byte order; only the first 4 bytes are used for IPv4.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  int bit_length() const { return v6_ ? 128 : 32; }
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a single address (a full-length
  // prefix). Host bits below the prefix are ignored.
  static absl::StatusOr<Cidr> Parse(std::string_view text);

  bool Contains(const IpAddress& ip) const;

 private:
  IpAddress base_;
  int prefix_ = 0;
};

}  // namespace hive::policy::match
