#include "milter/actions.h"

#include <array>
#include <string>

#include <libmilter/mfapi.h>

#include "absl/strings/str_cat.h"

namespace hive::milter {
namespace {

// libmilter's API takes char* although it never writes through them.
char* Mutable(std::string& s) { return s.data(); }

absl::Status Check(int rc, std::string_view what) {
  if (rc == MI_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(std::string(what), " failed"));
}

}  // namespace

std::optional<std::string> LibmilterActions::Macro(std::string_view name) {
  std::string key(name);
  const char* value = smfi_getsymval(ctx_, Mutable(key));
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::Status LibmilterActions::SetReply(const SmtpReply& reply) {
  std::string code = reply.code;
  std::string enhanced = reply.enhanced_code;
  if (reply.lines.size() <= 1) {
    std::string text = reply.lines.empty() ? std::string() : reply.lines.front();
    return Check(smfi_setreply(ctx_, Mutable(code), enhanced.empty() ? nullptr : Mutable(enhanced),
                               text.empty() ? nullptr : Mutable(text)),
                 "smfi_setreply");
  }
  // smfi_setmlreply is variadic and stops at the first NULL: pass all 32
  // slots, the unused ones NULL.
  std::array<const char*, kMaxReplyLines + 1> l{};
  for (std::size_t i = 0; i < reply.lines.size() && i < kMaxReplyLines; ++i) l[i] = reply.lines[i].c_str();
  const int rc = smfi_setmlreply(ctx_, code.c_str(), enhanced.empty() ? nullptr : enhanced.c_str(), l[0], l[1],
                                 l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11], l[12], l[13], l[14],
                                 l[15], l[16], l[17], l[18], l[19], l[20], l[21], l[22], l[23], l[24], l[25], l[26],
                                 l[27], l[28], l[29], l[30], l[31], static_cast<const char*>(nullptr));
  return Check(rc, "smfi_setmlreply");
}

absl::Status LibmilterActions::AddHeader(std::string_view name, std::string_view value) {
  std::string n(name), v(value);
  return Check(smfi_addheader(ctx_, Mutable(n), Mutable(v)), "smfi_addheader");
}

absl::Status LibmilterActions::InsertHeader(int index, std::string_view name, std::string_view value) {
  std::string n(name), v(value);
  return Check(smfi_insheader(ctx_, index, Mutable(n), Mutable(v)), "smfi_insheader");
}

absl::Status LibmilterActions::ChangeHeader(std::string_view name, int index, std::string_view value) {
  std::string n(name), v(value);
  return Check(smfi_chgheader(ctx_, Mutable(n), index, v.empty() ? nullptr : Mutable(v)), "smfi_chgheader");
}

absl::Status LibmilterActions::ChangeFrom(std::string_view address, std::string_view esmtp_args) {
  std::string a = absl::StrCat("<", std::string(address), ">");
  std::string args(esmtp_args);
  return Check(smfi_chgfrom(ctx_, Mutable(a), args.empty() ? nullptr : Mutable(args)), "smfi_chgfrom");
}

absl::Status LibmilterActions::Quarantine(std::string_view reason) {
  std::string r(reason);
  return Check(smfi_quarantine(ctx_, Mutable(r)), "smfi_quarantine");
}

}  // namespace hive::milter
