// Degraded mode through Session with a scripted policy: during an outage a
// transactional message is delivered on its lease (marked "lease") until
// the lease is spent, a marketing message gets 451, a sender without a
// lease gets 451 at MAIL, an expired lease counts for nothing; when the
// service answers again the usage is reported once, with its ids.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fakes.h"
#include "milter/lease_table.h"
#include "milter/session.h"

namespace hive::milter {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using testing::FakeActions;
using testing::FakePolicyClient;
namespace pb = hive::policy::v1;

constexpr char kSender[] = "receipts@shop.example";

class DegradedSessionTest : public ::testing::Test {
 protected:
  DegradedSessionTest() : leases_(100, [this] { return now_; }) {
    settings_.listen = "inet:1@127.0.0.1";
    settings_.policy_target = "127.0.0.1:1";
    settings_.class_modes.class_header = "X-Hive-Class";
    settings_.class_modes.modes = {{"transactional", ClassMode::kLeaseThenTempfail},
                                   {"marketing", ClassMode::kTempfail}};
    session_ = std::make_unique<Session>(std::make_shared<const Settings>(settings_), policy_,
                                         [this] { return "tx" + std::to_string(++next_id_); }, &leases_);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(40000);
    inet_pton(AF_INET, "192.0.2.10", &in.sin_addr);
    session_->OnConnect(mta_, "client.example", reinterpret_cast<sockaddr*>(&in));
  }

  // MAIL, RCPTs, the class header, a body, end of message: the first
  // status that is not continue, or the end of message's.
  Status Send(const std::string& sender, const std::string& message_class, int recipients = 1) {
    mta_.ops.clear();
    mta_.replies.clear();
    if (Status s = session_->OnEnvFrom(mta_, {"<" + sender + ">"}); s != Status::kContinue) return s;
    for (int i = 0; i < recipients; ++i) {
      if (Status s = session_->OnEnvRcpt(mta_, {"<r" + std::to_string(i) + "@dest.example>"}); s != Status::kContinue) {
        return s;
      }
    }
    session_->OnHeader(mta_, "x-hive-class", " " + message_class);
    session_->OnBody(mta_, "hello\r\n");
    return session_->OnEndOfMessage(mta_);
  }

  // Every policy call fails from now on (until Recover).
  void Outage() {
    for (int i = 0; i < 20; ++i) {
      policy_.sender_answers.push_back(absl::UnavailableError("connection refused"));
      policy_.recipient_answers.push_back(absl::UnavailableError("connection refused"));
      policy_.message_answers.push_back(absl::UnavailableError("connection refused"));
    }
  }
  void Recover() {
    policy_.sender_answers.clear();
    policy_.recipient_answers.clear();
    policy_.message_answers.clear();
  }

  // A delivered verdict granting `units` for the class.
  static pb::Verdict WithLease(const std::string& message_class, uint32_t units) {
    pb::Verdict v = testing::Continue();
    pb::Lease& lease = *v.mutable_lease();
    lease.set_sender(kSender);
    lease.set_message_class(message_class);
    lease.set_units(units);
    lease.set_ttl_ms(600'000);
    return v;
  }

  std::string Reply() const { return mta_.replies.empty() ? "" : mta_.replies.back().code + " " + mta_.replies.back().enhanced_code; }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  LeaseTable leases_;
  Settings settings_;
  FakePolicyClient policy_;
  FakeActions mta_;
  int next_id_ = 0;
  std::unique_ptr<Session> session_;
};

TEST_F(DegradedSessionTest, TransactionalWithinItsLeaseIsDeliveredMarkedThenTempfailed) {
  policy_.message_answers.push_back(WithLease("transactional", 2));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  EXPECT_EQ(leases_.UnitsLeft(kSender, "transactional"), 2u);

  Outage();
  EXPECT_EQ(Send(kSender, "transactional"), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("add X-Hive-Policy: lease; policy service unavailable"));
  EXPECT_EQ(Send(kSender, "Transactional"), Status::kContinue);
  EXPECT_THAT(mta_.ops, ElementsAre("add X-Hive-Policy: lease; policy service unavailable"));
  // Spent: the third is refused (at MAIL already: no units left), never
  // dropped.
  EXPECT_EQ(Send(kSender, "transactional"), Status::kTempfail);
  EXPECT_EQ(Reply(), "451 4.7.1");
  EXPECT_THAT(mta_.ops, IsEmpty());
  EXPECT_EQ(policy_.message_requests.size(), 3u) << "the last one never reached end of message";
  EXPECT_THAT(leases_.Unreported(10), SizeIs(2));
}

TEST_F(DegradedSessionTest, LeaseSpendsOneUnitPerRecipient) {
  policy_.message_answers.push_back(WithLease("transactional", 3));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  Outage();
  EXPECT_EQ(Send(kSender, "transactional", 2), Status::kContinue);
  // 1 unit left for 2 recipients: refused at end of message.
  EXPECT_EQ(Send(kSender, "transactional", 2), Status::kTempfail);
  EXPECT_EQ(Reply(), "451 4.7.1");
  EXPECT_THAT(mta_.ops, IsEmpty());
  EXPECT_EQ(Send(kSender, "transactional", 1), Status::kContinue);
}

TEST_F(DegradedSessionTest, MarketingGetsTempfailEvenFromASenderWithALease) {
  policy_.message_answers.push_back(WithLease("transactional", 5));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  Outage();
  EXPECT_EQ(Send(kSender, "marketing"), Status::kTempfail);
  EXPECT_EQ(Reply(), "451 4.7.1");
  EXPECT_EQ(Send(kSender, ""), Status::kTempfail) << "no class: the default failure mode";
  EXPECT_EQ(leases_.UnitsLeft(kSender, "transactional"), 5u);
  EXPECT_FALSE(leases_.has_unreported());
  // Refused after RCPT reserved: the reservations are released.
  EXPECT_THAT(policy_.end_requests, SizeIs(2));
}

TEST_F(DegradedSessionTest, SenderWithoutLeaseIsRefusedAtMail) {
  Outage();
  EXPECT_EQ(Send("stranger@shop.example", "transactional"), Status::kTempfail);
  EXPECT_EQ(Reply(), "451 4.7.1");
  EXPECT_THAT(policy_.recipient_requests, IsEmpty());
}

TEST_F(DegradedSessionTest, ExpiredLeaseCountsForNothing) {
  policy_.message_answers.push_back(WithLease("transactional", 5));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  Outage();
  now_ += absl::Minutes(10);
  EXPECT_EQ(Send(kSender, "transactional"), Status::kTempfail);
  EXPECT_THAT(policy_.recipient_requests, SizeIs(1)) << "refused at MAIL";
}

TEST_F(DegradedSessionTest, UsageIsReportedOnceWhenTheServiceReturnsAndRetriedWithTheSameIds) {
  policy_.message_answers.push_back(WithLease("transactional", 5));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  Outage();
  ASSERT_EQ(Send(kSender, "transactional", 2), Status::kContinue);
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  EXPECT_THAT(policy_.lease_reports, IsEmpty()) << "nothing is reported while the service is down";
  Recover();
  // The reply to the first report is lost: the usage stays.
  policy_.lease_answers.push_back(absl::DeadlineExceededError("slow"));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  ASSERT_THAT(policy_.lease_reports, SizeIs(1));
  EXPECT_TRUE(leases_.has_unreported());
  // A grant while the usage is unreported is ignored.
  EXPECT_EQ(leases_.UnitsLeft(kSender, "transactional"), 2u);

  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  ASSERT_THAT(policy_.lease_reports, SizeIs(2));
  const pb::LeaseUsageReport& report = policy_.lease_reports[1];
  ASSERT_EQ(report.usages_size(), 2);
  EXPECT_EQ(report.usages(0).usage_id(), policy_.lease_reports[0].usages(0).usage_id());
  EXPECT_EQ(report.usages(0).usage_id(), "tx2");
  EXPECT_EQ(report.usages(0).recipients(), 2u);
  EXPECT_EQ(report.usages(0).message_class(), "transactional");
  EXPECT_EQ(report.usages(0).sender(), kSender);
  EXPECT_EQ(report.usages(1).usage_id(), "tx3");
  EXPECT_FALSE(leases_.has_unreported());

  policy_.message_answers.push_back(WithLease("transactional", 4));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  EXPECT_THAT(policy_.lease_reports, SizeIs(2)) << "reported exactly once";
  EXPECT_EQ(leases_.UnitsLeft(kSender, "transactional"), 4u) << "granted again once charged";
}

TEST_F(DegradedSessionTest, WithoutClassModesAnOutageIsThePlainFailureMode) {
  settings_.class_modes = {};
  session_ = std::make_unique<Session>(std::make_shared<const Settings>(settings_), policy_,
                                       [this] { return "tx" + std::to_string(++next_id_); }, &leases_);
  policy_.message_answers.push_back(WithLease("transactional", 5));
  ASSERT_EQ(Send(kSender, "transactional"), Status::kContinue);
  Outage();
  EXPECT_EQ(Send(kSender, "transactional"), Status::kTempfail);
  EXPECT_FALSE(leases_.has_unreported());
}

}  // namespace
}  // namespace hive::milter
