#include "milter/decision.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "451": three digits, first 4 or 5, second 0..5 (RFC 5321 4.2).
bool IsValidCode(std::string_view code, char klass) {
  return code.size() == 3 && code[0] == klass && code[1] >= '0' && code[1] <= '5' && IsDigit(code[2]);
}

// "4.7.1": class "." 1-3 digits "." 1-3 digits (RFC 3463), class as given.
bool IsValidEnhancedCode(std::string_view code, char klass) {
  if (code.size() < 5 || code[0] != klass || code[1] != '.') return false;
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    while (i < code.size() && IsDigit(code[i])) {
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3) return false;
    if (part == 0) {
      if (i >= code.size() || code[i] != '.') return false;
      ++i;
    }
  }
  return i == code.size();
}

SmtpReply MakeReply(const pb::SmtpReply& in, Disposition disposition) {
  const bool temp = disposition == Disposition::kTempfail;
  const char klass = temp ? '4' : '5';
  SmtpReply out;
  if (IsValidCode(in.code(), klass)) {
    out.code = in.code();
    out.enhanced_code = IsValidEnhancedCode(in.enhanced_code(), klass) ? in.enhanced_code()
                                                                       : (temp ? "4.7.1" : "5.7.1");
  } else {
    out.code = temp ? "451" : "550";
    out.enhanced_code = temp ? "4.7.1" : "5.7.1";
  }
  for (const std::string& line : in.lines()) {
    if (out.lines.size() == kMaxReplyLines) break;
    std::string clean = SanitizeReplyLine(line);
    if (clean.find_first_not_of(' ') == std::string::npos) continue;
    out.lines.push_back(std::move(clean));
  }
  if (out.lines.empty()) {
    out.lines.push_back(temp ? "temporarily refused by policy, try again later" : "refused by policy");
  }
  return out;
}

// "" when the edit is fine, else what is wrong with it.
std::string CheckHeaderEdit(const pb::HeaderEdit& in, HeaderEdit& out) {
  switch (in.op()) {
    case pb::HeaderEdit::OP_ADD: out.op = HeaderEdit::Op::kAdd; break;
    case pb::HeaderEdit::OP_INSERT: out.op = HeaderEdit::Op::kInsert; break;
    case pb::HeaderEdit::OP_CHANGE: out.op = HeaderEdit::Op::kChange; break;
    case pb::HeaderEdit::OP_DELETE: out.op = HeaderEdit::Op::kDelete; break;
    default: return absl::StrCat("header edit with unknown op ", static_cast<int>(in.op()));
  }
  if (!IsValidHeaderName(in.name())) return "header edit with an invalid name";
  if (in.value().size() > kMaxHeaderValueBytes) return "header edit value too long";
  if ((out.op == HeaderEdit::Op::kChange || out.op == HeaderEdit::Op::kDelete) && in.index() == 0) {
    return "header change/delete needs a 1-based index";
  }
  if (out.op != HeaderEdit::Op::kDelete && in.value().empty()) return "header edit with an empty value";
  out.name = in.name();
  out.value = out.op == HeaderEdit::Op::kDelete ? std::string() : SanitizeHeaderValue(in.value());
  out.index = in.index();
  return "";
}

bool IsAddressChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '<' && c != '>';
}

std::string CheckNewSender(const pb::Address& in, NewSender& out) {
  if (in.address().size() > kMaxAddressBytes) return "new sender too long";
  for (char c : in.address()) {
    if (!IsAddressChar(c)) return "new sender with an invalid character";
  }
  if (static_cast<std::size_t>(in.esmtp_params_size()) > kMaxEsmtpParams) return "new sender: too many ESMTP params";
  out.address = in.address();
  out.esmtp_args.clear();
  for (const std::string& param : in.esmtp_params()) {
    if (param.empty() || param.size() > kMaxAddressBytes) return "new sender: bad ESMTP param";
    for (char c : param) {
      if (!IsAddressChar(c)) return "new sender: bad ESMTP param";
    }
    if (!out.esmtp_args.empty()) out.esmtp_args += ' ';
    out.esmtp_args += param;
  }
  return "";
}

std::string QuarantineReason(const pb::Verdict& verdict) {
  std::string reason;
  for (char c : verdict.quarantine_reason()) {
    if (reason.size() == kMaxQuarantineReasonBytes) break;
    const auto u = static_cast<unsigned char>(c);
    reason += (u < 0x20 || u == 0x7f) ? ' ' : (u >= 0x80 ? '?' : c);
  }
  if (reason.find_first_not_of(' ') == std::string::npos) reason = "held by policy";
  return reason;
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kSender: return "mail";
    case Stage::kRecipient: return "rcpt";
    case Stage::kMessage: return "eom";
  }
  return "?";
}

std::string_view FailureModeName(FailureMode mode) {
  return mode == FailureMode::kAccept ? "accept" : "tempfail";
}

std::string_view DispositionName(Disposition disposition) {
  switch (disposition) {
    case Disposition::kContinue: return "continue";
    case Disposition::kTempfail: return "tempfail";
    case Disposition::kReject: return "reject";
    case Disposition::kDiscard: return "discard";
    case Disposition::kQuarantine: return "quarantine";
  }
  return "?";
}

std::string SanitizeReplyLine(std::string_view line) {
  std::string out;
  out.reserve(line.size() < kMaxReplyLineBytes ? line.size() : kMaxReplyLineBytes);
  std::size_t kept = 0;
  for (char c : line) {
    if (kept == kMaxReplyLineBytes) break;
    ++kept;
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += ' ';
    } else if (u >= 0x80) {
      out += '?';
    } else if (c == '%') {
      // libmilter / Sendmail treat the text as a format string.
      out += "%%";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsValidHeaderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  return true;
}

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) != absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string SanitizeHeaderValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = ' ';
  }
  return out;
}

bool IsValidPoolName(std::string_view pool) {
  if (pool.empty() || pool.size() > kMaxPoolBytes) return false;
  for (char c : pool) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '.' || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

Decision FailureDecision(FailureMode mode, std::string why) {
  Decision d;
  d.policy_failed = true;
  d.failure = std::move(why);
  if (mode == FailureMode::kAccept) {
    d.disposition = Disposition::kContinue;
    d.unchecked = true;
  } else {
    d.disposition = Disposition::kTempfail;
    d.reply = SmtpReply{"451", "4.7.1", {std::string(kUnavailableText)}};
  }
  return d;
}

Decision Decide(const absl::StatusOr<pb::Verdict>& verdict, Stage stage, FailureMode mode) {
  if (!verdict.ok()) {
    return FailureDecision(mode, absl::StrCat("rpc ", absl::StatusCodeToString(verdict.status().code()), ": ",
                                              verdict.status().message()));
  }
  const pb::Verdict& v = *verdict;
  const bool eom = stage == Stage::kMessage;
  Decision d;
  switch (v.action()) {
    case pb::ACTION_CONTINUE: d.disposition = Disposition::kContinue; break;
    case pb::ACTION_TEMPFAIL: d.disposition = Disposition::kTempfail; break;
    case pb::ACTION_REJECT: d.disposition = Disposition::kReject; break;
    case pb::ACTION_DISCARD:
    case pb::ACTION_QUARANTINE: {
      const Disposition wanted =
          v.action() == pb::ACTION_DISCARD ? Disposition::kDiscard : Disposition::kQuarantine;
      if (eom) {
        d.disposition = wanted;
      } else {
        d.disposition = Disposition::kContinue;
        d.deferred = wanted;
      }
      if (wanted == Disposition::kQuarantine) d.quarantine_reason = QuarantineReason(v);
      break;
    }
    default:
      return FailureDecision(mode, absl::StrCat("invalid verdict: action ", static_cast<int>(v.action())));
  }

  if (d.disposition == Disposition::kTempfail || d.disposition == Disposition::kReject) {
    d.reply = MakeReply(v.reply(), d.disposition);
    // Edits, pool and sender do not matter for a refused message.
    return d;
  }
  if (!eom) return d;

  // A member names a source address inside a pool: alone, it routes nowhere.
  if (v.pool().empty() && !v.pool_member().empty()) {
    return FailureDecision(mode, "invalid verdict: pool member without a pool");
  }
  if (!v.pool().empty()) {
    if (!IsValidPoolName(v.pool())) return FailureDecision(mode, "invalid verdict: bad pool name");
    d.pool = v.pool();
    // The member (one source address) the MTA's header checks route on:
    // "<pool>/<member>".
    if (!v.pool_member().empty()) {
      if (!IsValidPoolName(v.pool_member())) return FailureDecision(mode, "invalid verdict: bad pool member name");
      d.pool = absl::StrCat(v.pool(), "/", v.pool_member());
      d.pool_member = v.pool_member();
    }
  }
  if (static_cast<std::size_t>(v.header_edits_size()) > kMaxHeaderEdits) {
    return FailureDecision(mode, "invalid verdict: too many header edits");
  }
  for (const pb::HeaderEdit& in : v.header_edits()) {
    HeaderEdit out;
    if (std::string problem = CheckHeaderEdit(in, out); !problem.empty()) {
      return FailureDecision(mode, absl::StrCat("invalid verdict: ", problem));
    }
    d.header_edits.push_back(std::move(out));
  }
  if (v.has_new_sender() && !v.new_sender().address().empty()) {
    NewSender sender;
    if (std::string problem = CheckNewSender(v.new_sender(), sender); !problem.empty()) {
      return FailureDecision(mode, absl::StrCat("invalid verdict: ", problem));
    }
    d.new_sender = std::move(sender);
  }
  return d;
}

}  // namespace hive::milter
