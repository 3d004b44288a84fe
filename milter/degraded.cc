#include "milter/degraded.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::milter {

std::string_view ClassModeName(ClassMode mode) {
  switch (mode) {
    case ClassMode::kTempfail: return "tempfail";
    case ClassMode::kAccept: return "accept";
    case ClassMode::kLeaseThenTempfail: return "lease_then_tempfail";
  }
  return "?";
}

ClassMode ClassFailureModes::For(std::string_view message_class, FailureMode fallback) const {
  if (!message_class.empty()) {
    for (const auto& [name, mode] : modes) {
      if (name == message_class) return mode;
    }
  }
  return fallback == FailureMode::kAccept ? ClassMode::kAccept : ClassMode::kTempfail;
}

bool ClassFailureModes::MayDecideAtEnd(FailureMode fallback, bool has_lease) const {
  if (fallback == FailureMode::kAccept) return true;
  for (const auto& [name, mode] : modes) {
    if (mode == ClassMode::kAccept) return true;
    if (mode == ClassMode::kLeaseThenTempfail && has_lease) return true;
  }
  return false;
}

bool ClassFailureModes::any_lease() const {
  for (const auto& [name, mode] : modes) {
    if (mode == ClassMode::kLeaseThenTempfail) return true;
  }
  return false;
}

std::string MessageClassOf(const google::protobuf::RepeatedPtrField<hive::policy::v1::Header>& headers,
                           std::string_view class_header) {
  if (class_header.empty()) return "";
  for (const hive::policy::v1::Header& h : headers) {
    if (!SameName(h.name(), class_header)) continue;
    return absl::AsciiStrToLower(absl::StripAsciiWhitespace(h.value()));
  }
  return "";
}

Decision DegradedDecision(ClassMode mode, bool lease_spent, std::string failure) {
  switch (mode) {
    case ClassMode::kAccept: return FailureDecision(FailureMode::kAccept, std::move(failure));
    case ClassMode::kLeaseThenTempfail:
      if (lease_spent) {
        Decision d;
        d.policy_failed = true;
        d.failure = absl::StrCat(failure, "; delivered on a lease");
        return d;
      }
      return FailureDecision(FailureMode::kTempfail, absl::StrCat(failure, "; no lease left"));
    case ClassMode::kTempfail: break;
  }
  return FailureDecision(FailureMode::kTempfail, std::move(failure));
}

}  // namespace hive::milter
