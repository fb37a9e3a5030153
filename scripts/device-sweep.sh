#!/usr/bin/env bash
# The whole GPU-machine benchmark sweep in one command (device time is scarce).
# Run through the device tool after `bash ../shared/gpu/device-prepare.sh`:
#   carry [".device"], command: bash .device/run.sh bash scripts/device-sweep.sh
# Writes everything under $OUT (or ./bench-results) and prints a short summary last.
set -uo pipefail
out=${OUT:-bench-results}
mkdir -p "$out"
cli="node packages/cli/dist/src/main.js"
step() { echo "== $*" >&2; }

step info
$cli info --json > "$out/info.json" 2> "$out/info.err"

step "gpu micro-benchmark (transfers, round trip, resident vector add)"
node --input-type=module -e '
import { GpuDeviceManager, measureGpu } from "@supervm/gpu-executor";
const d = new GpuDeviceManager();
console.log(JSON.stringify(await measureGpu(d, { transferBytes: [4 << 20, 64 << 20, 256 << 20], residentElements: [1 << 20, 1 << 24, 1 << 26] }), null, 1));
await d.close();' > "$out/gpu-micro.json" 2> "$out/gpu-micro.err"

step "supervm bench (every kernel, every device, peers)"
timeout 420 $cli bench ${SWEEP_BENCH_ARGS:-} --json "$out/bench-h100.json" --markdown "$out/bench-h100.md" --chart "$out/bench-h100.svg" > "$out/bench.txt" 2> "$out/bench.err"

if $cli run --help >/dev/null 2>&1; then
  step "supervm run (end to end, GPU verification)"
  timeout 120 $cli run --blocks 3 --txs 20000 --accounts 100000 --conflict 0.01 --data /tmp/supervm-data --json > "$out/run.json" 2> "$out/run.err"
fi

echo "---- summary"
cat "$out/gpu-micro.json" | head -c 1500; echo
tail -n 40 "$out/bench.txt"
