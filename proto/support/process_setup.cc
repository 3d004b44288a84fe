#include "support/process_setup.h"

#include "absl/synchronization/mutex.h"

namespace hive::support {

void PrepareProcess() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace hive::support
