#!/usr/bin/env bash
# deploy/sendmail/hive-pools.m4 is what hive-sendmail-config generates from
# deploy/config/policyd.yaml, so the example routing config and the example
# Sendmail rules cannot drift.
#   check-sendmail-config.sh HIVE_SENDMAIL_CONFIG_BIN SOURCE_DIR [--write]
# --write regenerates it in place (after changing routing in policyd.yaml).
set -euo pipefail
bin=$1
src=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" --config "$src/deploy/config/policyd.yaml" --out "$out"
if [[ ${3:-} == --write ]]; then
  cp "$out" "$src/deploy/sendmail/hive-pools.m4"
elif ! diff -u "$src/deploy/sendmail/hive-pools.m4" "$out"; then
  echo "check-sendmail-config: deploy/sendmail/hive-pools.m4 is stale; run: $0 $bin $src --write" >&2
  exit 1
fi
