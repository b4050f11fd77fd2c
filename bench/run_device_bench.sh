#!/usr/bin/env bash
# On the GPU machine: lumen's device bench and PyTorch's peer script, run one
# after the other on the same GPU, then the joined table. Arguments (groups)
# go to both programs; flags (--small, --reps N, --filter TEXT) to lumen's
# only. Outputs land in $OUT (default ./bench-out): lumen.txt, torch.txt,
# table.txt.
#   LUMEN_DEVICE_BENCH   the device_bench binary (default .device/bin/device_bench)
#   LUMEN_DEVICE_LIBS    a folder of shared libraries the binary needs there
#                        (liblumen, fmt, spdlog, the Vulkan loader libvulkan.so.1
#                        and glvnd's libGLdispatch.so.0, which NVIDIA's Vulkan
#                        driver loads; default .device/lib)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-bench-out}"
bin="${LUMEN_DEVICE_BENCH:-.device/bin/device_bench}"
libs="${LUMEN_DEVICE_LIBS:-.device/lib}"
mkdir -p "$out"

# NVIDIA's driver folder holds its Vulkan ICD but is not on the loader's path.
nvidia=/usr/local/nvidia
if [[ -z "${VK_DRIVER_FILES:-}" && -f $nvidia/share/vulkan/icd.d/nvidia_icd.json ]]; then
  export VK_DRIVER_FILES=$nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export LD_LIBRARY_PATH="$(realpath -m "$libs"):$nvidia/lib64:$nvidia/lib:${LD_LIBRARY_PATH:-}"

lumen_args=()
torch_args=()
while (($#)); do
  case "$1" in
    --reps | --filter) lumen_args+=("$1" "$2"); shift 2 ;;
    --*) lumen_args+=("$1"); shift ;;
    *) lumen_args+=("$1"); torch_args+=("$1"); shift ;;
  esac
done

LUMEN_DEVICE=gpu "$bin" "${lumen_args[@]}" > "$out/lumen.txt"
python3 "$here/peers/torch_bench.py" "${torch_args[@]}" > "$out/torch.txt"
python3 "$here/peers/compare.py" "$out/lumen.txt" "$out/torch.txt" | tee "$out/table.txt"
