// Process-wide settings both daemons apply first thing in main(), before any
// thread starts.
//
// PrepareProcess: turns off absl::Mutex deadlock detection. Debian's abseil
// is built without NDEBUG, so every absl::Mutex (gRPC's locks are absl
// Mutexes) keeps a lock graph and records stack traces: measured at 2-3 %
// of hive-milter's and hive-policyd's CPU under load (perf, docs/
// benchmarks.md). A debugging aid for absl's own tests, not for a mail
// filter in production; our sanitizer builds keep finding real deadlocks.
#pragma once

namespace hive::support {

void PrepareProcess();

}  // namespace hive::support
