// End to end over real loopback gRPC: the service, its config snapshot, the
// limiter on a manual clock, health and reflection.
#include "server/policy_service.h"

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "config/snapshot.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "ratelimit/memory_store.h"
#include "server/grpc_server.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;
using ::testing::HasSubstr;

constexpr char kConfig[] = R"(
limits:
  - name: per-sender
    key: "{sender}"
    windows: [{limit: 2, period: 1h}]
  - name: per-sender-domain
    key: "{sender}:{recipient_domain}"
    match: {sender_domain: [quota.example]}
    cost: recipients
    action: reject
    windows: [{limit: 1, period: 1d}]
content:
  rules:
    - {name: PILLS, target: body, regex: "(?i)viagra", weight: 10}
    - {name: SUBJ_MONEY, target: subject, regex: "(?i)free money", weight: 3}
    - {name: BARE_LINK, target: body, regex: "http://", weight: 2}
  reject_score: 10
  quarantine_score: 5
routing:
  pools: [{name: shared}, {name: vip}]
  rules:
    - {name: vip-senders, match: {sender: ["*@vip.example.com"]}, pool: vip}
  default_pool: shared
)";

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

void Await(grpc::CompletionQueue& cq, std::intptr_t expected) {
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_EQ(reinterpret_cast<std::intptr_t>(tag), expected);
}

class PolicyServiceTest : public ::testing::Test {
 protected:
  void StartWith(const std::string& yaml) {
    absl::StatusOr<config::SnapshotPtr> snapshot = config::LoadSnapshotFromText(yaml, "test.yaml");
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    holder_ = std::make_unique<config::SnapshotHolder>("test.yaml", *snapshot);
    service_ = std::make_unique<PolicyServiceImpl>(*holder_, limiter_);
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start({"127.0.0.1:0", static_cast<int>((*snapshot)->server.max_request_bytes)}, *service_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials());
    stub_ = v1::PolicyService::NewStub(channel_);
  }
  void SetUp() override { StartWith(kConfig); }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(100));
  }

  static v1::Transaction Txn(const std::string& id, const std::string& sender) {
    v1::Transaction t;
    t.set_id(id);
    t.set_queue_id("Q" + id);
    t.mutable_connection()->set_client_address("192.0.2.10");
    t.mutable_sender()->set_address(sender);
    return t;
  }
  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return ctx;
  }
  v1::Verdict Sender(const std::string& id, const std::string& sender) {
    v1::SenderRequest req;
    *req.mutable_transaction() = Txn(id, sender);
    v1::Verdict v;
    grpc::Status s = stub_->CheckSender(Context().get(), req, &v);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return v;
  }
  v1::Verdict Rcpt(const std::string& id, const std::string& sender, const std::string& rcpt,
                   bool check_sender = false, bool omit_limits = false) {
    v1::RecipientRequest req;
    *req.mutable_transaction() = Txn(id, sender);
    req.mutable_recipient()->set_address(rcpt);
    req.set_check_sender(check_sender);
    req.set_omit_limits(omit_limits);
    v1::Verdict v;
    grpc::Status s = stub_->CheckRecipient(Context().get(), req, &v);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return v;
  }
  v1::Verdict Message(const std::string& id, const std::string& sender, const std::string& subject,
                      const std::string& body, grpc::Status* status = nullptr,
                      const std::vector<std::string>& recipients = {"rcpt@dest.example"}) {
    v1::MessageRequest req;
    *req.mutable_transaction() = Txn(id, sender);
    for (const std::string& r : recipients) req.add_recipients()->set_address(r);
    v1::Header* h = req.add_headers();
    h->set_name("Subject");
    h->set_value(subject);
    req.set_body(body);
    req.set_body_size(body.size());
    v1::Verdict v;
    grpc::Status s = stub_->CheckMessage(Context().get(), req, &v);
    if (status != nullptr) *status = s;
    else EXPECT_TRUE(s.ok()) << s.error_message();
    return v;
  }
  std::uint32_t End(const std::string& id) {
    v1::EndTransactionRequest req;
    req.set_transaction_id(id);
    req.set_reason(v1::EndTransactionRequest::REASON_ABORTED);
    v1::EndTransactionReply reply;
    EXPECT_TRUE(stub_->EndTransaction(Context().get(), req, &reply).ok());
    return reply.released();
  }
  // One clean message through every stage; returns the final verdict.
  v1::Verdict Deliver(const std::string& id, const std::string& sender) {
    EXPECT_EQ(Sender(id, sender).action(), v1::ACTION_CONTINUE);
    EXPECT_EQ(Rcpt(id, sender, "rcpt@dest.example").action(), v1::ACTION_CONTINUE);
    return Message(id, sender, "Hello", "Just text.\r\n");
  }

  ratelimit::ManualClock clock_;
  ratelimit::MemoryStore store_{clock_};
  ratelimit::Limiter limiter_{store_, clock_};
  std::unique_ptr<config::SnapshotHolder> holder_;
  std::unique_ptr<PolicyServiceImpl> service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PolicyService::Stub> stub_;
};

TEST_F(PolicyServiceTest, OverLimitIsTempfailedAtRcptWithRuleAndRetryTime) {
  v1::Verdict first = Deliver("t1", "alice@example.com");
  EXPECT_EQ(first.action(), v1::ACTION_CONTINUE);
  EXPECT_FALSE(first.has_reply());
  EXPECT_EQ(Deliver("t2", "alice@example.com").action(), v1::ACTION_CONTINUE);

  v1::Verdict v = Rcpt("t3", "alice@example.com", "rcpt@dest.example");
  EXPECT_EQ(v.action(), v1::ACTION_TEMPFAIL);
  EXPECT_EQ(v.reply().code(), "451");
  EXPECT_EQ(v.reply().enhanced_code(), "4.7.1");
  ASSERT_EQ(v.reply().lines_size(), 1);
  EXPECT_EQ(v.reply().lines(0), "Deferred: rate limit per-sender exceeded for alice@example.com, retry in 1800s");
  ASSERT_EQ(v.symbols_size(), 1);
  EXPECT_EQ(v.symbols(0).name(), "LIMIT_per-sender");
  EXPECT_THAT(v.symbols(0).detail(), HasSubstr("key=alice@example.com"));
  EXPECT_FALSE(v.decision_id().empty());

  // MAIL FROM already knows: no allowance left for this sender.
  EXPECT_EQ(Sender("t4", "alice@example.com").action(), v1::ACTION_TEMPFAIL);
  EXPECT_EQ(Sender("t4", "bob@example.com").action(), v1::ACTION_CONTINUE);

  clock_.Advance(std::chrono::minutes(30));
  EXPECT_EQ(Deliver("t5", "alice@example.com").action(), v1::ACTION_CONTINUE);
}

// RecipientRequest.check_sender (the milter's sender_limits_at_first_rcpt):
// a sender over its limit gets at RCPT exactly what CheckSender answers at
// MAIL FROM, and reserves nothing; a sender within its limits goes on to
// the recipient's own decision.
TEST_F(PolicyServiceTest, SenderCheckedWithTheFirstRcptGetsCheckSendersReply) {
  Deliver("t1", "alice@example.com");
  Deliver("t2", "alice@example.com");
  const v1::Verdict at_mail = Sender("t3", "alice@example.com");
  ASSERT_EQ(at_mail.action(), v1::ACTION_TEMPFAIL);
  const v1::Verdict at_rcpt = Rcpt("t3", "alice@example.com", "rcpt@dest.example", /*check_sender=*/true);
  EXPECT_EQ(at_rcpt.action(), at_mail.action());
  EXPECT_EQ(at_rcpt.reply().SerializeAsString(), at_mail.reply().SerializeAsString());
  EXPECT_EQ(at_rcpt.reply().lines(0), "Deferred: rate limit per-sender exceeded for alice@example.com, retry in 1800s");
  EXPECT_EQ(End("t3"), 0u);

  const v1::Verdict fine = Rcpt("t4", "bob@example.com", "rcpt@dest.example", /*check_sender=*/true);
  EXPECT_EQ(fine.action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(End("t4"), 1u);  // the recipient's reservation was made
  // A recipient limit still refuses after a passed sender check.
  EXPECT_EQ(Rcpt("t5", "a@quota.example", "x@gmail.com", true).action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Rcpt("t5", "a@quota.example", "y@gmail.com", true).action(), v1::ACTION_REJECT);
}

// ratelimit.decide_at end_of_message: the verdicts ask for no MAIL or RCPT
// call, and the one end-of-message call decides the sender's and every
// recipient's limits as those calls would, for the whole message.
class EndOfMessageLimitsTest : public PolicyServiceTest {
 protected:
  void SetUp() override { StartWith(std::string(kConfig) + "ratelimit: {decide_at: end_of_message}\n"); }
  v1::Verdict Send(const std::string& id, const std::string& sender, const std::vector<std::string>& rcpts) {
    return Message(id, sender, "Hello", "Just text.\r\n", nullptr, rcpts);
  }
};

TEST_F(EndOfMessageLimitsTest, NoStageBeforeIsAskedForAndTheSendersLimitCountsThere) {
  const v1::Verdict first = Send("t1", "alice@example.com", {"rcpt@dest.example"});
  EXPECT_EQ(first.action(), v1::ACTION_CONTINUE);
  ASSERT_TRUE(first.has_stages());
  EXPECT_FALSE(first.stages().sender());
  EXPECT_FALSE(first.stages().recipient());
  EXPECT_EQ(Send("t2", "alice@example.com", {"rcpt@dest.example"}).action(), v1::ACTION_CONTINUE);
  // per-sender allows 2 an hour: the third message gets what MAIL FROM
  // would have answered.
  const v1::Verdict third = Send("t3", "alice@example.com", {"rcpt@dest.example"});
  EXPECT_EQ(third.action(), v1::ACTION_TEMPFAIL);
  EXPECT_EQ(third.reply().code(), "451");
  EXPECT_EQ(third.reply().lines(0), "Deferred: rate limit per-sender exceeded for alice@example.com, retry in 1800s");
}

TEST_F(EndOfMessageLimitsTest, ARecipientOverItsLimitRefusesTheMessageAndConsumesNothing) {
  // per-sender-domain: one recipient per day and domain for quota.example.
  const v1::Verdict both = Send("t1", "a@quota.example", {"x@gmail.com", "y@gmail.com"});
  EXPECT_EQ(both.action(), v1::ACTION_REJECT);
  EXPECT_EQ(both.reply().code(), "550");
  EXPECT_EQ(both.reply().lines(0), "Refused: rate limit per-sender-domain exceeded for a@quota.example:gmail.com");
  EXPECT_EQ(End("t1"), 0u);  // the first recipient's reservation was given back
  EXPECT_EQ(Send("t2", "a@quota.example", {"x@gmail.com", "z@yahoo.com"}).action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Send("t3", "a@quota.example", {"y@gmail.com"}).action(), v1::ACTION_REJECT);
}

TEST_F(EndOfMessageLimitsTest, AWindowTwoRecipientsShareIsListedOnceWithItsLastStatus) {
  // Both recipients count in a@quota.example:gmail.com: the second is
  // refused there, and the verdict lists that window once, as it stands.
  const v1::Verdict both = Send("t1", "a@quota.example", {"x@gmail.com", "y@gmail.com"});
  ASSERT_EQ(both.action(), v1::ACTION_REJECT);
  int listed = 0;
  for (const v1::LimitStatus& s : both.limits()) {
    if (s.rule() != "per-sender-domain") continue;
    ++listed;
    EXPECT_EQ(s.key(), "a@quota.example:gmail.com");
    EXPECT_EQ(s.remaining(), 0);
  }
  EXPECT_EQ(listed, 1);
}

TEST_F(EndOfMessageLimitsTest, StagedCallsBeforeAreNotCountedTwice) {
  // A milter that has not yet learnt the stages (its first message) asks
  // at RCPT too: that recipient's reservation is the one the end counts.
  EXPECT_EQ(Rcpt("t1", "a@quota.example", "x@gmail.com").action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Send("t1", "a@quota.example", {"x@gmail.com"}).action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Send("t2", "a@quota.example", {"x@gmail.com"}).action(), v1::ACTION_REJECT);
}

// omit_limits: the limit statuses stay off the wire, nothing else changes.
TEST_F(PolicyServiceTest, OmitLimitsLeavesOnlyTheStatusesOut) {
  const v1::Verdict full = Rcpt("t1", "alice@example.com", "rcpt@dest.example");
  EXPECT_GT(full.limits_size(), 0);
  const v1::Verdict lean = Rcpt("t2", "carol@example.com", "rcpt@dest.example", false, /*omit_limits=*/true);
  EXPECT_EQ(lean.limits_size(), 0);
  EXPECT_EQ(lean.action(), v1::ACTION_CONTINUE);
  EXPECT_TRUE(lean.has_stages());
  v1::SenderRequest sreq;
  *sreq.mutable_transaction() = Txn("t3", "alice@example.com");
  sreq.set_omit_limits(true);
  v1::Verdict sv;
  ASSERT_TRUE(stub_->CheckSender(Context().get(), sreq, &sv).ok());
  EXPECT_EQ(sv.limits_size(), 0);
  v1::MessageRequest mreq;
  *mreq.mutable_transaction() = Txn("t1", "alice@example.com");
  mreq.add_recipients()->set_address("rcpt@dest.example");
  mreq.set_body("Just text.\r\n");
  mreq.set_omit_limits(true);
  v1::Verdict mv;
  ASSERT_TRUE(stub_->CheckMessage(Context().get(), mreq, &mv).ok());
  EXPECT_EQ(mv.limits_size(), 0);
  EXPECT_EQ(mv.action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(mv.pool(), "shared");
}

TEST_F(PolicyServiceTest, HardQuotaIsRejectedAtRcpt) {
  EXPECT_EQ(Rcpt("t1", "a@quota.example", "x@gmail.com").action(), v1::ACTION_CONTINUE);
  v1::Verdict v = Rcpt("t1", "a@quota.example", "y@gmail.com");
  EXPECT_EQ(v.action(), v1::ACTION_REJECT);
  EXPECT_EQ(v.reply().code(), "550");
  EXPECT_EQ(v.reply().enhanced_code(), "5.7.1");
  EXPECT_EQ(v.reply().lines(0), "Refused: rate limit per-sender-domain exceeded for a@quota.example:gmail.com");
  EXPECT_EQ(Rcpt("t1", "a@quota.example", "z@yahoo.com").action(), v1::ACTION_CONTINUE);
}

TEST_F(PolicyServiceTest, SpamIsRejectedAndItsReservationReleased) {
  ASSERT_EQ(Rcpt("t1", "bob@example.com", "rcpt@dest.example").action(), v1::ACTION_CONTINUE);
  v1::Verdict v = Message("t1", "bob@example.com", "FREE MONEY", "Buy Viagra at http://x\r\n");
  EXPECT_EQ(v.action(), v1::ACTION_REJECT);
  EXPECT_EQ(v.reply().code(), "550");
  EXPECT_EQ(v.reply().enhanced_code(), "5.7.1");
  EXPECT_EQ(v.reply().lines(0), "Refused: message looks like spam (score 15.0: PILLS, SUBJ_MONEY, BARE_LINK)");
  EXPECT_DOUBLE_EQ(v.score(), 15);
  ASSERT_EQ(v.symbols_size(), 3);
  EXPECT_EQ(v.symbols(0).name(), "PILLS");
  EXPECT_EQ(v.symbols(0).weight(), 10);
  EXPECT_EQ(v.symbols(0).detail(), "Viagra");
  EXPECT_TRUE(v.pool().empty());
  // The refused message did not use bob's allowance of 2.
  EXPECT_EQ(Deliver("t2", "bob@example.com").action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Deliver("t3", "bob@example.com").action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Rcpt("t4", "bob@example.com", "rcpt@dest.example").action(), v1::ACTION_TEMPFAIL);
}

TEST_F(PolicyServiceTest, QuarantineCommitsAndChoosesAPool) {
  ASSERT_EQ(Rcpt("t1", "carol@example.com", "rcpt@dest.example").action(), v1::ACTION_CONTINUE);
  v1::Verdict v = Message("t1", "carol@example.com", "Free money!", "see http://x\r\n");
  EXPECT_EQ(v.action(), v1::ACTION_QUARANTINE);
  EXPECT_THAT(v.quarantine_reason(), HasSubstr("score 5.0: SUBJ_MONEY, BARE_LINK"));
  EXPECT_EQ(v.pool(), "shared");
  EXPECT_EQ(End("t1"), 0u);  // committed: nothing left to release
}

TEST_F(PolicyServiceTest, PoolIsChosenBySender) {
  EXPECT_EQ(Deliver("t1", "news@vip.example.com").pool(), "vip");
  EXPECT_EQ(Deliver("t2", "news@example.com").pool(), "shared");
}

TEST_F(PolicyServiceTest, EndTransactionReleasesOnce) {
  ASSERT_EQ(Rcpt("t1", "dave@example.com", "rcpt@dest.example").action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(End("t1"), 1u);
  EXPECT_EQ(End("t1"), 0u);
  EXPECT_EQ(Deliver("t2", "dave@example.com").action(), v1::ACTION_CONTINUE);
  EXPECT_EQ(Deliver("t3", "dave@example.com").action(), v1::ACTION_CONTINUE);
}

TEST_F(PolicyServiceTest, MalformedRequestsGetAnErrorNotAVerdict) {
  v1::RecipientRequest req;
  v1::Verdict v;
  EXPECT_EQ(stub_->CheckRecipient(Context().get(), req, &v).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  *req.mutable_transaction() = Txn("t1", "a@example.com");
  EXPECT_EQ(stub_->CheckRecipient(Context().get(), req, &v).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::EndTransactionRequest end;
  v1::EndTransactionReply reply;
  EXPECT_EQ(stub_->EndTransaction(Context().get(), end, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PolicyServiceTest, DecisionIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.insert(Sender("t", "x@example.com").decision_id());
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(PolicyServiceTest, ReloadAppliesToTheNextRequest) {
  ASSERT_EQ(Deliver("t1", "erin@example.com").pool(), "shared");
  holder_->Set(config::LoadSnapshotFromText("routing:\n  pools: [{name: other}]\n  default_pool: other\n", "r.yaml")
                   .value());
  EXPECT_EQ(Deliver("t2", "erin@example.com").pool(), "other");
}

// Every verdict names the stages the policy decides at (the milter skips
// the others), and follows reloads.
TEST_F(PolicyServiceTest, VerdictsSayWhichStagesThePolicyDecidesAt) {
  for (const v1::Verdict& v : {Sender("s1", "a@example.com"), Rcpt("s1", "a@example.com", "r@dest.example"),
                               Message("s1", "a@example.com", "hi", "hello")}) {
    ASSERT_TRUE(v.has_stages());
    EXPECT_TRUE(v.stages().sender());     // per-sender: enforcing, needs no recipient
    EXPECT_TRUE(v.stages().recipient());  // both rules reserve per recipient
  }
  // A shadow rule cannot refuse at MAIL FROM, but still counts per recipient.
  holder_->Set(config::LoadSnapshotFromText(
                   "limits:\n  - {name: watch, key: \"{sender}\", action: shadow, windows: [{limit: 5, period: 1h}]}\n",
                   "shadow.yaml")
                   .value());
  v1::Verdict shadow = Rcpt("s2", "a@example.com", "r@dest.example");
  EXPECT_FALSE(shadow.stages().sender());
  EXPECT_TRUE(shadow.stages().recipient());
  // Limits that need the message (a header here) are decided at its end only.
  holder_->Set(config::LoadSnapshotFromText(
                   "limits:\n  - {name: per-tenant, key: \"{header:X-Tenant}\", windows: [{limit: 5, period: 1h}]}\n",
                   "message.yaml")
                   .value());
  v1::Verdict message = Message("s3", "a@example.com", "hi", "hello");
  ASSERT_TRUE(message.has_stages());
  EXPECT_FALSE(message.stages().sender());
  EXPECT_FALSE(message.stages().recipient());
}

// Pools with members over gRPC: Verdict.pool_member, and ReportDelivery
// feeding the warm-up of the member a report names.
constexpr char kPoolsConfig[] = R"(
routing:
  warmups:
    - {name: two-a-day, day_one: 2, growth: 2, warm_at: 1000}
  pools:
    - {name: plain}
    - name: bulk
      members:
        - {name: warm-1, address: 192.0.2.50, helo: warm-1.example.com}
        - {name: cold-1, address: 192.0.2.51, helo: cold-1.example.com, warmup: two-a-day}
  rules:
    - {name: plain, match: {sender_domain: [plain.example]}, pool: plain}
  default_pool: bulk
  feedback: {block_threshold: 2}
)";

class PolicyServicePoolsTest : public PolicyServiceTest {
 protected:
  void SetUp() override { StartWith(kPoolsConfig); }

  grpc::Status Report(const std::string& member, const std::string& recipient, v1::DeliveryReport::Status status,
                      const std::string& dsn, const std::string& reply, v1::DeliveryReportReply* out) {
    v1::DeliveryReport report;
    report.set_queue_id("4F1A2B");
    report.set_pool("bulk");
    report.set_pool_member(member);
    report.set_recipient(recipient);
    report.set_status(status);
    report.set_dsn(dsn);
    report.set_reply(reply);
    return stub_->ReportDelivery(Context().get(), report, out);
  }
};

TEST_F(PolicyServicePoolsTest, VerdictNamesTheMemberColdWhileItsCapLastsThenWarm) {
  EXPECT_EQ(Deliver("t1", "a@news.example").pool_member(), "cold-1");
  EXPECT_EQ(Deliver("t2", "b@news.example").pool_member(), "cold-1");
  const v1::Verdict third = Deliver("t3", "c@news.example");
  EXPECT_EQ(third.pool(), "bulk");
  EXPECT_EQ(third.pool_member(), "warm-1");
  // A pool without members names none: the milter marks just the pool.
  const v1::Verdict plain = Deliver("t4", "a@plain.example");
  EXPECT_EQ(plain.pool(), "plain");
  EXPECT_TRUE(plain.pool_member().empty());
}

TEST_F(PolicyServicePoolsTest, BlockReportsStepTheMemberBackOnceAtTheThresholdAndMoveItsTrafficOff) {
  ASSERT_EQ(Deliver("t1", "a@news.example").pool_member(), "cold-1");
  v1::DeliveryReportReply reply;
  // Greylisting does not count; the config's threshold is 2 blocks.
  ASSERT_TRUE(Report("cold-1", "rcpt@dest.example", v1::DeliveryReport::STATUS_DEFERRED, "4.7.1",
                     "421 4.7.1 Greylisted, try again later", &reply)
                  .ok());
  EXPECT_FALSE(reply.stepped_back());
  ASSERT_TRUE(Report("cold-1", "rcpt@dest.example", v1::DeliveryReport::STATUS_DEFERRED, "4.7.0",
                     "421 4.7.0 Try again later", &reply)
                  .ok());
  EXPECT_FALSE(reply.stepped_back());
  ASSERT_TRUE(Report("cold-1", "rcpt@dest.example", v1::DeliveryReport::STATUS_DEFERRED, "4.7.0",
                     "421 4.7.0 Try again later", &reply)
                  .ok());
  EXPECT_TRUE(reply.stepped_back());
  EXPECT_EQ(reply.warmup_day(), 1u);
  // More of the same reply while paused: no second step-back.
  ASSERT_TRUE(Report("cold-1", "rcpt@dest.example", v1::DeliveryReport::STATUS_DEFERRED, "4.7.0",
                     "421 4.7.0 Try again later", &reply)
                  .ok());
  EXPECT_FALSE(reply.stepped_back());
  // The cap had room for one more; the provider said stop.
  EXPECT_EQ(Deliver("t2", "b@news.example").pool_member(), "warm-1");
  // Clean deliveries, and members that do not warm up, change nothing.
  ASSERT_TRUE(Report("cold-1", "rcpt@other.example", v1::DeliveryReport::STATUS_SENT, "2.0.0", "250 2.0.0 Ok", &reply)
                  .ok());
  EXPECT_FALSE(reply.stepped_back());
  EXPECT_EQ(reply.warmup_day(), 1u);
  ASSERT_TRUE(Report("warm-1", "rcpt@dest.example", v1::DeliveryReport::STATUS_DEFERRED, "4.7.0",
                     "421 4.7.0 Try again later", &reply)
                  .ok());
  EXPECT_FALSE(reply.stepped_back());
  EXPECT_EQ(reply.warmup_day(), 0u);
}

TEST_F(PolicyServicePoolsTest, ReportDeliveryRefusesReportsItCannotPlace) {
  v1::DeliveryReportReply reply;
  const auto deferred = v1::DeliveryReport::STATUS_DEFERRED;
  EXPECT_EQ(Report("", "rcpt@dest.example", deferred, "4.7.0", "421", &reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Report("cold-1", "", deferred, "4.7.0", "421", &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A member a reload removed: the follower logs and drops the report.
  EXPECT_EQ(Report("gone", "rcpt@dest.example", deferred, "4.7.0", "421", &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// grpc.health.v1.Health/Check by hand-encoded bytes: the health proto is
// not compiled into our code, and the status byte is all we need.
std::string HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  std::string encoded = "\x0a";  // HealthCheckRequest.service, length-delimited
  encoded += static_cast<char>(service.size());
  encoded += service;
  grpc::Slice slice(encoded);
  grpc::ByteBuffer request(&slice, 1);
  auto call = generic.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return "error: " + status.error_message();
  return Flatten(response);
}

TEST_F(PolicyServiceTest, HealthIsServing) {
  const std::string kServing("\x08\x01", 2);  // HealthCheckResponse{status: SERVING}
  EXPECT_EQ(HealthCheck(channel_, ""), kServing);
  EXPECT_EQ(HealthCheck(channel_, "hive.policy.v1.PolicyService"), kServing);
  EXPECT_THAT(HealthCheck(channel_, "no.such.Service"), HasSubstr("error"));
}

TEST_F(PolicyServiceTest, ReflectionListsThePolicyService) {
  grpc::GenericStub generic(channel_);
  auto ctx = Context();
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(ctx.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  Await(cq, 1);
  const std::string list_services("\x3a\x00", 2);  // ServerReflectionRequest{list_services: ""}
  grpc::Slice slice(list_services);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  Await(cq, 2);
  call->WritesDone(reinterpret_cast<void*>(3));
  Await(cq, 3);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  Await(cq, 4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  Await(cq, 5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(Flatten(response), HasSubstr("hive.policy.v1.PolicyService"));
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(PolicyServiceLimitsTest, MaxRequestBytesComesFromConfig) {
  absl::StatusOr<config::SnapshotPtr> snapshot =
      config::LoadSnapshotFromText("server:\n  max_request_bytes: 2048\n", "small.yaml");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  config::SnapshotHolder holder("small.yaml", *snapshot);
  ratelimit::ManualClock clock;
  ratelimit::MemoryStore store(clock);
  ratelimit::Limiter limiter(store, clock);
  PolicyServiceImpl service(holder, limiter);
  auto server = GrpcServer::Start({"127.0.0.1:0", static_cast<int>((*snapshot)->server.max_request_bytes)}, service);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::PolicyService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));
  v1::MessageRequest req;
  req.mutable_transaction()->set_id("t1");
  req.set_body(std::string(4096, 'x'));
  v1::Verdict v;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub->CheckMessage(&ctx, req, &v).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  req.set_body("small");
  grpc::ClientContext ctx2;
  EXPECT_TRUE(stub->CheckMessage(&ctx2, req, &v).ok());
  (*server)->Shutdown(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace hive::policy::server
