#!/usr/bin/env bash
# Every policy example the docs show must be valid: hive-policyd --check on
# docs/examples/*.yaml and on the packaged deploy/config/policyd.yaml.
#   check-examples.sh HIVE_POLICYD_BIN SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
status=0
for f in "$src"/docs/examples/*.yaml "$src"/deploy/config/policyd.yaml; do
  if ! "$bin" --check --config "$f"; then
    echo "check-examples: $f is not a valid hive-policyd config" >&2
    status=1
  fi
done
exit $status
