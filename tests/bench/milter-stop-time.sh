#!/usr/bin/env bash
# How long hive-milter takes from SIGTERM to exit, idle (no MTA connected):
# before StopWaker (milter/stop_waker.h) libmilter's listener noticed a stop
# only after its 5 s select() timeout.
#   milter-stop-time.sh HIVE_MILTER_BIN [RUNS]
# Prints one line per run. Loopback only; each milter stopped by its PID.
set -euo pipefail
bin=$1
runs=${2:-5}
port=$((20000 + RANDOM % 10000))  # below the ephemeral range (32768-)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for i in $(seq "$runs"); do
  "$bin" --listen "inet:$port@127.0.0.1" --policy 127.0.0.1:1 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 250); do grep -q "$(printf ':%04X ' "$port")" /proc/net/tcp && break; sleep 0.02; done
  sleep 0.3
  start=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" || true
  end=$(date +%s%N)
  echo "run $i: $(((end - start) / 1000000)) ms"
  port=$((port + 1))
done
