// libFuzzer target: hive-milter's verdict validation (milter/decision.cc),
// the one place where an answer from the network becomes an SMTP reply.
// Arbitrary bytes are parsed as a hive.policy.v1.Verdict (anything that
// parses, including unknown enum values, oversized lists and control
// characters) and decided at every stage in both failure modes. Invariants
// checked (__builtin_trap on violation): a reply exactly when tempfail or
// reject, its code and enhanced code of the matching class, 1..32 lines of
// printable ASCII; a pool, header edit or new sender only at end of message
// and only in a valid shape; a failed policy never passes unchecked in
// tempfail mode. Built by tests/fuzz/build-fuzzers.sh with clang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "milter/decision.h"

namespace {

using hive::milter::Decision;
using hive::milter::Disposition;
using hive::milter::FailureMode;
using hive::milter::Stage;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Printable(const std::string& s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

void CheckDecision(const Decision& d, Stage stage, FailureMode mode) {
  const bool refused = d.disposition == Disposition::kTempfail || d.disposition == Disposition::kReject;
  Check(d.reply.has_value() == refused);
  if (d.reply) {
    const char klass = d.disposition == Disposition::kTempfail ? '4' : '5';
    Check(d.reply->code.size() == 3 && d.reply->code[0] == klass);
    Check(!d.reply->enhanced_code.empty() && d.reply->enhanced_code[0] == klass);
    Check(Printable(d.reply->enhanced_code));
    Check(!d.reply->lines.empty() && d.reply->lines.size() <= hive::milter::kMaxReplyLines);
    for (const std::string& line : d.reply->lines) {
      Check(Printable(line));
      // '%' escaped: libmilter formats the text.
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '%') {
          Check(i + 1 < line.size() && line[i + 1] == '%');
          ++i;
        }
      }
    }
  }
  if (stage != Stage::kMessage) {
    Check(d.disposition != Disposition::kDiscard && d.disposition != Disposition::kQuarantine);
    Check(d.header_edits.empty() && d.pool.empty() && !d.new_sender);
  }
  // The mark is "<pool>" or "<pool>/<member>", each part a valid name.
  if (!d.pool.empty()) {
    const std::size_t slash = d.pool.find('/');
    Check(hive::milter::IsValidPoolName(d.pool.substr(0, slash)));
    Check(slash == std::string::npos ? d.pool_member.empty()
                                     : d.pool_member == d.pool.substr(slash + 1) &&
                                           hive::milter::IsValidPoolName(d.pool_member));
  }
  Check(d.pool_member.empty() || !d.pool.empty());
  Check(d.header_edits.size() <= hive::milter::kMaxHeaderEdits);
  for (const auto& e : d.header_edits) {
    Check(hive::milter::IsValidHeaderName(e.name));
    Check(e.value.find_first_of("\r\n") == std::string::npos);
  }
  if (d.new_sender) {
    Check(d.new_sender->address.size() <= hive::milter::kMaxAddressBytes);
    Check(d.new_sender->address.find_first_of("<> \r\n") == std::string::npos);
  }
  if (d.policy_failed) {
    if (mode == FailureMode::kTempfail) Check(d.disposition == Disposition::kTempfail && !d.unchecked);
    if (mode == FailureMode::kAccept) Check(d.disposition == Disposition::kContinue && d.unchecked);
  }
  Check(!d.unchecked || mode == FailureMode::kAccept);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hive::policy::v1::Verdict verdict;
  if (!verdict.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (Stage stage : {Stage::kSender, Stage::kRecipient, Stage::kMessage}) {
    for (FailureMode mode : {FailureMode::kTempfail, FailureMode::kAccept}) {
      CheckDecision(hive::milter::Decide(verdict, stage, mode), stage, mode);
    }
  }
  return 0;
}
