// Everything a Session asks of the MTA for one callback: read a macro, set the
// SMTP reply, and at end of message edit headers, change the sender and
// quarantine. An interface so that Session is testable without libmilter;
// LibmilterActions is the real one over an SMFICTX.
//
// Usage: callbacks build a LibmilterActions(ctx) on the stack for the
// duration of one callback and pass it to the Session.
//
// Thread-safety: an instance belongs to one callback of one connection;
// libmilter never runs two callbacks of one connection at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "milter/decision.h"

struct smfi_str;

namespace hive::milter {

class Actions {
 public:
  virtual ~Actions() = default;

  // The value of an MTA macro ("i", "{client_addr}"), or nullopt when the MTA
  // did not send it.
  virtual std::optional<std::string> Macro(std::string_view name) = 0;

  // The reply for a tempfail/reject returned from this callback; several
  // lines give a multi-line reply. `reply` is already validated (decision.h).
  virtual absl::Status SetReply(const SmtpReply& reply) = 0;

  // End of message only.
  virtual absl::Status AddHeader(std::string_view name, std::string_view value) = 0;
  virtual absl::Status InsertHeader(int index, std::string_view name, std::string_view value) = 0;
  // `index` is the 1-based occurrence of `name`; an empty value deletes it.
  virtual absl::Status ChangeHeader(std::string_view name, int index, std::string_view value) = 0;
  virtual absl::Status ChangeFrom(std::string_view address, std::string_view esmtp_args) = 0;
  virtual absl::Status Quarantine(std::string_view reason) = 0;
};

class LibmilterActions final : public Actions {
 public:
  explicit LibmilterActions(smfi_str* ctx) : ctx_(ctx) {}

  std::optional<std::string> Macro(std::string_view name) override;
  absl::Status SetReply(const SmtpReply& reply) override;
  absl::Status AddHeader(std::string_view name, std::string_view value) override;
  absl::Status InsertHeader(int index, std::string_view name, std::string_view value) override;
  absl::Status ChangeHeader(std::string_view name, int index, std::string_view value) override;
  absl::Status ChangeFrom(std::string_view address, std::string_view esmtp_args) override;
  absl::Status Quarantine(std::string_view reason) override;

 private:
  smfi_str* ctx_;
};

}  // namespace hive::milter
