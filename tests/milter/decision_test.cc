#include "milter/decision.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

pb::Verdict WithAction(pb::Action action) {
  pb::Verdict v;
  v.set_action(action);
  return v;
}

pb::Verdict Refusal(pb::Action action, std::string code, std::string enhanced, std::vector<std::string> lines) {
  pb::Verdict v = WithAction(action);
  v.mutable_reply()->set_code(code);
  v.mutable_reply()->set_enhanced_code(enhanced);
  for (auto& l : lines) v.mutable_reply()->add_lines(l);
  return v;
}

TEST(DecisionTest, ContinueAtEveryStage) {
  for (Stage stage : {Stage::kSender, Stage::kRecipient, Stage::kMessage}) {
    Decision d = Decide(WithAction(pb::ACTION_CONTINUE), stage, FailureMode::kTempfail);
    EXPECT_EQ(d.disposition, Disposition::kContinue);
    EXPECT_FALSE(d.reply.has_value());
    EXPECT_FALSE(d.policy_failed);
    EXPECT_FALSE(d.unchecked);
  }
}

TEST(DecisionTest, TempfailKeepsAValidReply) {
  Decision d = Decide(Refusal(pb::ACTION_TEMPFAIL, "452", "4.2.2", {"quota exceeded"}), Stage::kRecipient,
                      FailureMode::kTempfail);
  EXPECT_EQ(d.disposition, Disposition::kTempfail);
  ASSERT_TRUE(d.reply.has_value());
  EXPECT_EQ(d.reply->code, "452");
  EXPECT_EQ(d.reply->enhanced_code, "4.2.2");
  EXPECT_THAT(d.reply->lines, ElementsAre("quota exceeded"));
  EXPECT_FALSE(d.policy_failed);
}

TEST(DecisionTest, RejectKeepsAValidReply) {
  Decision d = Decide(Refusal(pb::ACTION_REJECT, "554", "5.7.1", {"spam"}), Stage::kMessage, FailureMode::kAccept);
  EXPECT_EQ(d.disposition, Disposition::kReject);
  EXPECT_EQ(d.reply->code, "554");
  EXPECT_EQ(d.reply->enhanced_code, "5.7.1");
  EXPECT_FALSE(d.unchecked);
}

TEST(DecisionTest, MissingReplyGetsDefaults) {
  Decision t = Decide(WithAction(pb::ACTION_TEMPFAIL), Stage::kSender, FailureMode::kTempfail);
  EXPECT_EQ(t.reply->code, "451");
  EXPECT_EQ(t.reply->enhanced_code, "4.7.1");
  EXPECT_THAT(t.reply->lines, SizeIs(1));
  Decision r = Decide(WithAction(pb::ACTION_REJECT), Stage::kSender, FailureMode::kTempfail);
  EXPECT_EQ(r.reply->code, "550");
  EXPECT_EQ(r.reply->enhanced_code, "5.7.1");
  EXPECT_THAT(r.reply->lines, SizeIs(1));
}

TEST(DecisionTest, MalformedCodesGetDefaults) {
  for (const char* code : {"", "45", "4511", "4a1", "461", "abc", " 45"}) {
    Decision d = Decide(Refusal(pb::ACTION_TEMPFAIL, code, "4.2.2", {"x"}), Stage::kRecipient,
                        FailureMode::kTempfail);
    EXPECT_EQ(d.reply->code, "451") << code;
    EXPECT_EQ(d.reply->enhanced_code, "4.7.1") << code;
    EXPECT_THAT(d.reply->lines, ElementsAre("x"));
  }
}

TEST(DecisionTest, CodeClassMustMatchTheAction) {
  Decision r = Decide(Refusal(pb::ACTION_REJECT, "451", "4.7.1", {"x"}), Stage::kMessage, FailureMode::kTempfail);
  EXPECT_EQ(r.disposition, Disposition::kReject);
  EXPECT_EQ(r.reply->code, "550");
  EXPECT_EQ(r.reply->enhanced_code, "5.7.1");
  Decision t = Decide(Refusal(pb::ACTION_TEMPFAIL, "550", "5.7.1", {"x"}), Stage::kMessage, FailureMode::kTempfail);
  EXPECT_EQ(t.disposition, Disposition::kTempfail);
  EXPECT_EQ(t.reply->code, "451");
  EXPECT_EQ(t.reply->enhanced_code, "4.7.1");
}

TEST(DecisionTest, EnhancedCodeClassAndShapeAreChecked) {
  for (const char* enhanced : {"5.2.2", "4.2", "4..1", "4.1234.1", "4.2.2.", "x.2.2", "4-2-2", ""}) {
    Decision d = Decide(Refusal(pb::ACTION_TEMPFAIL, "452", enhanced, {"x"}), Stage::kRecipient,
                        FailureMode::kTempfail);
    EXPECT_EQ(d.reply->code, "452") << enhanced;
    EXPECT_EQ(d.reply->enhanced_code, "4.7.1") << enhanced;
  }
  Decision ok = Decide(Refusal(pb::ACTION_REJECT, "550", "5.123.456", {"x"}), Stage::kRecipient,
                       FailureMode::kTempfail);
  EXPECT_EQ(ok.reply->enhanced_code, "5.123.456");
}

TEST(DecisionTest, ControlCharactersAndCrLfAreRemoved) {
  Decision d = Decide(Refusal(pb::ACTION_REJECT, "550", "5.7.1", {"bad\r\n550 injected\x01\x7f\ttext"}),
                      Stage::kMessage, FailureMode::kTempfail);
  ASSERT_THAT(d.reply->lines, SizeIs(1));
  const std::string& line = d.reply->lines[0];
  EXPECT_EQ(line.find_first_of("\r\n\x01\x7f\t"), std::string::npos) << line;
  EXPECT_THAT(line, HasSubstr("550 injected"));
}

TEST(DecisionTest, NonAsciiBecomesQuestionMarks) {
  EXPECT_EQ(SanitizeReplyLine("caf\xc3\xa9"), "caf??");
}

TEST(DecisionTest, PercentIsEscapedForLibmilter) {
  Decision d = Decide(Refusal(pb::ACTION_REJECT, "550", "5.7.1", {"100% spam %s"}), Stage::kMessage,
                      FailureMode::kTempfail);
  EXPECT_THAT(d.reply->lines, ElementsAre("100%% spam %%s"));
}

TEST(DecisionTest, MultiLineRepliesAreKeptAndCappedAt32Lines) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) lines.push_back("line " + std::to_string(i));
  Decision d = Decide(Refusal(pb::ACTION_REJECT, "550", "5.7.1", lines), Stage::kMessage, FailureMode::kTempfail);
  ASSERT_THAT(d.reply->lines, SizeIs(32));
  EXPECT_EQ(d.reply->lines.front(), "line 0");
  EXPECT_EQ(d.reply->lines.back(), "line 31");
}

TEST(DecisionTest, LongLinesAreCut) {
  Decision d = Decide(Refusal(pb::ACTION_REJECT, "550", "5.7.1", {std::string(5000, '%')}), Stage::kMessage,
                      FailureMode::kTempfail);
  // Cut before escaping so that a "%%" pair is never split.
  EXPECT_EQ(d.reply->lines[0], std::string(2 * kMaxReplyLineBytes, '%'));
}

TEST(DecisionTest, BlankLinesAreDroppedAndDefaultTextUsed) {
  Decision d = Decide(Refusal(pb::ACTION_TEMPFAIL, "451", "4.7.1", {"", "\r\n", "   "}), Stage::kMessage,
                      FailureMode::kTempfail);
  ASSERT_THAT(d.reply->lines, SizeIs(1));
  EXPECT_FALSE(d.reply->lines[0].empty());
}

TEST(DecisionTest, RpcErrorInTempfailModeGives451) {
  for (Stage stage : {Stage::kSender, Stage::kRecipient, Stage::kMessage}) {
    Decision d = Decide(absl::UnavailableError("connection refused"), stage, FailureMode::kTempfail);
    EXPECT_EQ(d.disposition, Disposition::kTempfail);
    EXPECT_EQ(d.reply->code, "451");
    EXPECT_EQ(d.reply->enhanced_code, "4.7.1");
    EXPECT_THAT(d.reply->lines, ElementsAre(std::string(kUnavailableText)));
    EXPECT_TRUE(d.policy_failed);
    EXPECT_FALSE(d.unchecked);
    EXPECT_THAT(d.failure, HasSubstr("UNAVAILABLE"));
  }
}

TEST(DecisionTest, RpcErrorInAcceptModeContinuesUnchecked) {
  Decision d = Decide(absl::DeadlineExceededError("slow"), Stage::kRecipient, FailureMode::kAccept);
  EXPECT_EQ(d.disposition, Disposition::kContinue);
  EXPECT_FALSE(d.reply.has_value());
  EXPECT_TRUE(d.policy_failed);
  EXPECT_TRUE(d.unchecked);
  EXPECT_THAT(d.failure, HasSubstr("DEADLINE_EXCEEDED"));
}

TEST(DecisionTest, UnspecifiedOrUnknownActionIsAFailure) {
  pb::Verdict unknown;
  unknown.set_action(static_cast<pb::Action>(99));
  for (const pb::Verdict& v : {WithAction(pb::ACTION_UNSPECIFIED), unknown}) {
    Decision t = Decide(v, Stage::kMessage, FailureMode::kTempfail);
    EXPECT_EQ(t.disposition, Disposition::kTempfail);
    EXPECT_EQ(t.reply->code, "451");
    EXPECT_TRUE(t.policy_failed);
    Decision a = Decide(v, Stage::kMessage, FailureMode::kAccept);
    EXPECT_EQ(a.disposition, Disposition::kContinue);
    EXPECT_TRUE(a.unchecked);
  }
}

TEST(DecisionTest, DiscardAndQuarantineAtEndOfMessage) {
  Decision d = Decide(WithAction(pb::ACTION_DISCARD), Stage::kMessage, FailureMode::kTempfail);
  EXPECT_EQ(d.disposition, Disposition::kDiscard);
  pb::Verdict q = WithAction(pb::ACTION_QUARANTINE);
  q.set_quarantine_reason("score 12\r\nx");
  Decision qd = Decide(q, Stage::kMessage, FailureMode::kTempfail);
  EXPECT_EQ(qd.disposition, Disposition::kQuarantine);
  EXPECT_EQ(qd.quarantine_reason, "score 12  x");
  Decision defaulted = Decide(WithAction(pb::ACTION_QUARANTINE), Stage::kMessage, FailureMode::kTempfail);
  EXPECT_FALSE(defaulted.quarantine_reason.empty());
}

TEST(DecisionTest, DiscardAndQuarantineBeforeEndOfMessageAreDeferred) {
  for (Stage stage : {Stage::kSender, Stage::kRecipient}) {
    Decision d = Decide(WithAction(pb::ACTION_DISCARD), stage, FailureMode::kTempfail);
    EXPECT_EQ(d.disposition, Disposition::kContinue);
    EXPECT_EQ(d.deferred, Disposition::kDiscard);
    Decision q = Decide(WithAction(pb::ACTION_QUARANTINE), stage, FailureMode::kTempfail);
    EXPECT_EQ(q.disposition, Disposition::kContinue);
    EXPECT_EQ(q.deferred, Disposition::kQuarantine);
    EXPECT_FALSE(q.policy_failed);
  }
}

pb::Verdict WithEdits() {
  pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
  v.set_pool("bulk-1");
  auto* add = v.add_header_edits();
  add->set_op(pb::HeaderEdit::OP_ADD);
  add->set_name("X-Score");
  add->set_value("1.5\r\nBcc: victim");
  auto* del = v.add_header_edits();
  del->set_op(pb::HeaderEdit::OP_DELETE);
  del->set_name("X-Old");
  del->set_index(2);
  v.mutable_new_sender()->set_address("bounce@example.com");
  v.mutable_new_sender()->add_esmtp_params("ENVID=abc");
  return v;
}

TEST(DecisionTest, EditsPoolAndSenderAtEndOfMessage) {
  Decision d = Decide(WithEdits(), Stage::kMessage, FailureMode::kTempfail);
  EXPECT_EQ(d.disposition, Disposition::kContinue);
  EXPECT_EQ(d.pool, "bulk-1");
  ASSERT_THAT(d.header_edits, SizeIs(2));
  EXPECT_EQ(d.header_edits[0].op, HeaderEdit::Op::kAdd);
  EXPECT_EQ(d.header_edits[0].value, "1.5  Bcc: victim");
  EXPECT_EQ(d.header_edits[1].op, HeaderEdit::Op::kDelete);
  EXPECT_EQ(d.header_edits[1].index, 2u);
  ASSERT_TRUE(d.new_sender.has_value());
  EXPECT_EQ(d.new_sender->address, "bounce@example.com");
  EXPECT_EQ(d.new_sender->esmtp_args, "ENVID=abc");
}

TEST(DecisionTest, EditsPoolAndSenderAreIgnoredBeforeEndOfMessage) {
  Decision d = Decide(WithEdits(), Stage::kRecipient, FailureMode::kTempfail);
  EXPECT_EQ(d.disposition, Disposition::kContinue);
  EXPECT_TRUE(d.pool.empty());
  EXPECT_TRUE(d.header_edits.empty());
  EXPECT_FALSE(d.new_sender.has_value());
}

TEST(DecisionTest, InvalidHeaderEditsAreAFailure) {
  auto with_edit = [](pb::HeaderEdit::Op op, std::string name, std::string value, uint32_t index) {
    pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
    auto* e = v.add_header_edits();
    e->set_op(op);
    e->set_name(name);
    e->set_value(value);
    e->set_index(index);
    return v;
  };
  const pb::Verdict bad[] = {
      with_edit(pb::HeaderEdit::OP_ADD, "X-A:", "v", 0),
      with_edit(pb::HeaderEdit::OP_ADD, "X A", "v", 0),
      with_edit(pb::HeaderEdit::OP_ADD, "X-A\r\nBcc", "v", 0),
      with_edit(pb::HeaderEdit::OP_ADD, "", "v", 0),
      with_edit(pb::HeaderEdit::OP_ADD, std::string(200, 'X'), "v", 0),
      with_edit(pb::HeaderEdit::OP_ADD, "X-A", std::string(kMaxHeaderValueBytes + 1, 'v'), 0),
      with_edit(pb::HeaderEdit::OP_CHANGE, "X-A", "v", 0),
      with_edit(pb::HeaderEdit::OP_UNSPECIFIED, "X-A", "v", 0),
  };
  for (const pb::Verdict& v : bad) {
    Decision d = Decide(v, Stage::kMessage, FailureMode::kTempfail);
    EXPECT_EQ(d.disposition, Disposition::kTempfail) << v.ShortDebugString();
    EXPECT_TRUE(d.policy_failed);
    EXPECT_THAT(d.failure, HasSubstr("invalid verdict"));
  }
  pb::Verdict many = WithAction(pb::ACTION_CONTINUE);
  for (std::size_t i = 0; i <= kMaxHeaderEdits; ++i) {
    auto* e = many.add_header_edits();
    e->set_op(pb::HeaderEdit::OP_ADD);
    e->set_name("X-A");
    e->set_value("v");
  }
  EXPECT_TRUE(Decide(many, Stage::kMessage, FailureMode::kTempfail).policy_failed);
}

TEST(DecisionTest, PoolMemberIsMarkedPoolSlashMember) {
  pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
  v.set_pool("bulk");
  v.set_pool_member("bulk-cold.2");
  Decision d = Decide(v, Stage::kMessage, FailureMode::kTempfail);
  EXPECT_FALSE(d.policy_failed);
  EXPECT_EQ(d.pool, "bulk/bulk-cold.2");
  v.clear_pool_member();
  EXPECT_EQ(Decide(v, Stage::kMessage, FailureMode::kTempfail).pool, "bulk");
}

TEST(DecisionTest, InvalidPoolMemberIsAFailure) {
  // A second '/' or a line break would let the verdict steer the MTA's
  // header checks to a transport that is not a member's.
  for (const char* member : {"a/b", "bad member", "m\r\nX-Hive-Pool: other", "m:1", "\xc3\xa9"}) {
    pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
    v.set_pool("bulk");
    v.set_pool_member(member);
    Decision d = Decide(v, Stage::kMessage, FailureMode::kTempfail);
    EXPECT_TRUE(d.policy_failed) << member;
    EXPECT_EQ(d.disposition, Disposition::kTempfail) << member;
    EXPECT_THAT(d.failure, HasSubstr("bad pool member name")) << member;
    EXPECT_TRUE(d.pool.empty()) << member;
  }
  pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
  v.set_pool_member("bulk-cold");
  Decision d = Decide(v, Stage::kMessage, FailureMode::kAccept);
  EXPECT_TRUE(d.policy_failed);
  EXPECT_TRUE(d.unchecked);
  EXPECT_THAT(d.failure, HasSubstr("pool member without a pool"));
  EXPECT_TRUE(d.pool.empty());
}

TEST(DecisionTest, InvalidPoolOrSenderIsAFailure) {
  for (const char* pool : {"bad pool", "a\r\nb", "x:y", "\xc3\xa9"}) {
    pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
    v.set_pool(pool);
    Decision d = Decide(v, Stage::kMessage, FailureMode::kAccept);
    EXPECT_TRUE(d.policy_failed) << pool;
    EXPECT_TRUE(d.unchecked);
    EXPECT_TRUE(d.pool.empty());
  }
  EXPECT_FALSE(IsValidPoolName(std::string(kMaxPoolBytes + 1, 'a')));
  EXPECT_TRUE(IsValidPoolName("pool_A-1.b"));
  for (const char* sender : {"a b@example.com", "<a@example.com>", "a@example.com\r\nRCPT TO:<x>"}) {
    pb::Verdict v = WithAction(pb::ACTION_CONTINUE);
    v.mutable_new_sender()->set_address(sender);
    EXPECT_TRUE(Decide(v, Stage::kMessage, FailureMode::kTempfail).policy_failed) << sender;
  }
  pb::Verdict empty_sender = WithAction(pb::ACTION_CONTINUE);
  empty_sender.mutable_new_sender();  // present but empty: keep the sender
  Decision d = Decide(empty_sender, Stage::kMessage, FailureMode::kTempfail);
  EXPECT_FALSE(d.policy_failed);
  EXPECT_FALSE(d.new_sender.has_value());
}

TEST(DecisionTest, FailureDecisionFollowsTheMode) {
  Decision t = FailureDecision(FailureMode::kTempfail, "why");
  EXPECT_EQ(t.disposition, Disposition::kTempfail);
  EXPECT_FALSE(t.unchecked);
  Decision a = FailureDecision(FailureMode::kAccept, "why");
  EXPECT_EQ(a.disposition, Disposition::kContinue);
  EXPECT_TRUE(a.unchecked);
  EXPECT_EQ(a.failure, "why");
}

}  // namespace
}  // namespace hive::milter
