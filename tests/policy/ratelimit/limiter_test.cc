#include "ratelimit/limiter.h"

#include <gtest/gtest.h>

#include "ratelimit/memory_store.h"

namespace hive::policy::ratelimit {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

LimitRule Rule(const std::string& name, const std::string& key, std::uint64_t limit, Nanos period,
               Cost cost = Cost::kMessages, LimitAction action = LimitAction::kTempfail) {
  LimitRule r;
  r.name = name;
  r.key = KeyTemplate::Parse(key).value();
  r.windows = {{limit, period, 0}};
  r.cost = cost;
  r.action = action;
  return r;
}

class LimiterTest : public ::testing::Test {
 protected:
  match::Facts Facts(const std::string& rcpt = "", const std::string& sender = "alice@example.com") {
    match::Facts f = match::MakeFacts(sender, "", "192.0.2.1");
    if (!rcpt.empty()) f.recipients.push_back(match::MakeRecipient(rcpt));
    return f;
  }
  LimitOutcome Rcpt(const std::string& txn, const std::string& rcpt,
                    const std::string& sender = "alice@example.com") {
    return limiter_.CheckRecipient(policy_, txn, Facts(rcpt, sender)).value().outcome;
  }
  LimitOutcome Sender(const std::string& sender = "alice@example.com") {
    return limiter_.CheckSender(policy_, Facts("", sender)).value().outcome;
  }

  ManualClock clock_;
  MemoryStore store_{clock_};
  Limiter limiter_{store_, clock_};
  LimitPolicy policy_;
};

TEST_F(LimiterTest, MessagesCostReservesOncePerTransactionAndBucket) {
  policy_.rules.push_back(Rule("per-sender", "{sender}", 2, hours(1)));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "b@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "c@y.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t1").value(), 1);
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t2").value(), 1);
  EXPECT_EQ(Rcpt("t3", "a@x.org", "bob@example.com"), LimitOutcome::kAllow);  // other bucket

  LimitDecision d = limiter_.CheckRecipient(policy_, "t4", Facts("a@x.org")).value();
  EXPECT_EQ(d.outcome, LimitOutcome::kTempfail);
  ASSERT_TRUE(d.refusal.has_value());
  EXPECT_EQ(d.refusal->rule, "per-sender");
  EXPECT_EQ(d.refusal->key, "alice@example.com");
  EXPECT_EQ(d.refusal->retry_after, minutes(30));  // T = 1h / 2
  ASSERT_EQ(d.hits.size(), 1u);
}

TEST_F(LimiterTest, RecipientsCostReservesPerRecipient) {
  policy_.rules.push_back(Rule("rcpts", "{sender}", 3, hours(1), Cost::kRecipients));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "b@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "c@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "d@x.org"), LimitOutcome::kTempfail);
  EXPECT_EQ(limiter_.Release("t1").value(), 3);  // the refused one reserved nothing
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "b@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "c@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "d@x.org"), LimitOutcome::kTempfail);
}

TEST_F(LimiterTest, ARetriedRecipientReservesOnce) {
  policy_.rules.push_back(Rule("rcpts", "{sender}", 2, hours(1), Cost::kRecipients));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "a@X.ORG"), LimitOutcome::kAllow);  // same recipient: an RPC retry
  EXPECT_EQ(Rcpt("t1", "b@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t1").value(), 2);
}

TEST_F(LimiterTest, ReleaseGivesBackAndCommitKeeps) {
  policy_.rules.push_back(Rule("one", "{sender}", 1, hours(24)));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kTempfail);  // t1 holds the reservation
  EXPECT_EQ(limiter_.Release("t1").value(), 1);
  EXPECT_EQ(Rcpt("t3", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t3").value(), 1);
  EXPECT_EQ(Rcpt("t4", "a@x.org"), LimitOutcome::kTempfail);
  EXPECT_EQ(store_.PendingTransactions(), 0u);  // refusals leave nothing behind
}

TEST_F(LimiterTest, EndTransactionIsIdempotent) {
  policy_.rules.push_back(Rule("one", "{sender}", 1, hours(24)));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Release("t1").value(), 1);
  EXPECT_EQ(limiter_.Release("t1").value(), 0);
  EXPECT_EQ(limiter_.Release("never-seen").value(), 0);
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t2").value(), 1);
  EXPECT_EQ(limiter_.Release("t2").value(), 0);  // after a commit: gives nothing back
  EXPECT_EQ(Rcpt("t3", "a@x.org"), LimitOutcome::kTempfail);
}

TEST_F(LimiterTest, ExpiredReservationsAreDroppedAndStayConsumed) {
  policy_.reservation_ttl = minutes(10);
  policy_.rules.push_back(Rule("one", "{sender}", 1, hours(24)));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  clock_.Advance(minutes(9));
  EXPECT_EQ(Sender("bob@example.com"), LimitOutcome::kAllow);  // any call sweeps lazily
  EXPECT_EQ(store_.PendingTransactions(), 1u);
  clock_.Advance(minutes(2));
  EXPECT_EQ(Sender("bob@example.com"), LimitOutcome::kAllow);
  EXPECT_EQ(store_.PendingTransactions(), 0u);
  EXPECT_EQ(limiter_.Release("t1").value(), 0);
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kTempfail);
}

TEST_F(LimiterTest, SenderStagePeekConsumesNothing) {
  policy_.rules.push_back(Rule("per-sender", "{sender}", 1, hours(1)));
  // Needs a recipient: not decidable at MAIL FROM, so never refuses there.
  policy_.rules.push_back(Rule("per-domain", "{recipient_domain}", 1, hours(1)));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Sender(), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(limiter_.Commit("t1").value(), 2);
  LimitDecision d = limiter_.CheckSender(policy_, Facts()).value();
  EXPECT_EQ(d.outcome, LimitOutcome::kTempfail);
  EXPECT_EQ(d.refusal->rule, "per-sender");
  EXPECT_EQ(d.refusal->retry_after, hours(1));
  EXPECT_EQ(Sender("bob@example.com"), LimitOutcome::kAllow);
}

// Counts the store's peeks and passes everything on.
class PeekCountingStore final : public Store {
 public:
  explicit PeekCountingStore(Store& inner) : inner_(inner) {}
  absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) override { return inner_.Reserve(request); }
  absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) override {
    ++peeks;
    return inner_.Peek(ops);
  }
  absl::StatusOr<int> Commit(const std::string& transaction) override { return inner_.Commit(transaction); }
  absl::StatusOr<int> Release(const std::string& transaction) override { return inner_.Release(transaction); }
  int peeks = 0;

 private:
  Store& inner_;
};

TEST_F(LimiterTest, TheSenderStageIsOnePeekForEveryRule) {
  PeekCountingStore counting(store_);
  Limiter limiter(counting, clock_);
  policy_.rules.push_back(Rule("per-sender", "{sender}", 5, hours(1)));
  policy_.rules.push_back(Rule("per-ip", "{client_ip}", 1, hours(1)));
  policy_.rules.push_back(Rule("per-domain", "{sender_domain}", 5, hours(1)));
  policy_.rules.back().quotas = {{10, CalendarUnit::kDay}};
  EXPECT_EQ(limiter.CheckRecipient(policy_, "t1", Facts("a@x.org")).value().outcome, LimitOutcome::kAllow);
  ASSERT_EQ(limiter.Commit("t1").value(), 3);
  LimitDecision d = limiter.CheckSender(policy_, Facts()).value();
  EXPECT_EQ(counting.peeks, 1);
  // Each rule still answers for its own buckets.
  EXPECT_EQ(d.outcome, LimitOutcome::kTempfail);
  EXPECT_EQ(d.refusal->rule, "per-ip");
  ASSERT_EQ(d.windows.size(), 4u);
  EXPECT_EQ(d.windows[0].rule, "per-sender");
  EXPECT_EQ(d.windows[0].remaining, 3);
  EXPECT_EQ(d.windows[1].rule, "per-ip");
  EXPECT_EQ(d.windows[1].remaining, 0);
  EXPECT_EQ(d.windows[2].rule, "per-domain");
  EXPECT_EQ(d.windows[3].window, "day");
  EXPECT_EQ(d.windows[3].remaining, 8);
}

TEST_F(LimiterTest, ARefusedRecipientChargesNoOtherRule) {
  policy_.rules.push_back(Rule("per-sender", "{sender}", 3, hours(1), Cost::kRecipients));
  policy_.rules.push_back(Rule("per-domain", "{sender}:{recipient_domain}", 1, hours(1)));
  EXPECT_EQ(Rcpt("t1", "x@gmail.com"), LimitOutcome::kAllow);
  ASSERT_EQ(limiter_.Commit("t1").value(), 2);
  EXPECT_EQ(Rcpt("t2", "y@gmail.com"), LimitOutcome::kTempfail);  // per-domain full
  EXPECT_EQ(Rcpt("t2", "z@yahoo.com"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "w@hotmail.com"), LimitOutcome::kAllow);  // per-sender at 3: y cost nothing
  EXPECT_EQ(Rcpt("t2", "v@aol.com"), LimitOutcome::kTempfail);
}

TEST_F(LimiterTest, RejectBeatsTempfailAndShadowNeverRefuses) {
  policy_.rules.push_back(Rule("soft", "{sender}", 1, hours(1), Cost::kRecipients, LimitAction::kTempfail));
  policy_.rules.push_back(Rule("quota", "{sender_domain}", 1, hours(24), Cost::kRecipients, LimitAction::kReject));
  policy_.rules.push_back(Rule("watch", "{client_ip}", 1, hours(1), Cost::kRecipients, LimitAction::kShadow));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  LimitDecision d = limiter_.CheckRecipient(policy_, "t1", Facts("b@x.org")).value();
  EXPECT_EQ(d.outcome, LimitOutcome::kReject);
  EXPECT_EQ(d.refusal->rule, "quota");
  EXPECT_EQ(d.hits.size(), 2u);

  LimitPolicy shadow_only;
  shadow_only.rules.push_back(Rule("watch", "{client_ip}", 1, hours(1), Cost::kRecipients, LimitAction::kShadow));
  LimitDecision s = limiter_.CheckRecipient(shadow_only, "t9", Facts("c@x.org")).value();
  EXPECT_EQ(s.outcome, LimitOutcome::kAllow);
  ASSERT_EQ(s.hits.size(), 1u);
  EXPECT_EQ(s.hits[0].rule, "watch");
  EXPECT_EQ(s.hits[0].action, LimitAction::kShadow);
}

TEST_F(LimiterTest, MatchSelectsTheRule) {
  LimitRule r = Rule("example-only", "{sender}", 1, hours(1));
  ASSERT_TRUE(r.match.AddSenderDomain("example.com").ok());
  policy_.rules.push_back(std::move(r));
  EXPECT_EQ(Rcpt("t1", "a@x.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t2", "a@x.org"), LimitOutcome::kTempfail);
  EXPECT_EQ(Rcpt("t3", "a@x.org", "carol@example.org"), LimitOutcome::kAllow);
  EXPECT_EQ(Rcpt("t4", "a@x.org", "carol@example.org"), LimitOutcome::kAllow);
}

TEST_F(LimiterTest, RecipientCheckNeedsExactlyOneRecipient) {
  EXPECT_FALSE(limiter_.CheckRecipient(policy_, "t1", Facts()).ok());
}

}  // namespace
}  // namespace hive::policy::ratelimit
