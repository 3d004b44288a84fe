#!/usr/bin/env bash
# The Postfix pool files shipped in deploy/postfix/ are what
# hive-postfix-config generates from deploy/config/policyd.yaml, so the
# example routing config and the example Postfix config cannot drift.
#   check-postfix-config.sh HIVE_POSTFIX_CONFIG_BIN SOURCE_DIR [--write]
# --write regenerates them in place (after changing routing in policyd.yaml).
set -euo pipefail
bin=$1
src=$2
mode=${3:-check}
files=(hive_pools hive_strip master.cf.hive main.cf.hive)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" --config "$src/deploy/config/policyd.yaml" --out "$out"
if [[ $mode == --write ]]; then
  for f in "${files[@]}"; do cp "$out/$f" "$src/deploy/postfix/$f"; done
  exit 0
fi
status=0
for f in "${files[@]}"; do
  if ! diff -u "$src/deploy/postfix/$f" "$out/$f"; then
    echo "check-postfix-config: deploy/postfix/$f is stale; run: $0 $bin $src --write" >&2
    status=1
  fi
done
exit $status
