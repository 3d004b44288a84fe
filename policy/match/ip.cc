#include "match/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace hive::policy::match {

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes_.data()) == 1) return ip;
  std::array<std::uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) == 1) {
    static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
      std::memcpy(ip.bytes_.data(), v6.data() + 12, 4);
      return ip;
    }
    ip.v6_ = true;
    ip.bytes_ = v6;
    return ip;
  }
  return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not an IPv4 or IPv6 address"));
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf);
  return buf;
}

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  absl::StatusOr<IpAddress> base = IpAddress::Parse(text.substr(0, slash));
  if (!base.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not an IP address or CIDR block"));
  }
  Cidr cidr;
  cidr.base_ = *base;
  cidr.prefix_ = base->bit_length();
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || prefix < 0 ||
        prefix > base->bit_length()) {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(text), "' has a bad prefix length (0..",
                                                     base->bit_length(), ")"));
    }
    cidr.prefix_ = prefix;
  }
  return cidr;
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.is_v6() != base_.is_v6()) return false;
  const auto& a = ip.bytes();
  const auto& b = base_.bytes();
  int bits = prefix_;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

}  // namespace hive::policy::match
