// systemd readiness (Type=notify) without libsystemd: the notify protocol is
// one datagram of "KEY=value" lines sent to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace; see
// sd_notify(3)). Twenty lines of our own avoid a runtime dependency on
// libsystemd for two messages, and behave identically outside systemd.
//
// Contract: Notify() does nothing and returns OK when NOTIFY_SOCKET is unset
// or empty (not started by systemd); otherwise it sends `state` in one
// datagram and returns the error if that failed. Daemons call NotifyReady()
// only once their listening socket accepts connections, so that units
// ordered After= them never race the bind.
//
// Thread-safety: thread-safe (reads the environment, one socket per call).
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace hive::notify {

absl::Status Notify(std::string_view state);

// READY=1 plus a STATUS= line shown by `systemctl status`.
absl::Status NotifyReady(std::string_view status);

// STOPPING=1: systemd shows "deactivating" while the daemon drains.
absl::Status NotifyStopping();

}  // namespace hive::notify
