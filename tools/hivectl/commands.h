// hivectl's commands: each turns parsed arguments (cli.h) into one or two
// AdminService calls and prints the answer, as human text / tables by
// default or as JSON (--json) for scripts. One file per group:
// commands.cc (status, policy, counters, dry-run, dispatch),
// content_commands.cc (learn, fingerprint), tail_command.cc (tail),
// rules_commands.cc (rules, pools, and the command names),
// mta_commands.cc (postfix-config, sendmail-config).
//
// Not thread-safe (one command per process).
#pragma once

#include <ostream>

#include "cli.h"

namespace hive::ctl {

// Runs the command named by args.positional; returns the exit code.
int Run(Context& ctx, const Args& args);

// The running policy (GetPolicy); false with the exit code set on failure.
bool GetRunningPolicy(Context& ctx, hive::admin::v1::PolicyDocument& doc, int& code);

// An ApplyReply: "applied: version V (was P)" and the changes, or JSON.
int PrintApply(const Context& ctx, const hive::admin::v1::ApplyReply& r);

int Learn(Context& ctx, const Args& args);
int Fingerprint(Context& ctx, const Args& args);
int Tail(Context& ctx, const Args& args);
// rules_commands.cc: rules, pools, and quota / check / decisions (aliases).
int Rules(Context& ctx, const Args& args);
int Pools(Context& ctx, const Args& args);
int Alias(Context& ctx, const Args& args);
// mta_commands.cc: the MTA side of the running policy's pools.
int PostfixConfig(Context& ctx, const Args& args);
int SendmailConfig(Context& ctx, const Args& args);

void PrintUsage(std::ostream& out);

}  // namespace hive::ctl
