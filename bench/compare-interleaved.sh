#!/bin/bash
# Compares two builds of the collector on the harness's mixes, interleaved
# setup by setup: this VM's speed drifts by tens of percent within minutes,
# so two harness runs one after the other do not compare.
#
#   bench/compare-interleaved.sh OLD_BIN OLD_CONFIG [ROUNDS] [MIXES]
#
# OLD_BIN is an older bin/sandwatch, OLD_CONFIG the default.yaml it shipped
# with (git show REV:config/default.yaml). Prints one line per run:
# "before"/"after", the setup, the mix and spans (records) per CPU-second.
set -euo pipefail
old_bin=$1 old_cfg=$2 rounds=${3:-2} mixes=${4:-simulator,secret-heavy,agent}
cd "$(dirname "$0")/.."
h() { go run ./bench/harness --duration 12s --warmup 3s --out /dev/null "$@" 2>&1 | grep "spans/CPU-s\|records/CPU-s"; }
old=(--bin "$old_bin" --sandwatch-config "$old_cfg")
for mix in ${mixes//,/ }; do
  h --mixes "$mix" --only passthrough,stock | sed 's/^/after  /'
  for _ in $(seq "$rounds"); do
    h --mixes "$mix" --only sandwatch "${old[@]}" | sed 's/^/before /'
    h --mixes "$mix" --only sandwatch | sed 's/^/after  /'
  done
  h --mixes "$mix" --only no-archive "${old[@]}" | sed 's/^/before /'
  h --mixes "$mix" --only no-archive | sed 's/^/after  /'
done
