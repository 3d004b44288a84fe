// Domain names as the checks and DNS lists compare and query them:
//
//   AsciiHost("例子.中国")       -> "xn--fsqu00a.xn--fiqs8s"  (IDNA 2008 /
//                                   UTS #46 via libidn2; ASCII input only
//                                   lower-cased; "" when not a valid name)
//   RegistrableDomain("a.b.example.com.cn") -> "example.com.cn"
//
// The registrable ("organisational") domain is the public suffix plus one
// label, from the Public Suffix List through libpsl: the newest list on the
// system (Debian's publicsuffix package, /usr/share/publicsuffix), else the
// one built into libpsl. It answers in ASCII (punycode) form, so that a
// host written in Unicode and the same host in punycode compare equal. A
// host that is itself a public suffix ("com.cn"), or that libpsl cannot
// place, is its own registrable domain.
//
// Thread-safety: pure functions; the list is loaded once, on first use,
// and never changes after.
#pragma once

#include <string>
#include <string_view>

namespace hive::policy::content {

std::string AsciiHost(std::string_view host);

std::string RegistrableDomain(std::string_view host);

}  // namespace hive::policy::content
