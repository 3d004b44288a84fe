// Degraded-mode leases in hive-policyd on a manual clock and the in-memory
// store: a lease is granted with a delivered transactional message while
// the sender's limit has room for all of it, never for another class or
// when the room is short; reported usage is charged to the limit exactly
// once per usage id (a repeated report is a duplicate), counted in the
// metrics, and overshoot past a full limit is reported, not hidden.
#include "server/leases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/snapshot.h"
#include "config/snapshot_holder.h"
#include "ratelimit/clock.h"
#include "ratelimit/memory_store.h"
#include "server/policy_metrics.h"
#include "server/policy_service.h"
#include "support/metrics.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;
using ::testing::HasSubstr;

constexpr char kConfig[] = R"(
limits:
  - name: per-sender
    key: "{sender}"
    windows: [{limit: 10, period: 1h}]
  - name: per-recipient-domain
    key: "{sender}:{recipient_domain}"
    windows: [{limit: 1, period: 1h}]
ratelimit:
  class_header: X-Hive-Class
degraded:
  classes:
    - {class: Transactional, lease_messages: 4, lease_ttl: 5m}
)";

constexpr char kSender[] = "receipts@shop.example";

class LeasesTest : public ::testing::Test {
 protected:
  LeasesTest() {
    absl::StatusOr<config::SnapshotPtr> snapshot = config::LoadSnapshotFromText(kConfig, "test.yaml");
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    holder_ = std::make_unique<config::SnapshotHolder>("test.yaml", *snapshot);
    service_ = std::make_unique<PolicyServiceImpl>(*holder_, limiter_, &metrics_);
  }

  // One whole transaction (RCPT then end of message) through the service.
  v1::Verdict Deliver(const std::string& txn, const std::string& message_class, const std::string& rcpt) {
    v1::RecipientRequest r;
    r.mutable_transaction()->set_id(txn);
    r.mutable_transaction()->mutable_sender()->set_address(kSender);
    r.mutable_recipient()->set_address(rcpt);
    v1::Verdict at_rcpt;
    EXPECT_TRUE(service_->CheckRecipient(nullptr, &r, &at_rcpt).ok());
    EXPECT_EQ(at_rcpt.action(), v1::ACTION_CONTINUE) << rcpt;
    v1::MessageRequest m;
    *m.mutable_transaction() = r.transaction();
    *m.add_recipients() = r.recipient();
    v1::Header& h = *m.add_headers();
    h.set_name("x-hive-class");
    h.set_value(message_class);
    m.set_body("hi\r\n");
    m.set_body_size(4);
    v1::Verdict verdict;
    EXPECT_TRUE(service_->CheckMessage(nullptr, &m, &verdict).ok());
    return verdict;
  }

  v1::LeaseUsageReply Report(const std::vector<std::string>& ids) {
    v1::LeaseUsageReport report;
    for (const std::string& id : ids) {
      v1::LeaseUsage& u = *report.add_usages();
      u.set_usage_id(id);
      u.set_sender(kSender);
      u.set_message_class("transactional");
      u.set_recipients(1);
    }
    v1::LeaseUsageReply reply;
    const grpc::Status st = service_->ReportLeaseUsage(nullptr, &report, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply;
  }

  // What the per-sender window has left (peeked through a CheckSender).
  std::int64_t Remaining() {
    v1::SenderRequest r;
    r.mutable_transaction()->set_id("peek");
    r.mutable_transaction()->mutable_sender()->set_address(kSender);
    v1::Verdict v;
    EXPECT_TRUE(service_->CheckSender(nullptr, &r, &v).ok());
    if (v.action() == v1::ACTION_TEMPFAIL) return 0;  // not even one more
    for (const v1::LimitStatus& s : v.limits()) {
      if (s.rule() == "per-sender") return s.remaining() + 1;  // a peek shows what is left after one more
    }
    ADD_FAILURE() << "no per-sender window in the verdict";
    return -1;
  }

  ratelimit::ManualClock clock_;
  ratelimit::MemoryStore store_{clock_};
  ratelimit::Limiter limiter_{store_, clock_};
  metrics::Registry registry_;
  PolicyMetrics metrics_{registry_};
  std::unique_ptr<config::SnapshotHolder> holder_;
  std::unique_ptr<PolicyServiceImpl> service_;
};

TEST_F(LeasesTest, DeliveredTransactionalMessageCarriesALeaseForItsSenderAndClass) {
  const v1::Verdict v = Deliver("t1", "transactional", "a@one.example");
  ASSERT_TRUE(v.has_lease());
  EXPECT_EQ(v.lease().sender(), kSender);
  EXPECT_EQ(v.lease().message_class(), "transactional");
  EXPECT_EQ(v.lease().units(), 4u);
  EXPECT_EQ(v.lease().ttl_ms(), 300'000);
  EXPECT_THAT(registry_.Render(), HasSubstr("hive_policyd_lease_events_total{event=\"granted\"} 1"));
}

TEST_F(LeasesTest, NoLeaseForAnotherClassOrWithoutClass) {
  EXPECT_FALSE(Deliver("t1", "marketing", "a@one.example").has_lease());
  EXPECT_FALSE(Deliver("t2", "", "a@two.example").has_lease());
}

TEST_F(LeasesTest, NoLeaseOnceTheLimitHasNoRoomForAllOfIt) {
  // 10 per hour: after 6 delivered, 4 are left (a lease still fits), after
  // the 7th only 3.
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(Deliver(absl::StrCat("t", i), "transactional", absl::StrCat("a@d", i, ".example")).has_lease()) << i;
  }
  EXPECT_FALSE(Deliver("t6", "transactional", "a@d6.example").has_lease());
  // Time refills the window (one unit per 6 min): after 12 min, room for
  // the next message and a whole lease after it.
  clock_.Advance(std::chrono::minutes(12));
  EXPECT_TRUE(Deliver("t7", "transactional", "a@d7.example").has_lease());
}

TEST_F(LeasesTest, ReportedUsageIsChargedToTheLimitOnceAndCounted) {
  ASSERT_TRUE(Deliver("t1", "transactional", "a@one.example").has_lease());
  EXPECT_EQ(Remaining(), 9);
  v1::LeaseUsageReply reply = Report({"u1", "u2", "u3"});
  EXPECT_EQ(reply.charged(), 3u);
  EXPECT_EQ(reply.duplicates(), 0u);
  EXPECT_EQ(Remaining(), 6) << "the leased messages count against the sender's limit";
  // The reply was lost and the milter reports again: nothing twice.
  reply = Report({"u1", "u2", "u3"});
  EXPECT_EQ(reply.charged(), 0u);
  EXPECT_EQ(reply.duplicates(), 3u);
  EXPECT_EQ(Remaining(), 6);
  const std::string text = registry_.Render();
  EXPECT_THAT(text, HasSubstr("hive_policyd_lease_events_total{event=\"charged\"} 3"));
  EXPECT_THAT(text, HasSubstr("hive_policyd_lease_events_total{event=\"duplicate\"} 3"));
}

TEST_F(LeasesTest, UsagePastAFullLimitIsReportedAsOvershoot) {
  for (int i = 0; i < 10; ++i) Deliver(absl::StrCat("t", i), "", absl::StrCat("a@d", i, ".example"));
  EXPECT_EQ(Remaining(), 0);
  const v1::LeaseUsageReply reply = Report({"late"});
  EXPECT_EQ(reply.charged(), 1u);
  EXPECT_THAT(registry_.Render(), HasSubstr("hive_policyd_lease_events_total{event=\"over_limit\"} 1"));
}

TEST_F(LeasesTest, ReportWithoutUsageIdIsRefused) {
  v1::LeaseUsageReport report;
  report.add_usages()->set_sender(kSender);
  v1::LeaseUsageReply reply;
  EXPECT_EQ(service_->ReportLeaseUsage(nullptr, &report, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(LeaseConfigTest, DegradedClassesAreValidated) {
  auto load = [](const std::string& yaml) { return config::LoadSnapshotFromText(yaml, "t.yaml").status(); };
  EXPECT_THAT(std::string(load("degraded: {classes: [{class: t, lease_messages: 5}]}\n").message()),
              HasSubstr("needs ratelimit.class_header"));
  const std::string header = "ratelimit: {class_header: X-C}\n";
  EXPECT_THAT(std::string(load(header + "degraded: {classes: [{class: t, lease_messages: 0}]}\n").message()),
              HasSubstr("lease_messages: must be 1..1000"));
  EXPECT_THAT(std::string(load(header + "degraded: {classes: [{class: t, lease_messages: 5, lease_ttl: 2d}]}\n")
                              .message()),
              HasSubstr("lease_ttl"));
  EXPECT_THAT(std::string(load(header + "degraded: {classes: [{class: t, lease_messages: 5}, {class: T, "
                                        "lease_messages: 5}]}\n")
                              .message()),
              HasSubstr("listed twice"));
  EXPECT_TRUE(load(header + "degraded: {classes: [{class: t, lease_messages: 5}]}\n").ok());
}

}  // namespace
}  // namespace hive::policy::server
