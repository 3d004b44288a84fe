#include "content/domain.h"

#include <idn2.h>
#include <libpsl.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"

namespace hive::policy::content {
namespace {

struct PslFree {
  void operator()(psl_ctx_t* p) const { psl_free(p); }
};

const psl_ctx_t* List() {
  // psl_latest: the newest of the system's list files and the built-in
  // list; never null in practice, but psl_builtin() is the last resort.
  static const std::unique_ptr<psl_ctx_t, PslFree> latest(psl_latest(nullptr));
  return latest ? latest.get() : psl_builtin();
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string AsciiHost(std::string_view host) {
  if (host.empty() || host.size() > 1024) return "";
  if (IsAscii(host)) return absl::AsciiStrToLower(absl::string_view(host.data(), host.size()));
  const std::string input(host);
  char* out = nullptr;
  if (idn2_to_ascii_8z(input.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) {
    // UTS #46 transitional processing as the fallback browsers use.
    if (idn2_to_ascii_8z(input.c_str(), &out, IDN2_TRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) return "";
  }
  std::string ascii(out);
  idn2_free(out);
  return absl::AsciiStrToLower(ascii);
}

std::string RegistrableDomain(std::string_view host) {
  std::string ascii = AsciiHost(host);
  while (!ascii.empty() && ascii.back() == '.') ascii.pop_back();
  if (ascii.empty()) return std::string(host);
  const char* registrable = psl_registrable_domain(List(), ascii.c_str());
  return registrable != nullptr ? std::string(registrable) : ascii;
}

}  // namespace hive::policy::content
