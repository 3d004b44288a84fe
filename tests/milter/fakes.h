// Test doubles for Session: a scripted PolicyClient that records requests,
// and an Actions that records what the milter asked of the MTA.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "milter/actions.h"
#include "milter/policy_client.h"

namespace hive::milter::testing {

namespace pb = hive::policy::v1;

inline pb::Verdict Continue() {
  pb::Verdict v;
  v.set_action(pb::ACTION_CONTINUE);
  return v;
}

// Each Check* pops the next scripted answer, or answers CONTINUE.
class FakePolicyClient : public PolicyClient {
 public:
  std::deque<absl::StatusOr<pb::Verdict>> sender_answers, recipient_answers, message_answers;
  absl::Status end_answer = absl::OkStatus();

  std::vector<pb::SenderRequest> sender_requests;
  std::vector<pb::RecipientRequest> recipient_requests;
  std::vector<pb::MessageRequest> message_requests;
  std::vector<pb::EndTransactionRequest> end_requests;

  absl::StatusOr<pb::Verdict> CheckSender(const pb::SenderRequest& r) override {
    sender_requests.push_back(r);
    return Next(sender_answers);
  }
  absl::StatusOr<pb::Verdict> CheckRecipient(const pb::RecipientRequest& r) override {
    recipient_requests.push_back(r);
    return Next(recipient_answers);
  }
  absl::StatusOr<pb::Verdict> CheckMessage(const pb::MessageRequest& r) override {
    message_requests.push_back(r);
    return Next(message_answers);
  }
  absl::Status EndTransaction(const pb::EndTransactionRequest& r) override {
    end_requests.push_back(r);
    return end_answer;
  }
  // Degraded mode: each report pops the next scripted answer, or charges
  // every usage.
  std::deque<absl::StatusOr<pb::LeaseUsageReply>> lease_answers;
  std::vector<pb::LeaseUsageReport> lease_reports;
  absl::StatusOr<pb::LeaseUsageReply> ReportLeaseUsage(const pb::LeaseUsageReport& r) override {
    lease_reports.push_back(r);
    if (lease_answers.empty()) {
      pb::LeaseUsageReply reply;
      reply.set_charged(static_cast<uint32_t>(r.usages_size()));
      return reply;
    }
    absl::StatusOr<pb::LeaseUsageReply> a = std::move(lease_answers.front());
    lease_answers.pop_front();
    return a;
  }

 private:
  static absl::StatusOr<pb::Verdict> Next(std::deque<absl::StatusOr<pb::Verdict>>& q) {
    if (q.empty()) return Continue();
    absl::StatusOr<pb::Verdict> v = std::move(q.front());
    q.pop_front();
    return v;
  }
};

// Records every MTA operation as a line ("add X-Hive-Pool: bulk").
class FakeActions : public Actions {
 public:
  std::map<std::string, std::string> macros;
  std::vector<SmtpReply> replies;
  std::vector<std::string> ops;
  bool fail_edits = false;

  std::optional<std::string> Macro(std::string_view name) override {
    auto it = macros.find(std::string(name));
    if (it == macros.end()) return std::nullopt;
    return it->second;
  }
  absl::Status SetReply(const SmtpReply& reply) override {
    replies.push_back(reply);
    return absl::OkStatus();
  }
  absl::Status AddHeader(std::string_view name, std::string_view value) override {
    return Record(absl::StrCat("add ", std::string(name), ": ", std::string(value)));
  }
  absl::Status InsertHeader(int index, std::string_view name, std::string_view value) override {
    return Record(absl::StrCat("insert ", index, " ", std::string(name), ": ", std::string(value)));
  }
  absl::Status ChangeHeader(std::string_view name, int index, std::string_view value) override {
    return Record(value.empty() ? absl::StrCat("delete ", std::string(name), " ", index)
                                : absl::StrCat("change ", std::string(name), " ", index, ": ", std::string(value)));
  }
  absl::Status ChangeFrom(std::string_view address, std::string_view args) override {
    return Record(absl::StrCat("chgfrom <", std::string(address), "> ", std::string(args)));
  }
  absl::Status Quarantine(std::string_view reason) override {
    return Record(absl::StrCat("quarantine ", std::string(reason)));
  }

 private:
  absl::Status Record(std::string op) {
    ops.push_back(std::move(op));
    return fail_edits ? absl::InternalError("MTA refused") : absl::OkStatus();
  }
};

}  // namespace hive::milter::testing
