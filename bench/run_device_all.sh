#!/usr/bin/env bash
# On the GPU machine: every device-bench group beside its torch peer, one group
# at a time (a slow or failing group cannot take the others down), then the
# lumen-only groups (a tensor past 4 GiB, large random requests, matmul
# checks). Prints everything and keeps it in $OUT/tables.txt, with the raw
# ROW/PEAK/LARGE/CHECK lines in $OUT/raw.tgz.
#   BENCH_GROUPS  peer groups to run (default: core index random transforms sampling attention)
#   GROUP_SECONDS time limit of one group, lumen and torch together (default 150)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-bench-out}"
bin="${LUMEN_DEVICE_BENCH:-.device/bin/device_bench}"
mkdir -p "$out"
raw="$(mktemp -d)"
{
  for g in ${BENCH_GROUPS:-core random index transforms sampling attention}; do
    echo "== $g"
    OUT="$raw/$g" timeout "${GROUP_SECONDS:-150}" bash "$here/run_device_bench.sh" "$g" > /dev/null 2>&1 ||
      echo "# $g: stopped with status $?"
    cat "$raw/$g/table.txt" 2>/dev/null
    grep -h "^PEAK\|not run" "$raw/$g/lumen.txt" "$raw/$g/torch.txt" 2>/dev/null
  done
  for g in big random_large matmul_check; do
    echo "== $g"
    LUMEN_DEVICE=gpu timeout 150 "$bin" "$g" 2>&1 | tee "$raw/$g.txt" | grep -v "^ROW"
  done
} 2>&1 | tee "$out/tables.txt"
tar czf "$out/raw.tgz" -C "$raw" .
