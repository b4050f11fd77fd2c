#!/usr/bin/env bash
# On the GPU machine: lumen's device bench and PyTorch's peer script, run one
# after the other on the same GPU, then the joined table. Arguments (groups,
# --small) go to both programs' group lists; outputs land in $OUT (default
# ./bench-out): lumen.txt, torch.txt, table.txt.
#   LUMEN_DEVICE_BENCH   the device_bench binary (default .device/bin/device_bench)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-bench-out}"
bin="${LUMEN_DEVICE_BENCH:-.device/bin/device_bench}"
mkdir -p "$out"

lumen_args=()
torch_args=()
for a in "$@"; do
  lumen_args+=("$a")
  [[ "$a" == --* ]] || torch_args+=("$a")
done

"$bin" "${lumen_args[@]}" > "$out/lumen.txt"
python3 "$here/peers/torch_bench.py" "${torch_args[@]}" > "$out/torch.txt"
python3 "$here/peers/compare.py" "$out/lumen.txt" "$out/torch.txt" | tee "$out/table.txt"
