#!/usr/bin/env bash
# Runs a miltertest Lua script against a real hive-milter backed by a real
# hive-policyd, both started here on free loopback ports and stopped by PID.
# ctest runs it (label integration); by hand:
#
#   tests/integration/miltertest/run-miltertest.sh POLICYD MILTER SCRIPT.lua POLICY.yaml
#
# Exit status: miltertest's (0 = every check passed). The daemons' logs are
# printed when it fails. Every wait is bounded.
set -euo pipefail

policyd_bin=$1 milter_bin=$2 script=$3 policy=$4
command -v miltertest >/dev/null || { echo "miltertest is not installed (deploy/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/hive-miltertest.XXXXXX)
pids=()
stop() {
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # libmilter needs up to ~5 s to notice the signal.
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ -n "${HIVE_KEEP_TEST_DIRS:-}" ] || rm -rf "$work"
}
trap stop EXIT

# True when 127.0.0.1:$1 is in LISTEN state (no probe connection: a probe
# would be a milter session of its own). gRPC listens on a dual-stack socket:
# 127.0.0.1 then shows in tcp6 as ::ffff:127.0.0.1.
listening() {
  local port
  port=$(printf '%04X' "$1")
  grep -q " 0100007F:$port 00000000:0000 0A " /proc/net/tcp ||
    grep -q " 0000000000000000FFFF00000100007F:$port 00000000000000000000000000000000:0000 0A " /proc/net/tcp6
}
wait_listening() { # port pid name
  local i
  for ((i = 0; i < 300; i++)); do
    listening "$1" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$3 did not listen on 127.0.0.1:$1" >&2
  cat "$work"/*.log >&2
  exit 1
}
# A port nothing listens on; the daemons fail loudly if it was taken meanwhile.
# Below the kernel's ephemeral range: there, a client connection of a
# concurrent test can hold the port without listening (seen once in CI).
# Above the 10000-19999 that the C++ tests' FreePort() hands out.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
[ "$ephemeral_low" -gt 21000 ] 2>/dev/null || ephemeral_low=60000
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % (ephemeral_low - 20000)))
    listening "$port" || { echo "$port"; return; }
  done
}

policy_port=$(free_port)
milter_port=$(free_port)
while [ "$milter_port" = "$policy_port" ]; do milter_port=$(free_port); done
: >"$work/milter.yaml"

"$policyd_bin" --config "$policy" --listen "127.0.0.1:$policy_port" >"$work/policyd.log" 2>&1 &
pids+=($!)
wait_listening "$policy_port" "${pids[-1]}" hive-policyd
"$milter_bin" --config "$work/milter.yaml" --listen "inet:$milter_port@127.0.0.1" \
  --policy "127.0.0.1:$policy_port" >"$work/milter.log" 2>&1 &
pids+=($!)
wait_listening "$milter_port" "${pids[-1]}" hive-milter

status=0
timeout 60 miltertest -s "$script" -D "sock=inet:$milter_port@127.0.0.1" || status=$?
if [ "$status" != 0 ]; then
  echo "miltertest failed (exit $status); hive-milter and hive-policyd logs:" >&2
  cat "$work/milter.log" "$work/policyd.log" >&2
fi
exit "$status"
