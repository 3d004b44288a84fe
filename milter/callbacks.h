// The libmilter side of hive-milter: the xxfi_* callbacks (extern "C"
// trampolines into Session) and the filter description for smfi_register.
//
// Usage (main.cc): InstallRuntime(settings, client) once before smfi_main,
// then smfi_register(FilterDescription()). Each callback fetches the Session
// with smfi_getpriv, catches every exception (answering tempfail: no
// exception may unwind into libmilter's C frames) and never returns
// SMFIS_ACCEPT.
//
// Thread-safety: libmilter calls these from many threads at once, one
// connection per thread at a time; the installed runtime is immutable and
// the PolicyClient thread-safe.
#pragma once

#include <memory>

#include "milter/config.h"
#include "milter/lease_table.h"
#include "milter/policy_client.h"
#include "milter/stage_plan.h"

struct smfiDesc;

namespace hive::milter {

// What every session needs. Must outlive smfi_main. `leases` (degraded
// mode) may be null: no lease is kept or spent. `stages` may be null: every
// stage is asked.
void InstallRuntime(std::shared_ptr<const Settings> settings, PolicyClient* policy, LeaseTable* leases = nullptr,
                    StagePlan* stages = nullptr);

// Connections between xxfi_connect and xxfi_close, for draining at stop.
int ActiveSessions();

// Name, version, requested actions and callbacks, for smfi_register.
smfiDesc FilterDescription();

}  // namespace hive::milter
