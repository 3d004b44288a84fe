#!/usr/bin/env bash
# The one command that sets up and runs hive on a fresh Debian 12 machine, as
# root: installs what is missing, builds, then starts hive-policyd (in-memory
# store, deploy/config/policyd.yaml), hive-milter (deploy/config/milter.yaml)
# and a throwaway Postfix on 127.0.0.1:2525 relaying to a local sink.
# Prints how to send a test message; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ "$(id -u)" = 0 ] || { echo "demo: run as root (Postfix's master needs it)" >&2; exit 1; }
./deploy/install-deps.sh

build=${HIVE_BUILD_DIR:-build/release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target hive-policyd hive-milter hive-sandbox

exec "$build/tests/integration/hive-sandbox" \
  --policy-config deploy/config/policyd.yaml \
  --milter-config deploy/config/milter.yaml \
  --smtp-port "${SMTP_PORT:-2525}"
